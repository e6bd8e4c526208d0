import type { AuthPrincipal } from '../principal.js';
import type { ApiKeyRecord } from '../store.js';

/**
 * A new API key: `key` is shown once and never stored.
 *
 * @example
 * ```ts
 * const { key, record } = await apiKeys.create({ tenantId: 'tnt_acme', name: 'CI', scopes: ['projects:read'], creator });
 * ```
 */
export interface CreatedApiKey {
  readonly key: string;
  readonly record: ApiKeyRecord;
}

/**
 * What a new key is.
 *
 * @example
 * ```ts
 * const input: CreateApiKeyInput = { tenantId: 'tnt_acme', name: 'CI', scopes: ['projects:read'], creator: principal, expiresAt: null };
 * ```
 */
export interface CreateApiKeyInput {
  readonly tenantId: string;
  readonly name: string;
  readonly scopes: readonly string[];
  /** The user creating it: every scope must be a permission they hold in `tenantId`. */
  readonly creator: AuthPrincipal;
  readonly expiresAt?: number | null;
  /** `true`: the key acts only through its scopes, without the creator's grants. */
  readonly scopesOnly?: boolean;
}

/**
 * Tenant-owned API keys: prefixed (`<prefix>_<id>_<secret>`, so leaked keys are recognisable to
 * secret scanners), shown once, stored as an HMAC of the secret under a server-side pepper,
 * scopes no wider than the creator's permissions, expiry, last-used time flushed in batches
 * (no write per request), revocation that applies at once in every process. A key acts with its
 * creator's grants, so it ends with the creator's credentials: `revokeUser`, a password reset
 * and `disableUser` of the creator (and `revokeTenant` of its tenant) refuse every key created
 * before them (the user or tenant epoch; needs the `revocation` option, which `createAuth`
 * always sets).
 *
 * @example
 * ```ts
 * const apiKeys = createApiKeyService({ store: stores.apiKeys, hashKeys: [{ id: 'v1', secret: process.env.API_KEY_PEPPER! }], permissions: rbac.checker, revocation });
 * const principal = await apiKeys.authenticate(request.headers['x-api-key']);
 * ```
 */
export interface ApiKeyService {
  /** @throws `API_KEY_SCOPE_FORBIDDEN`, `PERMISSION_INVALID`, `VALIDATION_FAILED`, `TENANT_SCOPE_CONFLICT` */
  create(input: CreateApiKeyInput): Promise<CreatedApiKey>;
  /**
   * The principal of a presented key. When `tenantId` is given the key must belong to it.
   * @throws `API_KEY_INVALID` (malformed, unknown, wrong secret, revoked, expired, other tenant, created before its creator's or tenant's epoch)
   */
  authenticate(presented: string, options?: { readonly tenantId?: string | null }): Promise<AuthPrincipal>;
  /** The tenant's keys without secrets. */
  list(tenantId: string): Promise<readonly ApiKeyRecord[]>;
  /** @throws `API_KEY_NOT_FOUND` */
  revoke(tenantId: string, id: string): Promise<void>;
  /** Writes pending last-used times now (also runs every `usageFlushMs` and on close). */
  flushUsage(): Promise<void>;
  close(): Promise<void>;
}
