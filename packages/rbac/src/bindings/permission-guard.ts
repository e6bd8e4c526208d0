import { z } from 'zod';
import type { CheckContext, PermissionChecker } from '../authorizer/authorizer-contract.js';
import type { CompiledPermissions } from '../compiler/compiled-permissions.js';
import type { ResourceAttributes } from '../conditions/condition.js';
import { RbacError } from '../errors.js';
import type { RbacPrincipal } from '../principal.js';
import { assertConcretePermission } from '../rules/permission-pattern.js';

/*
 * What the Express and Fastify bindings share: how they check their options, and how one
 * request is authorized. The bindings only adapt this to their framework; no decision is made
 * here that the checker does not make.
 */

/** A value, or a promise of it: app callbacks may answer either way. */
type MaybePromise<T> = T | PromiseLike<T>;

/**
 * Reads the principal of a request (what auth set on it). `null` or `undefined` means nobody is
 * signed in, which the guards answer with `PRINCIPAL_REQUIRED` (401).
 *
 * @example
 * ```ts
 * const getPrincipal: PrincipalGetter<Request> = (req) => (req.user ? { kind: 'user', id: req.user.id } : null);
 * ```
 */
export type PrincipalGetter<Request> = (request: Request) => MaybePromise<RbacPrincipal | null | undefined>;

/**
 * The options every binding takes: the checker to ask and how to find the request's principal.
 *
 * @example
 * ```ts
 * const options: RbacBindingOptions<Request> = { checker: rbac, getPrincipal: (req) => req.principal ?? null };
 * ```
 */
export interface RbacBindingOptions<Request> {
  /** The checker from `createRbac()` (or any {@link PermissionChecker}). */
  checker: PermissionChecker;
  /** Reads the principal auth attached to the request. */
  getPrincipal: PrincipalGetter<Request>;
}

/**
 * How one guard finds what a check needs besides the principal.
 *
 * - `resource` loads the attributes of the resource (`resource.*` in conditions). Without it a
 *   rule whose condition reads the resource does not apply (fail closed).
 * - `context` supplies request facts (`context.*`, e.g. `{ ip: req.ip }`); a `tenantId` in it
 *   checks in that tenant instead of the current tenant scope.
 *
 * @example
 * ```ts
 * const options: PermissionGuardOptions<Request> = {
 *   resource: (req) => documents.attributes(req.params.id),
 *   context: (req) => ({ ip: req.ip }),
 * };
 * ```
 */
export interface PermissionGuardOptions<Request> {
  resource?: (request: Request) => MaybePromise<ResourceAttributes | undefined>;
  context?: (request: Request) => MaybePromise<CheckContext | undefined>;
}

/**
 * A checked, frozen guard: the concrete permission and its loaders.
 *
 * @example
 * ```ts
 * const guard: PermissionGuard<Request> = parsePermissionGuard('docs:read', undefined, 'requirePermission()');
 * ```
 */
export interface PermissionGuard<Request> extends PermissionGuardOptions<Request> {
  readonly permission: string;
}

/**
 * The answer for one request: allowed with the principal's compiled permissions (for further
 * checks in the handler), or refused with the error to send.
 *
 * @example
 * ```ts
 * const outcome = await authorizeRequest(binding, guard, req);
 * if (!outcome.allowed) return send(outcome.error);
 * ```
 */
export type GuardOutcome =
  | { readonly allowed: true; readonly permissions: CompiledPermissions }
  | { readonly allowed: false; readonly error: RbacError };

const checkerMethods = ['forPrincipal', 'can', 'require', 'explain'] as const;

const checkerSchema = z.custom<PermissionChecker>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    checkerMethods.every((name) => typeof (value as Record<string, unknown>)[name] === 'function'),
  'must be a PermissionChecker (from createRbac())',
);

const callback = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function');

const bindingOptionsSchema = z.object({ checker: checkerSchema, getPrincipal: callback });

const guardOptionsSchema = z.strictObject({ resource: callback.optional(), context: callback.optional() });

/**
 * Checks a binding's options. `strict` rejects unknown keys (a misspelt option); Fastify adds
 * keys of its own (`prefix`) to plugin options, so its binding passes `false`.
 *
 * @throws `CONFIGURATION_INVALID` listing each problem.
 * @example
 * ```ts
 * const binding = parseBindingOptions<Request>(options, 'createRbacMiddleware() options', true);
 * ```
 */
export function parseBindingOptions<Request>(options: unknown, what: string, strict: boolean): RbacBindingOptions<Request> {
  const schema = strict ? bindingOptionsSchema.strict() : bindingOptionsSchema.loose();
  parseOrThrow(schema, options, what);
  const { checker, getPrincipal } = options as RbacBindingOptions<Request>;
  // The caller's own objects are kept (zod would copy them and drop the checker's prototype).
  return Object.freeze({ checker, getPrincipal });
}

/**
 * Checks a guard when it is declared: the permission must be concrete (`docs:read`, no `*`)
 * and the loaders functions. `what` names the options in messages.
 *
 * @throws `PERMISSION_INVALID` for a malformed or wildcard permission; `CONFIGURATION_INVALID`
 *   for bad options.
 * @example
 * ```ts
 * const guard = parsePermissionGuard('docs:update', { resource: loadDoc }, 'requirePermission() options');
 * ```
 */
export function parsePermissionGuard<Request>(
  permission: unknown,
  options: PermissionGuardOptions<Request> | undefined,
  what: string,
): PermissionGuard<Request> {
  assertConcretePermission(permission);
  if (options === undefined) return Object.freeze({ permission });
  parseOrThrow(guardOptionsSchema, options, what);
  return Object.freeze({
    permission,
    ...(options.resource === undefined ? {} : { resource: options.resource }),
    ...(options.context === undefined ? {} : { context: options.context }),
  });
}

/**
 * Authorizes one request: reads the principal, loads the resource and context, and asks the
 * checker. A missing principal is refused with `PRINCIPAL_REQUIRED`, a denial with
 * `PERMISSION_DENIED` whose details name the permission only: which rule decided, and why, stays
 * on the server (`explain()` is there for that). Anything the callbacks or the checker throw
 * rejects the promise, for the framework's error handling.
 *
 * @example
 * ```ts
 * authorizeRequest(binding, guard, req).then((outcome) => (outcome.allowed ? next() : refuse(outcome.error)), next);
 * ```
 */
export function authorizeRequest<Request>(
  binding: RbacBindingOptions<Request>,
  guard: PermissionGuard<Request>,
  request: Request,
): Promise<GuardOutcome> {
  let principal: MaybePromise<RbacPrincipal | null | undefined>;
  try {
    principal = binding.getPrincipal(request);
  } catch (error) {
    return Promise.reject(error);
  }
  if (guard.resource !== undefined || guard.context !== undefined || isThenable(principal)) {
    return authorizeWithLoaders(binding, guard, request, principal);
  }
  // The common case (a principal read synchronously, no loaders): nothing to await before the
  // checker, so this costs the checker's promise and one `then`.
  if (principal === null || principal === undefined) return Promise.resolve(principalRequired(guard));
  let permissions: Promise<CompiledPermissions>;
  try {
    permissions = binding.checker.forPrincipal(principal, undefined);
  } catch (error) {
    return Promise.reject(error);
  }
  return permissions.then((compiled) => outcomeOf(guard, compiled, undefined, undefined));
}

async function authorizeWithLoaders<Request>(
  binding: RbacBindingOptions<Request>,
  guard: PermissionGuard<Request>,
  request: Request,
  read: MaybePromise<RbacPrincipal | null | undefined>,
): Promise<GuardOutcome> {
  const principal = await read;
  if (principal === null || principal === undefined) return principalRequired(guard);
  const resource = guard.resource === undefined ? undefined : await guard.resource(request);
  const context = guard.context === undefined ? undefined : await guard.context(request);
  const tenantId = context?.tenantId;
  const permissions = await binding.checker.forPrincipal(principal, tenantId === undefined ? undefined : { tenantId });
  return outcomeOf(guard, permissions, resource, context);
}

function isThenable<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function principalRequired<Request>(guard: PermissionGuard<Request>): GuardOutcome {
  return {
    allowed: false,
    error: new RbacError('PRINCIPAL_REQUIRED', 'Authentication is required', { details: { permission: guard.permission } }),
  };
}

function outcomeOf<Request>(
  guard: PermissionGuard<Request>,
  permissions: CompiledPermissions,
  resource: ResourceAttributes | undefined,
  context: CheckContext | undefined,
): GuardOutcome {
  if (permissions.can(guard.permission, resource, context)) return { allowed: true, permissions };
  return {
    allowed: false,
    error: new RbacError('PERMISSION_DENIED', `Permission denied: ${guard.permission}`, {
      details: { permission: guard.permission },
    }),
  };
}

function parseOrThrow(schema: z.ZodType, value: unknown, what: string): void {
  const result = schema.safeParse(value);
  if (result.success) return;
  // Paths and messages only: the offending values may be secrets.
  const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
  throw new RbacError('CONFIGURATION_INVALID', `Invalid ${what}: ${summary}`, { details: { issues } });
}
