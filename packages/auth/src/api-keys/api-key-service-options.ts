import type { Clock } from '@tenantkit/core';
import type { RateLimiter } from '@tenantkit/ratelimit';
import type { CheckContext, RbacPrincipal } from '@tenantkit/rbac';
import { z } from 'zod';
import type { RevocationService } from '../revocation/revocation-service.js';
import type { ApiKeyStore } from '../store.js';
import { API_KEY_PREFIX_PATTERN } from './api-key-format.js';
import { MIN_HASH_KEY_BYTES, type ApiKeyHashKey } from './api-key-hashing.js';

/**
 * What API key creation asks about the creator: whether they hold a permission in a tenant.
 * `@tenantkit/rbac`'s `PermissionChecker` (the object `createRbac()` returns) fits as it is; the
 * service calls `can(creator, scope, undefined, { tenantId })`, so a permission the creator
 * holds only under a condition on the resource does not count (fail closed).
 *
 * @example
 * ```ts
 * const permissions: ApiKeyScopeChecker = rbac;
 * ```
 */
export interface ApiKeyScopeChecker {
  /**
   * @example
   * ```ts
   * await permissions.can(creator, 'projects:read', undefined, { tenantId: 'tnt_acme' });
   * ```
   */
  can(principal: RbacPrincipal, permission: string, resource?: undefined, context?: CheckContext): Promise<boolean> | boolean;
}

/**
 * A per-key rate limit: every authentication of a key is charged to `policy` of `limiter`,
 * keyed by the key id (and its tenant, for policies that key by tenant too).
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ policies: [{ name: 'api-key', by: ['apiKey'], points: 600, duration: 60 }] });
 * const rateLimit: ApiKeyRateLimit = { limiter, policy: 'api-key' };
 * ```
 */
export interface ApiKeyRateLimit {
  readonly limiter: Pick<RateLimiter, 'enforce' | 'policyNames'>;
  /** A policy of the limiter, usually keyed `by: ['apiKey']`. */
  readonly policy: string;
}

/**
 * What went wrong in the background (not in a call the app awaits).
 *
 * @example
 * ```ts
 * const onError = (error: unknown, context: ApiKeyBackgroundErrorContext) => log.warn({ err: error, ...context });
 * ```
 */
export interface ApiKeyBackgroundErrorContext {
  /** `flush-usage`: a timed last-used flush failed; its batch is kept for the next one. */
  readonly operation: 'flush-usage';
}

/**
 * Options of `createApiKeyService`, validated when it is called (`CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const options: ApiKeyServiceOptions = {
 *   store: stores.apiKeys,
 *   hashKeys: [{ id: 'v2', secret: process.env.API_KEY_PEPPER_V2! }, { id: 'v1', secret: process.env.API_KEY_PEPPER_V1! }],
 *   prefix: 'acme',
 *   permissions: rbac,
 *   revocation,
 *   rateLimit: { limiter, policy: 'api-key' },
 * };
 * ```
 */
export interface ApiKeyServiceOptions {
  readonly store: ApiKeyStore;
  /**
   * Peppers for the keyed hash, newest first: the first hashes new keys, every one verifies the
   * keys it hashed (rotate by putting a new one first; drop an old one once no key uses it).
   * At least 32 bytes each, unique ids.
   */
  readonly hashKeys: readonly ApiKeyHashKey[];
  /** The key prefix, `[a-z][a-z0-9]{1,15}`; default `'tk'`. Name it after your product so secret scanners can match it. */
  readonly prefix?: string;
  /**
   * Checks that the creator holds every scope of a new key. Without it `create()` throws
   * `CONFIGURATION_INVALID` (a service that only authenticates, in a worker, needs none).
   */
  readonly permissions?: ApiKeyScopeChecker;
  /**
   * Carries revocations to every process: `revoke()` announces `{ kind: 'api-key', id }` and
   * every service listening drops the key from its cache at once. Without it another process
   * keeps accepting a revoked key until its cache entry expires (`cacheTtlSeconds`). With
   * `isRevoked` (a whole `RevocationService` has it) a key is also refused once its creator's
   * user epoch or its tenant's epoch was raised after the key was created (`revokeUser`,
   * password reset, `disableUser`, `revokeTenant`); `user-epoch` and `tenant-epoch` events drop
   * the cached answers.
   */
  readonly revocation?: Pick<RevocationService, 'announce' | 'onEvent'> & Partial<Pick<RevocationService, 'isRevoked'>>;
  /** How often last-used times are written (batched), in seconds, 1 to 3600; default 60. */
  readonly usageFlushSeconds?: number;
  /**
   * How long a verified key is served from memory, in seconds, 0 (no cache) to 3600; default 30.
   * The bound on how stale a revocation can be in a process that missed the announcement.
   */
  readonly cacheTtlSeconds?: number;
  /** At most this many keys are cached (oldest out first); default 10,000. */
  readonly cacheMaxEntries?: number;
  /** A per-key rate limit, checked after the key verified (a wrong secret spends nothing). */
  readonly rateLimit?: ApiKeyRateLimit;
  readonly clock?: Clock;
  /** Failures of background work (timed usage flushes); default: ignored, the batch is retried. */
  readonly onError?: (error: unknown, context: ApiKeyBackgroundErrorContext) => void;
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return (
    typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

const storeMethods = ['create', 'findById', 'listByTenant', 'revoke', 'recordUsage', 'deleteByTenant'] as const;

const hashKeySchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 characters of [A-Za-z0-9._-]'),
  secret: z.union([z.string(), z.instanceof(Uint8Array)]).refine(
    (secret) => (typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret.byteLength) >= MIN_HASH_KEY_BYTES,
    `must be at least ${MIN_HASH_KEY_BYTES} bytes`,
  ),
});

/**
 * The zod schema of {@link ApiKeyServiceOptions} (messages never echo a pepper).
 *
 * @example
 * ```ts
 * const options = parseOrThrow(apiKeyServiceOptionsSchema, raw, 'CONFIGURATION_INVALID', 'createApiKeyService options');
 * ```
 */
export const apiKeyServiceOptionsSchema = z
  .strictObject({
    store: z.custom<ApiKeyStore>((value) => hasMethods(value, storeMethods), 'must be an ApiKeyStore'),
    hashKeys: z
      .array(hashKeySchema)
      .min(1, 'needs at least one hash key')
      .max(16)
      .refine((keys) => new Set(keys.map((key) => key.id)).size === keys.length, 'hash key ids must be unique'),
    prefix: z.string().regex(API_KEY_PREFIX_PATTERN, 'must match [a-z][a-z0-9]{1,15}').default('tk'),
    permissions: z.custom<ApiKeyScopeChecker>((value) => hasMethods(value, ['can']), 'must have can()').optional(),
    revocation: z
      .custom<Pick<RevocationService, 'announce' | 'onEvent'> & Partial<Pick<RevocationService, 'isRevoked'>>>(
        (value) =>
          hasMethods(value, ['announce', 'onEvent']) &&
          ((value as { isRevoked?: unknown }).isRevoked === undefined || typeof (value as { isRevoked?: unknown }).isRevoked === 'function'),
        'must be a RevocationService',
      )
      .optional(),
    usageFlushSeconds: z.number().int().min(1).max(3600).default(60),
    cacheTtlSeconds: z.number().int().min(0).max(3600).default(30),
    cacheMaxEntries: z.number().int().min(1).max(10_000_000).default(10_000),
    rateLimit: z
      .strictObject({
        limiter: z.custom<ApiKeyRateLimit['limiter']>(
          (value) => hasMethods(value, ['enforce']) && Array.isArray((value as { policyNames?: unknown }).policyNames),
          'must be a RateLimiter',
        ),
        policy: z.string().min(1),
      })
      .refine((rateLimit) => rateLimit.limiter.policyNames.includes(rateLimit.policy), {
        message: 'names a policy the limiter does not have',
        path: ['policy'],
      })
      .optional(),
    clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
    onError: z.custom<NonNullable<ApiKeyServiceOptions['onError']>>((value) => typeof value === 'function', 'must be a function').optional(),
  });
