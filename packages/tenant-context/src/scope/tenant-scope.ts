import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { EventEmitter } from 'node:events';
import { TenantContextError } from '../errors.js';
import { assertTenantId } from '../identifiers.js';
import type { Tenant } from '../tenant.js';

/**
 * The scope a piece of code runs in: one tenant, or the explicit, named system scope for
 * cross-tenant work.
 *
 * @example
 * ```ts
 * const scope = currentScope();
 * if (scope?.kind === 'tenant') console.log(scope.tenantId);
 * ```
 */
export type TenantScope =
  | {
      readonly kind: 'tenant';
      readonly tenantId: string;
      /** The resolved tenant record when the scope was opened with one. */
      readonly tenant: Tenant<unknown> | undefined;
    }
  | {
      readonly kind: 'system';
      /** Why tenant isolation is lifted (for audit), e.g. `'nightly-usage-rollup'`. */
      readonly reason: string;
      /** Who asked for it (a job name or operator id), if known. */
      readonly actor: string | undefined;
      /** Epoch milliseconds when the system scope was entered. */
      readonly enteredAt: number;
    };

/**
 * Receives every entry into the system scope, so audit can record cross-tenant work.
 *
 * @example
 * ```ts
 * const stop = onSystemScopeEntered((scope) => audit.record('system.scope', scope));
 * ```
 */
export type SystemScopeListener = (scope: Extract<TenantScope, { kind: 'system' }>) => void;

interface ScopeRegistry {
  readonly storage: AsyncLocalStorage<TenantScope>;
  readonly systemScopeListeners: Set<SystemScopeListener>;
}

// One storage per process, shared through a global symbol: the ESM and CJS builds, each entry
// point's bundle, and duplicated package copies would otherwise each open scopes the others
// cannot see (a binding opens the scope, requireTenantId() from another copy finds none).
// It never holds data outside an active run().
const SCOPE_REGISTRY_KEY = Symbol.for('@tenantkit/tenant-context/scope-registry@1');
const globalScopeHolder = globalThis as typeof globalThis & { [SCOPE_REGISTRY_KEY]?: ScopeRegistry };
const scopeRegistry: ScopeRegistry = (globalScopeHolder[SCOPE_REGISTRY_KEY] ??= Object.freeze({
  storage: new AsyncLocalStorage<TenantScope>(),
  systemScopeListeners: new Set<SystemScopeListener>(),
}));
const { storage, systemScopeListeners } = scopeRegistry;

/**
 * Runs `fn` inside the scope of one tenant and returns its result. The scope follows every
 * `await`, timer and promise chain started inside `fn`, and ends with it.
 *
 * Opening a scope for a different tenant inside a tenant scope throws
 * `TENANT_SCOPE_CONFLICT`: switching tenants mid-request is how data leaks. Re-entering the
 * same tenant is fine, and so is entering any tenant from the system scope.
 *
 * @param tenant a tenant id or a tenant record (kept for {@link currentTenant}).
 * @example
 * ```ts
 * await runWithTenant('tnt_acme', async () => {
 *   await projects.list(); // tenant-scoped stores read requireTenantId()
 * });
 * ```
 */
export function runWithTenant<R>(tenant: string | Tenant<unknown>, fn: () => R): R {
  // Plain JS callers may pass null or a non-record; that must be a coded error, not a TypeError.
  const tenantId: unknown = typeof tenant === 'object' && tenant !== null ? tenant.id : tenant;
  assertTenantId(tenantId);
  const outer = storage.getStore();
  if (outer?.kind === 'tenant' && outer.tenantId !== tenantId) {
    throw new TenantContextError(
      'TENANT_SCOPE_CONFLICT',
      'Cannot open a scope for another tenant inside a tenant scope; use runAsSystem for cross-tenant work',
    );
  }
  // Frozen like the system scope: currentScope() hands this object out, and nobody holding it
  // may switch the tenant of a running request by assigning to it.
  const scope: TenantScope = Object.freeze({
    kind: 'tenant' as const,
    tenantId,
    tenant: typeof tenant === 'string' ? (outer?.kind === 'tenant' ? outer.tenant : undefined) : tenant,
  });
  return storage.run(scope, fn);
}

/**
 * Options of {@link runAsSystem}.
 *
 * @example
 * ```ts
 * runAsSystem({ reason: 'usage-rollup', actor: 'cron' }, rollUp);
 * ```
 */
export interface SystemScopeOptions {
  /** Why isolation is lifted; required so audit trails are meaningful. */
  reason: string;
  /** The job or operator acting. */
  actor?: string;
}

/**
 * Runs `fn` in the explicit system scope: no tenant is current, and tenant-scoped helpers
 * that call {@link requireTenantId} still throw. Code that is allowed to work across tenants
 * checks {@link isSystemScope}. Every entry is reported to {@link onSystemScopeEntered}
 * listeners.
 *
 * @example
 * ```ts
 * await runAsSystem({ reason: 'nightly-usage-rollup', actor: 'cron' }, async () => {
 *   for (const tenant of await registry.listAllTenants()) await rollUp(tenant);
 * });
 * ```
 */
export function runAsSystem<R>(options: SystemScopeOptions, fn: () => R): R {
  if (typeof options?.reason !== 'string' || options.reason.trim() === '') {
    throw new TenantContextError('VALIDATION_FAILED', 'runAsSystem() needs a non-empty reason');
  }
  const scope = Object.freeze({
    kind: 'system' as const,
    reason: options.reason,
    actor: options.actor,
    enteredAt: Date.now(),
  });
  for (const listener of systemScopeListeners) {
    try {
      // An async listener's rejection would otherwise be unhandled and, by Node's default,
      // crash the process; the return type says void, but async functions still fit it.
      const result: unknown = listener(scope);
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        Promise.resolve(result).catch(() => undefined);
      }
    } catch {
      // An observer must never break the job it observes.
    }
  }
  return storage.run(scope, fn);
}

/**
 * Subscribes to entries into the system scope. Returns the unsubscribe function.
 *
 * @example
 * ```ts
 * const unsubscribe = onSystemScopeEntered(({ reason, actor }) => log.warn({ reason, actor }, 'system scope'));
 * ```
 */
export function onSystemScopeEntered(listener: SystemScopeListener): () => void {
  systemScopeListeners.add(listener);
  return () => {
    systemScopeListeners.delete(listener);
  };
}

/**
 * The active scope, or `undefined` outside any.
 *
 * @example
 * ```ts
 * currentScope()?.kind; // 'tenant' | 'system' | undefined
 * ```
 */
export function currentScope(): TenantScope | undefined {
  return storage.getStore();
}

/**
 * The current tenant id, or `undefined` outside a tenant scope.
 *
 * @example
 * ```ts
 * const tenantId = currentTenantId() ?? 'anonymous';
 * ```
 */
export function currentTenantId(): string | undefined {
  const scope = storage.getStore();
  return scope?.kind === 'tenant' ? scope.tenantId : undefined;
}

/**
 * The current tenant id; throws `TENANT_SCOPE_REQUIRED` outside a tenant scope (the system
 * scope included). Tenant-scoped code calls this so it fails closed.
 *
 * @example
 * ```ts
 * const rows = await db.selectFrom('projects').where('tenant_id', '=', requireTenantId()).execute();
 * ```
 */
export function requireTenantId(): string {
  const scope = storage.getStore();
  if (scope?.kind !== 'tenant') {
    throw new TenantContextError(
      'TENANT_SCOPE_REQUIRED',
      scope?.kind === 'system'
        ? 'This operation is tenant-scoped and cannot run in the system scope'
        : 'This operation is tenant-scoped and no tenant is in scope',
    );
  }
  return scope.tenantId;
}

/**
 * The tenant record the scope was opened with, or `undefined` (outside a tenant scope, or a
 * scope opened with a bare id).
 *
 * @example
 * ```ts
 * const plan = currentTenant()?.plan;
 * ```
 */
export function currentTenant<Settings = unknown>(): Tenant<Settings> | undefined {
  const scope = storage.getStore();
  return scope?.kind === 'tenant' ? (scope.tenant as Tenant<Settings> | undefined) : undefined;
}

/**
 * Whether code runs in the explicit system scope.
 *
 * @example
 * ```ts
 * if (!isSystemScope()) requireTenantId();
 * ```
 */
export function isSystemScope(): boolean {
  return storage.getStore()?.kind === 'system';
}

/**
 * Binds a function to the scope active now, so it runs in that scope wherever it is called
 * from later (callbacks of pooled clients, queues or emitters created elsewhere).
 *
 * @example
 * ```ts
 * const onDone = bindTenantScope(() => audit.record('export.done'));
 * legacyClient.on('finish', onDone);
 * ```
 */
export function bindTenantScope<F extends (...args: never[]) => unknown>(fn: F): F {
  return AsyncResource.bind(fn as unknown as (...args: unknown[]) => unknown) as unknown as F;
}

/**
 * Adds `listener` to `emitter` bound to the scope active now. Event emitters call listeners
 * in the scope of whoever emits, so listeners registered in a request must be bound.
 * Returns a function that removes the listener.
 *
 * @example
 * ```ts
 * const stop = onEventInTenantScope(socket, 'data', (chunk) => usage.add(requireTenantId(), chunk.length));
 * ```
 */
export function onEventInTenantScope<Args extends unknown[]>(
  emitter: EventEmitter,
  eventName: string | symbol,
  listener: (...args: Args) => void,
): () => void {
  const bound = AsyncResource.bind(listener as (...args: unknown[]) => void);
  emitter.on(eventName, bound);
  return () => {
    emitter.off(eventName, bound);
  };
}
