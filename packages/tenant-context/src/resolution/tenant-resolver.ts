import { type Clock, systemClock } from '@tenantkit/core';
import { z } from 'zod';
import { isSameOrSubdomain } from '../domains/hostname.js';
import { TenantContextError } from '../errors.js';
import type { TenantEventBus } from '../events.js';
import type { TenantRegistry } from '../registry/tenant-registry.js';
import type { JsonValue, Tenant } from '../tenant.js';
import { parseOrThrow } from '../validation.js';
import type { TenantRequest } from './request-info.js';
import { createTenantLookupCache, type TenantLookupCache } from './tenant-lookup-cache.js';
import type { TenantIdentifier, TenantIdentifierKind, TenantSource } from './tenant-source.js';
import { effectiveHost, type TrustedProxies } from './trusted-proxies.js';

/**
 * Cache settings of {@link createTenantResolver}.
 *
 * @example
 * ```ts
 * createTenantResolver({ registry, sources, cache: { ttlMs: 10_000, negativeTtlMs: 2_000, maxEntries: 50_000 } });
 * ```
 */
export interface TenantResolverCacheOptions {
  /**
   * How long an active tenant is served from memory, in milliseconds. Changes made through the
   * registry in this process invalidate at once; changes made by another process are seen
   * after at most this long. Default: 30 000. At most one hour.
   */
  ttlMs?: number;
  /** How long an unknown identifier, or a tenant that is not active, is remembered. Default: 5 000. */
  negativeTtlMs?: number;
  /** Most cached lookups, all identifier kinds together. Default: 10 000. */
  maxEntries?: number;
}

/**
 * Options of {@link createTenantResolver}.
 *
 * @example
 * ```ts
 * createTenantResolver({
 *   registry,
 *   sources: [fromHeader(), fromSubdomain({ baseDomain: 'example.com' }), fromCustomDomain()],
 *   trustedProxies: createTrustedProxies(['10.0.0.0/8']),
 * });
 * ```
 */
export interface TenantResolverOptions<Settings = Record<string, JsonValue>> {
  registry: TenantRegistry<Settings>;
  /** Where to look for the tenant, highest priority first: the first source that finds an identifier wins. */
  sources: readonly TenantSource[];
  /** Proxies whose forwarded-host headers are believed. Default: none, only the Host header counts. */
  trustedProxies?: TrustedProxies;
  /** Lookup cache settings, or `false` to ask the registry on every request. */
  cache?: TenantResolverCacheOptions | false;
  /** Whether a request that names no tenant is an error. Default: `true`. */
  requireTenant?: boolean;
  /**
   * The code for a request that names no tenant when one is required. Default:
   * `TENANT_UNAUTHENTICATED` when every source is a token-claim source, else
   * `TENANT_NOT_IDENTIFIED`.
   */
  notIdentifiedCode?: 'TENANT_NOT_IDENTIFIED' | 'TENANT_UNAUTHENTICATED';
  /**
   * An extra bus whose tenant and domain events invalidate the cache, besides the registry's
   * (which is always listened to). Pass it when custom domains were created with a bus of
   * their own.
   */
  events?: TenantEventBus;
  clock?: Clock;
}

/**
 * Per-call options of {@link TenantResolver.resolve}. Bindings build these once per route,
 * not per request.
 *
 * @example
 * ```ts
 * const optional: ResolveTenantOptions = { required: false };
 * const tenant = await resolver.resolve(request, optional);
 * ```
 */
export interface ResolveTenantOptions {
  /** Overrides the resolver's `requireTenant` for this call. */
  required?: boolean;
}

/**
 * Finds the tenant a request is for and checks it may be served.
 *
 * @example
 * ```ts
 * const tenant = await resolver.resolve({ headers: req.headers, url: req.url, remoteAddress: req.socket.remoteAddress });
 * await runWithTenant(tenant!, handle);
 * ```
 */
export interface TenantResolver<Settings = Record<string, JsonValue>> {
  /**
   * The active tenant the request names, or `undefined` when it names none and none is
   * required.
   *
   * @throws (rejects with) `TENANT_NOT_IDENTIFIED` (400) or `TENANT_UNAUTHENTICATED` (401) when
   *   no source finds a tenant and one is required; `TENANT_IDENTIFIER_INVALID` (400) for a
   *   malformed identifier; `TENANT_NOT_FOUND` (404) for an unknown or deleted tenant or an
   *   unverified domain; `TENANT_SUSPENDED` (403) for a suspended or offboarding tenant;
   *   `TENANT_NOT_READY` (503) while it is provisioning; store errors as they are.
   */
  resolve(request: TenantRequest, options?: ResolveTenantOptions): Promise<Tenant<Settings> | undefined>;
  /**
   * {@link resolve} without the promise when it is not needed: on a cache hit with
   * synchronous sources the tenant is returned (or the error thrown) synchronously; otherwise
   * a promise is returned. For framework bindings on the hot path; prefer {@link resolve}.
   */
  resolveMaybeSync(
    request: TenantRequest,
    options?: ResolveTenantOptions,
  ): Tenant<Settings> | undefined | Promise<Tenant<Settings> | undefined>;
  /** The identifier the request carries, without looking it up. */
  identify(request: TenantRequest): Promise<TenantIdentifier | undefined>;
  /** Forgets cached lookups of one tenant, or all of them. */
  invalidate(tenantId?: string): void;
  /** Unsubscribes from the event bus and empties the cache; later calls reject. */
  dispose(): void;
}

const DEFAULT_TTL_MS = 30_000;
const DEFAULT_NEGATIVE_TTL_MS = 5_000;
const DEFAULT_MAX_ENTRIES = 10_000;

const functionProperty = (value: unknown, name: string): boolean =>
  typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';

const sourceSchema = z.custom<TenantSource>(
  (value) =>
    functionProperty(value, 'identify') &&
    typeof (value as TenantSource).name === 'string' &&
    typeof (value as TenantSource).kind === 'string' &&
    typeof (value as TenantSource).readsHost === 'boolean',
  'must be a TenantSource (name, kind, readsHost, identify)',
);

const optionsSchema = z.strictObject({
  registry: z.custom<TenantRegistry<unknown>>(
    (value) =>
      ['getTenant', 'getTenantBySlug', 'getTenantByVerifiedDomain'].every((name) => functionProperty(value, name)) &&
      functionProperty((value as { events?: unknown }).events, 'on'),
    'must be a TenantRegistry',
  ),
  sources: z
    .array(sourceSchema)
    .min(1, 'needs at least one source')
    .refine((sources) => new Set(sources.map((source) => source.name)).size === sources.length, 'source names must be unique'),
  trustedProxies: z
    .custom<TrustedProxies>((value) => functionProperty(value, 'isTrusted'), 'must come from createTrustedProxies()')
    .optional(),
  cache: z
    .union([
      z.literal(false),
      z.strictObject({
        ttlMs: z.number().int().min(0).max(3_600_000).optional(),
        negativeTtlMs: z.number().int().min(0).max(3_600_000).optional(),
        maxEntries: z.number().int().min(1).max(10_000_000).optional(),
      }),
    ])
    .optional(),
  requireTenant: z.boolean().optional(),
  notIdentifiedCode: z.enum(['TENANT_NOT_IDENTIFIED', 'TENANT_UNAUTHENTICATED']).optional(),
  events: z.custom<TenantEventBus>((value) => functionProperty(value, 'on'), 'must be a TenantEventBus').optional(),
  clock: z.custom<Clock>((value) => functionProperty(value, 'now'), 'must have now()').optional(),
});

/**
 * Creates a {@link TenantResolver}. Options are validated now.
 *
 * Lookups are cached (see {@link TenantResolverCacheOptions}); the cache listens to the
 * registry's events, so a tenant suspended, deleted, renamed or purged through the registry,
 * or a domain verified or removed, takes effect in this process immediately. Changes made in
 * another process take up to `ttlMs` (active tenants) or `negativeTtlMs` (everything else) to
 * be seen here; lower them, or call {@link TenantResolver.invalidate} from your own
 * cross-process notification, if that is too long. Concurrent misses for the same identifier
 * share one registry read.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options.
 * @example
 * ```ts
 * const resolver = createTenantResolver({
 *   registry,
 *   sources: [fromSubdomain({ baseDomain: 'example.com' }), fromCustomDomain()],
 *   trustedProxies: createTrustedProxies(['10.0.0.0/8']),
 * });
 * const tenant = await resolver.resolve(tenantRequestFromNode(req));
 * ```
 */
export function createTenantResolver<Settings = Record<string, JsonValue>>(
  options: TenantResolverOptions<Settings>,
): TenantResolver<Settings> {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'tenant resolver options');
  // The registry's settings type does not matter here; records are handed back as they come.
  const registry = options.registry as unknown as TenantRegistry;
  const sources: readonly TenantSource[] = Object.freeze([...options.sources]);
  const sourceCount = sources.length;
  const trustedProxies = options.trustedProxies;
  const clock = options.clock ?? systemClock;
  const requireTenantByDefault = parsed.requireTenant ?? true;
  const readsHost = sources.some((source) => source.readsHost);
  const platformDomains = Object.freeze(sources.flatMap((source) => source.platformDomains ?? []));
  const notIdentifiedCode =
    parsed.notIdentifiedCode ??
    (sources.every((source) => source.kind === 'token-claim') ? 'TENANT_UNAUTHENTICATED' : 'TENANT_NOT_IDENTIFIED');

  const cache: TenantLookupCache | undefined =
    parsed.cache === false
      ? undefined
      : createTenantLookupCache({
          ttlMs: parsed.cache?.ttlMs ?? DEFAULT_TTL_MS,
          negativeTtlMs: parsed.cache?.negativeTtlMs ?? DEFAULT_NEGATIVE_TTL_MS,
          maxEntries: parsed.cache?.maxEntries ?? DEFAULT_MAX_ENTRIES,
          clock,
        });

  // Registry reads in flight, per identifier kind, so a burst of misses costs one read.
  const pending = {
    id: new Map<string, Promise<Tenant | null>>(),
    slug: new Map<string, Promise<Tenant | null>>(),
    hostname: new Map<string, Promise<Tenant | null>>(),
  } satisfies Record<TenantIdentifierKind, Map<string, Promise<Tenant | null>>>;
  // Bumped by every invalidation: a read that started before one must not fill the cache with
  // what it saw, or a tenant suspended meanwhile would be served as active until the TTL ends.
  let generation = 0;
  let disposed = false;

  function forgetInFlight(): void {
    generation += 1;
    pending.id.clear();
    pending.slug.clear();
    pending.hostname.clear();
  }

  function invalidateTenant(tenantId: string): void {
    forgetInFlight();
    cache?.deleteTenant(tenantId);
  }

  // The registry's bus always: its status changes must reach the cache even when custom domains
  // announce on a bus of their own (passed as `events`).
  const buses = options.events === undefined || options.events === registry.events ? [registry.events] : [registry.events, options.events];
  const unsubscribers = buses.flatMap((events) => [
    events.on('tenant.created', ({ tenant }) => {
      forgetInFlight();
      cache?.delete('id', tenant.id);
      cache?.delete('slug', tenant.slug);
    }),
    events.on('tenant.updated', ({ tenant }) => {
      invalidateTenant(tenant.id);
      // A rename frees the old slug (dropped above) and takes a new one that may be cached as unknown.
      cache?.delete('slug', tenant.slug);
    }),
    events.on('tenant.status_changed', ({ tenant }) => invalidateTenant(tenant.id)),
    events.on('tenant.purged', ({ tenantId }) => invalidateTenant(tenantId)),
    events.on('domain.verified', ({ domain }) => {
      forgetInFlight();
      cache?.delete('hostname', domain.hostname);
    }),
    events.on('domain.removed', ({ domain }) => {
      forgetInFlight();
      cache?.delete('hostname', domain.hostname);
    }),
  ]);

  function readRegistry(identifier: TenantIdentifier): Promise<Tenant | null> {
    switch (identifier.by) {
      case 'id':
        return registry.getTenant(identifier.value);
      case 'slug':
        return registry.getTenantBySlug(identifier.value);
      default:
        return registry.getTenantByVerifiedDomain(identifier.value);
    }
  }

  function fetchTenant(identifier: TenantIdentifier): Promise<Tenant | null> {
    if (cache === undefined) return readRegistry(identifier);
    const inFlight = pending[identifier.by];
    const shared = inFlight.get(identifier.value);
    if (shared !== undefined) return shared;
    const startedIn = generation;
    const read = readRegistry(identifier).then(
      (tenant) => {
        if (generation === startedIn) {
          cache.set(identifier.by, identifier.value, tenant);
          inFlight.delete(identifier.value);
        }
        return tenant;
      },
      (error: unknown) => {
        if (generation === startedIn) inFlight.delete(identifier.value);
        throw ensureError(error);
      },
    );
    inFlight.set(identifier.value, read);
    return read;
  }

  function lookUp(identifier: TenantIdentifier): Tenant | Promise<Tenant> {
    if (cache !== undefined) {
      const cached = cache.get(identifier.by, identifier.value);
      if (cached !== undefined) return admit(cached, identifier);
    }
    return fetchTenant(identifier).then((tenant) => admit(tenant, identifier));
  }

  function isPlatformHost(host: string): boolean {
    for (let index = 0; index < platformDomains.length; index += 1) {
      if (isSameOrSubdomain(host, platformDomains[index] as string)) return true;
    }
    return false;
  }

  /** Runs the sources from `start` on; the first identifier found wins. */
  function identifyFrom(
    request: TenantRequest,
    host: string | undefined,
    start: number,
  ): TenantIdentifier | undefined | Promise<TenantIdentifier | undefined> {
    for (let index = start; index < sourceCount; index += 1) {
      const found = (sources[index] as TenantSource).identify(request, host);
      if (found === undefined) continue;
      if (isThenable(found)) {
        return Promise.resolve(found).then((identifier) =>
          usable(identifier) ? identifier : identifyFrom(request, host, index + 1),
        );
      }
      if (usable(found)) return found;
    }
    return undefined;
  }

  function usable(identifier: TenantIdentifier | undefined): identifier is TenantIdentifier {
    if (identifier === undefined) return false;
    // Hosts under your own domains are never custom domains, whichever source produced them.
    return identifier.by !== 'hostname' || !isPlatformHost(identifier.value);
  }

  function identifyNow(request: TenantRequest) {
    if (disposed) throw new TenantContextError('CONFIGURATION_INVALID', 'This tenant resolver has been disposed');
    const host = readsHost ? effectiveHost(request, trustedProxies) : undefined;
    return identifyFrom(request, host, 0);
  }

  function finish(identifier: TenantIdentifier | undefined, required: boolean): Tenant | undefined | Promise<Tenant> {
    if (identifier !== undefined) return lookUp(identifier);
    if (!required) return undefined;
    throw new TenantContextError(
      notIdentifiedCode,
      notIdentifiedCode === 'TENANT_UNAUTHENTICATED'
        ? 'Sign in to access this tenant'
        : 'The request does not say which tenant it is for',
    );
  }

  function resolveMaybeSync(
    request: TenantRequest,
    resolveOptions?: ResolveTenantOptions,
  ): Tenant | undefined | Promise<Tenant | undefined> {
    const required = resolveOptions?.required ?? requireTenantByDefault;
    const identified = identifyNow(request);
    if (isThenable(identified)) return identified.then((identifier) => finish(identifier, required));
    return finish(identified, required);
  }

  const resolver: TenantResolver = {
    resolve(request, resolveOptions) {
      try {
        const result = resolveMaybeSync(request, resolveOptions);
        return isThenable(result) ? result.then(undefined, rejectWithError) : Promise.resolve(result);
      } catch (error) {
        return Promise.reject(ensureError(error));
      }
    },
    resolveMaybeSync(request, resolveOptions) {
      try {
        const result = resolveMaybeSync(request, resolveOptions);
        return isThenable(result) ? result.then(undefined, rejectWithError) : result;
      } catch (error) {
        throw ensureError(error);
      }
    },
    identify(request) {
      try {
        return Promise.resolve(identifyNow(request)).then(undefined, rejectWithError);
      } catch (error) {
        return Promise.reject(ensureError(error));
      }
    },
    invalidate(tenantId) {
      if (tenantId === undefined) {
        forgetInFlight();
        cache?.clear();
      } else {
        invalidateTenant(tenantId);
      }
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const unsubscribe of unsubscribers) unsubscribe();
      forgetInFlight();
      cache?.clear();
    },
  };
  return resolver as unknown as TenantResolver<Settings>;
}

/** Whether the tenant may be served; throws the coded refusal otherwise. */
function admit(tenant: Tenant | null, identifier: TenantIdentifier): Tenant {
  if (tenant !== null) {
    switch (tenant.status) {
      case 'active':
        return tenant;
      case 'suspended':
      case 'offboarding':
        throw new TenantContextError('TENANT_SUSPENDED', 'This tenant is suspended', {
          details: { source: identifier.source },
        });
      case 'provisioning':
        throw new TenantContextError('TENANT_NOT_READY', 'This tenant is still being set up; try again shortly', {
          details: { source: identifier.source },
        });
      default:
        // `deleted` (and any status added later) is indistinguishable from unknown.
        break;
    }
  }
  throw new TenantContextError('TENANT_NOT_FOUND', 'No such tenant', { details: { source: identifier.source } });
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Custom sources or stores may throw anything; the resolver only ever rejects with an Error. */
function ensureError(error: unknown): Error {
  if (error instanceof Error) return error;
  return new TenantContextError('CONFIGURATION_INVALID', 'A tenant source or store threw a non-Error value', {
    cause: error,
  });
}

function rejectWithError(error: unknown): never {
  throw ensureError(error);
}
