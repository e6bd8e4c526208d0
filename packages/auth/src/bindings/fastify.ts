/**
 * Fastify 5 binding: authenticates each request (Bearer token, session cookie or API key) in
 * one `onRequest` hook and sets `request.principal`, with per-route `config.auth`.
 *
 * @packageDocumentation
 * @module @tenantkit/auth/fastify
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import type { Authenticator } from '../authenticator.js';
import { authRefusals, type AuthRefusal } from '../authentication/auth-failure-response.js';
import { AuthError } from '../errors.js';
import type { AuthPrincipal } from '../principal.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

/**
 * A route's `config.auth`:
 * - `'required'`: a request without a credential is answered 401 `AUTHENTICATION_REQUIRED`;
 * - `'optional'`: it continues with `request.principal` `null` (a presented credential that
 *   fails is refused either way);
 * - `'none'`: credentials are not read at all (sign-in, health checks, webhooks).
 *
 * @example
 * ```ts
 * app.post('/login', { config: { auth: 'none' } }, login);
 * ```
 */
export type AuthRouteMode = 'required' | 'optional' | 'none';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request is, set by `authPlugin`; `null` when nobody authenticated (optional or `'none'` routes). */
    principal: AuthPrincipal | null;
  }
  interface FastifyContextConfig {
    /** Whether the route needs a principal; default: the plugin's `default`. */
    auth?: AuthRouteMode;
  }
}

/**
 * Options of {@link authPlugin}.
 *
 * @example
 * ```ts
 * await app.register(authPlugin, { authenticator, default: 'required' });
 * ```
 */
export interface AuthPluginOptions {
  /** From `createAuthenticator()`. */
  authenticator: Authenticator;
  /**
   * The request's tenant, which every credential must be bound to. Default: the ambient tenant
   * scope that `tenantContextPlugin` enters (register it first). `null`/`undefined` falls back
   * to that scope too.
   */
  getTenantId?: (request: FastifyRequest) => string | null | undefined;
  /** The mode of routes whose config names none; default `'required'` (deny by default). */
  default?: 'required' | 'optional';
}


const TENANT_PLUGIN = '@tenantkit/tenant-context';
const WHAT_ROUTE = 'config.auth';

const optionsSchema = z
  .object({
    authenticator: z.custom<Authenticator>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as Authenticator).authenticate === 'function' &&
        typeof (value as Authenticator).challenge === 'function' &&
        typeof (value as Authenticator).apiKeyHeader === 'string',
      'must be an Authenticator (createAuthenticator())',
    ),
    getTenantId: z.custom<NonNullable<AuthPluginOptions['getTenantId']>>((value) => typeof value === 'function', 'must be a function').optional(),
    default: z.enum(['required', 'optional']).default('required'),
  })
  // Fastify adds its own keys (such as `prefix`) to plugin options.
  .loose();

const routeModeSchema = z.enum(['required', 'optional', 'none']).optional();

/** Where `onRoute` leaves a route's resolved mode, so requests do not re-validate `config.auth`. */
const RESOLVED_MODE = Symbol('tenantkit.auth.routeMode');

interface RouteAuthConfig {
  auth?: unknown;
  [RESOLVED_MODE]?: AuthRouteMode;
}

function send(reply: FastifyReply, refusal: AuthRefusal): void {
  // Answered here, not thrown, so an app error handler that renders errors its own way cannot
  // turn a refusal into a 500 or drop its WWW-Authenticate.
  void reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
}

const authenticateRequestsPlugin: FastifyPluginCallback<AuthPluginOptions> = (fastify, options, done) => {
  let parsed: z.output<typeof optionsSchema>;
  try {
    parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'auth plugin options');
  } catch (error) {
    done(error as Error);
    return;
  }
  const { authenticator, getTenantId } = parsed;
  const pluginDefault: AuthRouteMode = parsed.default;
  const refusals = authRefusals(authenticator);
  const apiKeyHeader = authenticator.apiKeyHeader;
  const tenantPluginFirst = fastify.hasPlugin(TENANT_PLUGIN);

  if (fastify.hasRequestDecorator('principal')) {
    done(new AuthError('CONFIGURATION_INVALID', 'request.principal is decorated already: register authPlugin once per app'));
    return;
  }
  // A shared reference type as the default would be shared by every request; null is not.
  fastify.decorateRequest('principal', null);

  // Checked when the route is declared, so a typo fails at startup rather than per request; the
  // resolved mode rides along in the route's config (Fastify copies it into the route context).
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const result = routeModeSchema.safeParse((route.config as { auth?: unknown } | undefined)?.auth);
    if (!result.success) {
      throw new AuthError(
        'CONFIGURATION_INVALID',
        `Route ${route.method.toString()} ${route.url}: ${WHAT_ROUTE} must be 'required', 'optional' or 'none'`,
      );
    }
    const config: RouteAuthConfig = { ...route.config, [RESOLVED_MODE]: result.data ?? pluginDefault };
    route.config = config as RouteOptions['config'];
  });

  // Hooks of one kind run in registration order: registered after this plugin, the tenant
  // plugin would resolve the tenant only after credentials were checked without it.
  fastify.addHook('onReady', function checkHookOrder(hookDone) {
    if (!tenantPluginFirst && this.hasPlugin(TENANT_PLUGIN)) {
      hookDone(new AuthError('CONFIGURATION_INVALID', 'Register tenantContextPlugin before authPlugin, so credentials are checked against the tenant'));
      return;
    }
    hookDone();
  });

  fastify.addHook('onRequest', function authenticateRequestHook(request: FastifyRequest, reply: FastifyReply, hookDone: HookHandlerDoneFunction) {
    // Optional chaining: the 404 context of some Fastify versions has no config object.
    const config = request.routeOptions.config as RouteAuthConfig | undefined;
    let mode = config?.[RESOLVED_MODE];
    if (mode === undefined) {
      // A route declared before the plugin was registered (or the 404 context) skipped onRoute.
      const setting = config?.auth;
      if (setting !== undefined && setting !== 'required' && setting !== 'optional' && setting !== 'none') {
        // Fail closed.
        hookDone(new AuthError('CONFIGURATION_INVALID', `Route ${request.method} ${request.routeOptions.url ?? request.url}: invalid ${WHAT_ROUTE}`));
        return;
      }
      mode = setting ?? pluginDefault;
    }
    if (mode === 'none') {
      hookDone();
      return;
    }
    let tenantId: string | null | undefined;
    if (getTenantId !== undefined) {
      try {
        tenantId = getTenantId(request);
      } catch (error) {
        hookDone(error instanceof Error ? error : new Error('getTenantId failed', { cause: error }));
        return;
      }
    }
    const headers = request.headers;
    authenticator
      .authenticate(
        { authorization: headers.authorization, cookie: headers.cookie, apiKey: headers[apiKeyHeader] },
        tenantId === undefined || tenantId === null ? undefined : { tenantId },
      )
      .then(
        (principal) => {
          if (principal !== null) {
            request.principal = principal;
            hookDone();
          } else if (mode === 'optional') {
            hookDone();
          } else {
            send(reply, refusals.required);
          }
        },
        (error: unknown) => {
          const refusal = refusals.of(error);
          if (refusal === undefined) hookDone(error instanceof Error ? error : new Error('Authentication failed', { cause: error }));
          else send(reply, refusal);
        },
      );
  });

  done();
};

/**
 * The Fastify plugin: decorates `request.principal` (`null` by default) and authenticates every
 * request in one global `onRequest` hook, before the body is read, with the
 * {@link AuthPluginOptions.authenticator}: a Bearer token, the session cookie or the API key
 * header, bound to the request's tenant.
 *
 * Per route, `config: { auth: 'none' | 'optional' | 'required' }` (default: the plugin's
 * `default`, `'required'`). Refusals are answered from the hook with the coded JSON body of
 * `@tenantkit/core`: 401 `AUTHENTICATION_REQUIRED` / `TOKEN_*` / `SESSION_INVALID` /
 * `API_KEY_INVALID` with `WWW-Authenticate` (RFC 6750), 429 `RATE_LIMITED` with `Retry-After`
 * (per-key limit). Other errors go to your error handler. Invalid route settings fail when the
 * route is declared.
 *
 * **Order.** Hooks of one kind run in registration order, so register
 * `tenantContextPlugin` (its tenant resolution is an `onRequest` hook too) **before** this
 * plugin — `app.ready()` fails with `CONFIGURATION_INVALID` when it comes after — and
 * `rbacPlugin` (a `preHandler` hook) and `rateLimitPlugin` (`preHandler` by default; register
 * it after this plugin when you give it `hook: 'onRequest'`) after it, so they see the
 * principal. Register once per app.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(tenantContextPlugin, { resolver });
 * await app.register(authPlugin, { authenticator: createAuthenticator({ tokens, sessions, apiKeys }) });
 * await app.register(rbacPlugin, { checker: rbac, getPrincipal: (request) => request.principal });
 * app.post('/login', { config: { auth: 'none' } }, login);
 * app.get('/projects', { config: { permission: 'projects:list' } }, async () => projects.list());
 * ```
 */
export const authPlugin = fp(authenticateRequestsPlugin, {
  fastify: '5.x',
  name: '@tenantkit/auth',
});
