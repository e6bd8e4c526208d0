import { isTenantkitError, systemClock } from '@tenantkit/core';
import { assertConcretePermission } from '@tenantkit/rbac';
import { currentTenantId } from '@tenantkit/tenant-context';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { AuthPrincipal } from '../principal.js';
import type { ApiKeyRecord } from '../store.js';
import { apiKeyFormat } from './api-key-format.js';
import { apiKeyHashing, digestsEqual } from './api-key-hashing.js';
import type { ApiKeyService, CreateApiKeyInput, CreatedApiKey } from './api-key-service.js';
import { apiKeyServiceOptionsSchema, type ApiKeyServiceOptions } from './api-key-service-options.js';
import { apiKeyUsageTracker } from './api-key-usage-tracker.js';
import { verifiedApiKeyCache, type VerifiedApiKey } from './verified-api-key-cache.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';


/** The most scopes one key may carry. */
const MAX_SCOPES = 100;
/** How often `create()` draws a new id when the store says the id is taken. */
const CREATE_ATTEMPTS = 3;

const identifierSchema = z.string().min(1).max(255);

const createInputSchema = z.strictObject({
  tenantId: identifierSchema,
  name: z.string().trim().min(1).max(200),
  scopes: z.array(z.string().max(255)).min(1, 'must list at least one permission').max(MAX_SCOPES),
  creator: z.looseObject({ kind: z.literal('user', 'must be a user'), id: identifierSchema, tenantId: z.string().nullable() }),
  expiresAt: z.number().int().nullable().optional(),
  scopesOnly: z.boolean().optional(),
});

// One message for every refusal: which check failed is not the client's to learn.
function invalidKey(): AuthError {
  return new AuthError('API_KEY_INVALID', 'Invalid API key');
}

function principalOf(record: ApiKeyRecord): AuthPrincipal {
  return Object.freeze({
    kind: 'api-key' as const,
    id: record.id,
    tenantId: record.tenantId,
    method: 'api-key' as const,
    grantsFrom: record.createdBy,
    scopes: Object.freeze([...record.scopes]),
  });
}

/**
 * Creates the {@link ApiKeyService}: tenant-owned keys `<prefix>_<id>_<secret>` (id: 20 base36
 * characters; secret: 32 random bytes, base64url), stored as HMAC-SHA256 of the secret under the
 * current pepper (`hashKeys[0]`) with that pepper's id.
 *
 * - **Create.** The creator must be a user principal of `input.tenantId`
 *   (`TENANT_SCOPE_CONFLICT` otherwise), every scope a concrete rbac permission
 *   (`PERMISSION_INVALID`) the creator holds there (`permissions.can`, else
 *   `API_KEY_SCOPE_FORBIDDEN` naming the scope). The key acts with the creator's grants capped
 *   by its scopes, or with `scopesOnly` through its scopes alone (`createdBy: null`). The key
 *   is returned once; the record holds nothing that reveals the secret without the pepper.
 * - **Authenticate.** The presented string is checked for prefix, exact length and charset
 *   before any store call; the key is looked up by id, its HMAC compared in constant time, and
 *   revoked, expired and other-tenant keys refused, all with one `API_KEY_INVALID`. The tenant
 *   to check is `options.tenantId`, else the ambient tenant scope (as `tokens.verify` does).
 *   Verified keys are served from a bounded memory cache for `cacheTtlSeconds` (the secret is
 *   still checked against the cached HMAC on each use). A key is also refused once its creator's
 *   user epoch or its tenant's epoch (see `RevocationService`) was raised after the key was
 *   created: `revokeUser` of the creator, a password reset, `disableUser` and `revokeTenant`
 *   end the keys made before them (keys created afterwards work). That answer is cached with
 *   the key and dropped when a `user-epoch` or `tenant-epoch` event arrives. Without
 *   `revocation` this check does not happen. With `rateLimit`, each authentication
 *   is charged to the per-key policy afterwards; a refusal is `AuthError('RATE_LIMITED')` with
 *   the limiter's `details` (`retryAfterSeconds`).
 * - **Last used.** Recorded in memory and written in one `recordUsage` batch every
 *   `usageFlushSeconds` (an unref'd timer), on `flushUsage()` and on `close()`: never a write
 *   per request.
 * - **Revoke.** Writes the store, drops the local cache entry and announces
 *   `{ kind: 'api-key', id }` on `revocation`; every service subscribed to it drops the key at
 *   once. Without `revocation`, other processes accept a revoked key until their cache entry
 *   expires (at most `cacheTtlSeconds`; 0 disables the cache). Revoking an already revoked
 *   key is a no-op that announces again.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called).
 * @example
 * ```ts
 * const apiKeys = createApiKeyService({
 *   store: stores.apiKeys,
 *   hashKeys: [{ id: 'v1', secret: process.env.API_KEY_PEPPER! }],
 *   prefix: 'acme',
 *   permissions: rbac,
 *   revocation,
 * });
 * const { key, record } = await apiKeys.create({ tenantId: 'tnt_acme', name: 'CI', scopes: ['projects:read'], creator: request.principal });
 * const principal = await apiKeys.authenticate(key, { tenantId: 'tnt_acme' });
 * ```
 */
export function createApiKeyService(options: ApiKeyServiceOptions): ApiKeyService {
  const parsed = parseOrThrow(apiKeyServiceOptionsSchema, options, 'CONFIGURATION_INVALID', 'createApiKeyService options');
  const { store, permissions, revocation, rateLimit, onError } = parsed;
  const clock = parsed.clock ?? systemClock;
  const format = apiKeyFormat(parsed.prefix);
  const hashing = apiKeyHashing(parsed.hashKeys);
  const cacheTtlMs = parsed.cacheTtlSeconds * 1000;
  const cache = cacheTtlMs > 0 ? verifiedApiKeyCache(parsed.cacheMaxEntries) : undefined;
  const usage = apiKeyUsageTracker(store);
  const rateLimitOptions = rateLimit === undefined ? undefined : Object.freeze({ policies: Object.freeze([rateLimit.policy]) });

  const stopListening = revocation?.onEvent((event) => {
    if (event.kind === 'api-key') cache?.delete(event.id);
    // An epoch raise revokes the keys created before it: the cached answers are stale.
    else if (event.kind === 'user-epoch') cache?.deleteWhere((entry) => entry.createdBy === event.id);
    else if (event.kind === 'tenant-epoch') cache?.deleteWhere((entry) => entry.tenantId === event.id);
  });

  /**
   * Whether the user or tenant epoch revokes the key: an epoch raised after the key was created
   * (`revokeUser` of its creator, a password reset, `disableUser`, `revokeTenant`) ends it. The
   * jti is `apikey:<id>`, which no access token carries (theirs are `jti_…` ids); a scopes-only
   * key has no creator, so its subject is that same value, which is no user id, and only the
   * tenant epoch applies.
   */
  async function revokedByEpoch(record: ApiKeyRecord): Promise<boolean> {
    if (revocation?.isRevoked === undefined) return false;
    const marker = `apikey:${record.id}`;
    const answer = revocation.isRevoked({ jti: marker, sid: null, sub: record.createdBy ?? marker, tid: record.tenantId, issuedAtMs: record.createdAt });
    return answer === true || (answer !== false && (await answer));
  }

  const flushTimer = setInterval(() => {
    usage.flush().catch((error: unknown) => onError?.(error, { operation: 'flush-usage' }));
  }, parsed.usageFlushSeconds * 1000);
  flushTimer.unref();

  function verifyRecord(record: ApiKeyRecord | null, id: string, secret: string, now: number): VerifiedApiKey {
    if (record === null || record.id !== id) throw invalidKey();
    const digest = hashing.digest(secret, record.hashKeyId);
    const expected = Buffer.from(record.secretHash, 'base64url');
    if (digest === undefined || !digestsEqual(digest, expected)) throw invalidKey();
    if (record.revokedAt !== null) throw invalidKey();
    if (record.expiresAt !== null && record.expiresAt <= now) throw invalidKey();
    return {
      hashKeyId: record.hashKeyId,
      digest: expected,
      tenantId: record.tenantId,
      createdBy: record.createdBy,
      principal: principalOf(record),
      validUntil: Math.min(now + cacheTtlMs, record.expiresAt ?? Number.POSITIVE_INFINITY),
    };
  }

  async function enforceRateLimit(entry: VerifiedApiKey): Promise<void> {
    if (rateLimit === undefined) return;
    try {
      await rateLimit.limiter.enforce({ apiKeyId: entry.principal.id, tenantId: entry.tenantId }, rateLimitOptions);
    } catch (error) {
      // One error model for the bindings: a refusal is auth's RATE_LIMITED with the limiter's details.
      if (isTenantkitError(error, 'RATE_LIMITED')) {
        throw new AuthError('RATE_LIMITED', 'Too many requests with this API key', {
          cause: error,
          ...(error.details === undefined ? {} : { details: error.details }),
        });
      }
      throw error;
    }
  }

  async function create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    if (permissions === undefined) {
      throw new AuthError('CONFIGURATION_INVALID', 'createApiKeyService needs a permissions checker to create keys');
    }
    const checked = parseOrThrow(createInputSchema, input, 'VALIDATION_FAILED', 'API key input');
    const tenantId = checked.tenantId;
    // The principal as given (rbac reads its scopes and grantsFrom), not the parsed copy.
    const creator = input.creator;
    if (checked.creator.tenantId !== tenantId) {
      throw new AuthError('TENANT_SCOPE_CONFLICT', 'The creator is not signed in to the tenant the key is for', {
        details: { tenantId },
      });
    }
    const scopes = [...new Set(checked.scopes)];
    for (const scope of scopes) assertConcretePermission(scope);
    const now = clock.now();
    const expiresAt = checked.expiresAt ?? null;
    if (expiresAt !== null && expiresAt <= now) {
      throw new AuthError('VALIDATION_FAILED', 'Invalid API key input: expiresAt must be in the future', {
        details: { issues: [{ path: 'expiresAt', message: 'must be in the future' }] },
      });
    }
    for (const scope of scopes) {
      if (!(await permissions.can(creator, scope, undefined, { tenantId }))) {
        throw new AuthError('API_KEY_SCOPE_FORBIDDEN', `The creator does not hold ${scope} and cannot give it to a key`, {
          details: { scope },
        });
      }
    }
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt += 1) {
      const { id, secret, key } = format.generate();
      const { hashKeyId, secretHash } = hashing.hash(secret);
      const record: ApiKeyRecord = {
        id,
        tenantId,
        name: checked.name,
        secretHash,
        hashKeyId,
        scopes,
        createdBy: checked.scopesOnly === true ? null : creator.id,
        createdAt: now,
        expiresAt,
        revokedAt: null,
        lastUsedAt: null,
      };
      if ((await store.create(record)) === 'created') return { key, record };
    }
    throw new AuthError('STORE_CONFLICT', 'Could not find a free API key id; retry');
  }

  async function authenticate(presented: string, authOptions?: { readonly tenantId?: string | null }): Promise<AuthPrincipal> {
    const parts = format.parse(presented);
    if (parts === undefined) throw invalidKey();
    const tenantId = authOptions?.tenantId ?? currentTenantId();
    const now = clock.now();
    let entry = cache?.get(parts.id, now);
    if (entry === undefined) {
      const generation = cache?.generation ?? 0;
      const record = await store.findById(parts.id);
      entry = verifyRecord(record, parts.id, parts.secret, now);
      if (await revokedByEpoch(record!)) throw invalidKey();
      cache?.set(parts.id, entry, generation);
    } else {
      const digest = hashing.digest(parts.secret, entry.hashKeyId);
      if (digest === undefined || !digestsEqual(digest, entry.digest)) throw invalidKey();
    }
    if (tenantId !== undefined && entry.tenantId !== tenantId) throw invalidKey();
    usage.record(parts.id, now);
    await enforceRateLimit(entry);
    return entry.principal;
  }

  async function list(tenantId: string): Promise<readonly ApiKeyRecord[]> {
    parseOrThrow(identifierSchema, tenantId, 'VALIDATION_FAILED', 'tenant id');
    return store.listByTenant(tenantId);
  }

  async function revoke(tenantId: string, id: string): Promise<void> {
    parseOrThrow(identifierSchema, tenantId, 'VALIDATION_FAILED', 'tenant id');
    parseOrThrow(identifierSchema, id, 'VALIDATION_FAILED', 'API key id');
    if (!(await store.revoke(tenantId, id, clock.now()))) {
      const record = await store.findById(id);
      // Another tenant's key is "not found" too: its existence is not this tenant's to learn.
      if (record === null || record.tenantId !== tenantId) throw new AuthError('API_KEY_NOT_FOUND', 'No such API key');
    }
    cache?.delete(id);
    await revocation?.announce({ kind: 'api-key', id });
  }

  async function close(): Promise<void> {
    clearInterval(flushTimer);
    stopListening?.();
    cache?.clear();
    await usage.flush();
  }

  return Object.freeze({
    create,
    authenticate,
    list,
    revoke,
    flushUsage: () => usage.flush(),
    close,
  });
}
