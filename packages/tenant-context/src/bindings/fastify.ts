/**
 * Fastify 5 binding: resolves the tenant of each request and runs the rest of the request
 * inside its scope.
 *
 * @packageDocumentation
 * @module @tenantkit/tenant-context/fastify
 */
import { isTenantkitError, toErrorResponse } from '@tenantkit/core';
import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import type { ResolveTenantOptions, TenantResolver } from '../resolution/tenant-resolver.js';
import type { TenantRequest } from '../resolution/request-info.js';
import { bindTenantScope, currentTenantId, runWithTenant } from '../scope/tenant-scope.js';
import type { Tenant } from '../tenant.js';
import { parseOrThrow } from '../validation.js';
import { resolveRequestTenant, tenantResolverOptionSchema } from './resolve-request-tenant.js';

/**
 * Per-route tenant settings, under `config.tenant` of a route.
 *
 * @example
 * ```ts
 * app.get('/pricing', { config: { tenant: { required: false } } }, handler);
 * ```
 */
export interface TenantRouteConfig {
  /** Whether a request that names no tenant is refused on this route. Default: the plugin's. */
  required?: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant resolved for this request, or `null` (public route, or none required and none named). */
    tenant: Tenant | null;
  }
  interface FastifyContextConfig {
    /**
     * `false` skips tenant resolution on the route (health checks, webhooks that carry their
     * own tenant); an object adjusts it.
     */
    tenant?: false | TenantRouteConfig;
  }
}

/**
 * Options of {@link tenantContextPlugin}.
 *
 * @example
 * ```ts
 * await app.register(tenantContextPlugin, { resolver, required: true });
 * ```
 */
export interface TenantPluginOptions {
  /** The resolver from `createTenantResolver()`. */
  resolver: TenantResolver<unknown>;
  /**
   * Whether a request that names no tenant is refused, unless its route says otherwise.
   * Default: the resolver's `requireTenant`.
   */
  required?: boolean;
}

const optionsSchema = z
  .object({
    resolver: tenantResolverOptionSchema,
    required: z.boolean().optional(),
  })
  // Fastify adds its own keys (such as `prefix`) to plugin options.
  .loose();

const routeConfigSchema = z.union([z.literal(false), z.strictObject({ required: z.boolean().optional() })]).optional();

const REQUIRED: ResolveTenantOptions = Object.freeze({ required: true });
const OPTIONAL: ResolveTenantOptions = Object.freeze({ required: false });

const resolveTenantPlugin: FastifyPluginCallback<TenantPluginOptions> = (fastify, options, done) => {
  let parsed: z.output<typeof optionsSchema>;
  try {
    parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'tenant plugin options');
  } catch (error) {
    done(error as Error);
    return;
  }
  const resolver = parsed.resolver;
  const pluginDefault: ResolveTenantOptions | undefined =
    parsed.required === undefined ? undefined : parsed.required ? REQUIRED : OPTIONAL;

  // A shared reference type as the default would be shared by every request; null is not.
  fastify.decorateRequest('tenant', null);

  // Checked when the route is declared, so a typo fails at startup rather than per request.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const result = routeConfigSchema.safeParse((route.config as { tenant?: unknown } | undefined)?.tenant);
    if (!result.success) {
      throw new TenantContextError(
        'CONFIGURATION_INVALID',
        `Route ${route.method.toString()} ${route.url}: config.tenant must be false or { required?: boolean }`,
      );
    }
  });

  fastify.addHook('onRequest', function resolveTenantHook(request, reply, hookDone) {
    // Optional chaining: the 404 context of some Fastify versions has no config object.
    const setting = (request.routeOptions.config as { tenant?: false | TenantRouteConfig } | undefined)?.tenant;
    if (setting === false) {
      hookDone();
      return;
    }
    const resolveOptions =
      setting?.required === undefined ? pluginDefault : setting.required ? REQUIRED : OPTIONAL;
    const tenantRequest: TenantRequest = {
      headers: request.headers,
      url: request.url,
      remoteAddress: request.raw.socket?.remoteAddress,
      frameworkRequest: request,
    };
    resolveRequestTenant(
      resolver,
      tenantRequest,
      resolveOptions,
      (tenant) => continueInScope(request, reply, hookDone, tenant),
      (error) => replyWithError(request, reply, hookDone, error),
    );
  });

  // Body parsing finishes in a stream callback, outside the scope entered in onRequest (recent
  // Fastify 5 releases carry the context across their own parsers, earlier ones do not), and an
  // earlier hook that continues from a shared callback loses it too. Re-entering here (the
  // @fastify/request-context technique) covers validation, preHandler hooks and the handler.
  fastify.addHook('preValidation', function reenterTenantScopeHook(request, _reply, hookDone) {
    const tenant = request.tenant;
    if (tenant === null || currentTenantId() === tenant.id) {
      hookDone();
      return;
    }
    runWithTenant(tenant, hookDone);
  });

  done();
};

function continueInScope(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
  tenant: Tenant<unknown> | undefined,
): void {
  if (tenant === undefined) {
    done();
    return;
  }
  // Tenant settings are stored as JSON, so the default settings type describes every record.
  request.tenant = tenant as Tenant;
  let entered = false;
  try {
    runWithTenant(tenant, () => {
      entered = true;
      // Requests with a body: bind the stream's events to the scope too, so the listeners a
      // content-type parser attaches (metering an upload, say) run in it.
      const headers = request.headers;
      if (headers['content-length'] !== undefined || headers['transfer-encoding'] !== undefined) {
        request.raw.emit = bindTenantScope(request.raw.emit);
      }
      done();
    });
  } catch (error) {
    // Fastify catches what its own lifecycle throws; only a refused scope is ours to answer.
    if (entered) done(error as Error);
    else replyWithError(request, reply, done, error);
  }
}

/**
 * Tenantkit errors are answered from the hook with their status and coded body, so the
 * application's error handler is neither replaced nor bypassed for its own errors; anything
 * else is handed to that error handler.
 */
function replyWithError(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
  error: unknown,
): void {
  if (!isTenantkitError(error)) {
    done(error instanceof Error ? error : new Error('Tenant resolution failed', { cause: error }));
    return;
  }
  const { status, body } = toErrorResponse(error);
  if (status >= 500) request.log.error({ err: error }, 'tenant resolution failed');
  void reply.code(status).send(body);
}

/**
 * The Fastify plugin: decorates `request.tenant`, resolves the tenant in an `onRequest` hook
 * and runs the rest of the request inside `runWithTenant()`, re-entering the scope in
 * `preValidation` because body parsing (in Fastify releases before it kept the context) or an
 * earlier hook continuing from a shared callback loses the async context. Hooks of this plugin
 * run in registration order with yours: a `preValidation` hook registered before the plugin may
 * run outside the scope in those cases, one registered after it never does.
 *
 * Per route, `config: { tenant: false }` skips resolution (health checks) and
 * `config: { tenant: { required: false } }` makes the tenant optional. Refusals are answered
 * from the hook with the error's status and a coded JSON body (`TENANT_NOT_IDENTIFIED` 400,
 * `TENANT_UNAUTHENTICATED` 401, `TENANT_IDENTIFIER_INVALID` 400, `TENANT_NOT_FOUND` 404,
 * `TENANT_SUSPENDED` 403, `TENANT_NOT_READY` 503); other errors go to your error handler.
 *
 * The hook is global, so it covers routes declared before or after registration. Register
 * plugins that a `fromTokenClaim` source depends on (authentication) before this one: hooks of
 * one kind run in registration order. Fastify's own `trustProxy` does not apply here; pass
 * `trustedProxies` to the resolver.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(tenantContextPlugin, { resolver });
 * app.get('/health', { config: { tenant: false } }, async () => 'ok');
 * app.post('/projects', async (request) => projects.create(requireTenantId(), request.body));
 * ```
 */
export const tenantContextPlugin = fp(resolveTenantPlugin, {
  fastify: '5.x',
  name: '@tenantkit/tenant-context',
});
