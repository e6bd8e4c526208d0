/**
 * Store contracts of @tenantkit/auth. Every store is a small interface; the memory store is the
 * reference implementation and every adapter runs the same conformance suite
 * (`@tenantkit/test-utils` `describeAuthStoreConformance`).
 *
 * Units and rules that hold for every method:
 * - Times are epoch **milliseconds** (`number`).
 * - Secrets never reach a store: tokens, session cookies, refresh tokens, one-time tokens and
 *   API key secrets arrive as hashes (`…Hash`, lowercase hex or base64url, opaque to the store).
 * - Records come back as fresh objects; callers may not mutate what they passed in afterwards
 *   and the store may not keep references to caller objects.
 * - "Atomic" means: correct when many processes call at once against one shared database.
 * - A driver failure rejects with `AuthError('STORE_UNAVAILABLE')`; a broken precondition the
 *   method documents returns its documented outcome and never throws.
 * - A record past its `expiresAt` behaves as absent for every read that takes `now`; stores may
 *   delete it lazily.
 *
 * @module
 */

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

/**
 * A user account. Accounts are global (a person signs in once and belongs to many tenants
 * through tenant-context memberships); `email` is unique across the store.
 *
 * @example
 * ```ts
 * const account: AccountRecord = {
 *   id: 'usr_1', email: 'alice@example.com', passwordHash: '$scrypt$ln=17,r=8,p=1$...',
 *   passwordHistory: [], passwordChangedAt: 0, emailVerifiedAt: null, disabledAt: null,
 *   createdAt: 0, updatedAt: 0,
 * };
 * ```
 */
export interface AccountRecord {
  readonly id: string;
  /** Normalized (trimmed, lowercased) email; unique. */
  readonly email: string;
  /** PHC string of the current password, `null` for an account without one (invited, SSO). */
  readonly passwordHash: string | null;
  /** Earlier password hashes, newest first, at most the history limit given on the last change. */
  readonly passwordHistory: readonly string[];
  readonly passwordChangedAt: number | null;
  readonly emailVerifiedAt: number | null;
  readonly disabledAt: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * Accounts and their password hashes.
 *
 * @example
 * ```ts
 * const account = await stores.accounts.findByEmail('alice@example.com');
 * ```
 */
export interface AccountStore {
  /**
   * Inserts an account. Atomic on `email`: of two concurrent creates with one email exactly one
   * succeeds.
   * @returns `'created'`, or `'email-taken'` / `'id-taken'` and nothing written.
   * @example
   * ```ts
   * const outcome = await accounts.create(record); // 'created'
   * ```
   */
  create(account: AccountRecord): Promise<'created' | 'email-taken' | 'id-taken'>;
  /**
   * @example
   * ```ts
   * await accounts.findById('usr_1');
   * ```
   */
  findById(id: string): Promise<AccountRecord | null>;
  /**
   * Looks up by normalized email (the caller normalizes).
   * @example
   * ```ts
   * await accounts.findByEmail('alice@example.com');
   * ```
   */
  findByEmail(email: string): Promise<AccountRecord | null>;
  /**
   * Sets a new password. Atomic: the previous `passwordHash` (when not null) is pushed to the
   * front of `passwordHistory`, the history is cut to `historyLimit` entries (0 keeps none),
   * `passwordChangedAt` and `updatedAt` become `now`.
   * When `expectedPasswordHash` is given (including `null`), the change happens only if the
   * stored hash still equals it (compare-and-set; a concurrent change wins).
   * @returns the updated account, `'not-found'`, or `'conflict'` (expected hash differed).
   * @example
   * ```ts
   * await accounts.setPassword('usr_1', { passwordHash: next, historyLimit: 5, now: Date.now() });
   * ```
   */
  setPassword(
    id: string,
    change: { readonly passwordHash: string; readonly historyLimit: number; readonly now: number; readonly expectedPasswordHash?: string | null },
  ): Promise<AccountRecord | 'not-found' | 'conflict'>;
  /**
   * Replaces the current hash with a re-hash of the *same* password (parameters changed), only if
   * the stored hash still equals `expectedPasswordHash`. History and `passwordChangedAt` are not
   * touched.
   * @returns whether it was replaced.
   * @example
   * ```ts
   * await accounts.rehashPassword('usr_1', oldHash, newHash, Date.now());
   * ```
   */
  rehashPassword(id: string, expectedPasswordHash: string, passwordHash: string, now: number): Promise<boolean>;
  /**
   * Updates the flag fields given (`emailVerifiedAt`, `disabledAt`; `null` clears) and `updatedAt`.
   * @returns the updated account or `null` when it does not exist.
   * @example
   * ```ts
   * await accounts.update('usr_1', { emailVerifiedAt: Date.now() }, Date.now());
   * ```
   */
  update(
    id: string,
    patch: { readonly emailVerifiedAt?: number | null; readonly disabledAt?: number | null },
    now: number,
  ): Promise<AccountRecord | null>;
  /**
   * Deletes the account (sessions, families and keys are the caller's to revoke).
   * @returns whether it existed.
   * @example
   * ```ts
   * await accounts.delete('usr_1');
   * ```
   */
  delete(id: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

/**
 * What a session remembers about the device that opened it (shown in "your sessions").
 *
 * @example
 * ```ts
 * const device: SessionDevice = { userAgent: 'Mozilla/5.0 ...', ip: '203.0.113.7', label: 'Firefox on Linux' };
 * ```
 */
export interface SessionDevice {
  readonly userAgent: string | null;
  readonly ip: string | null;
  readonly label: string | null;
}

/**
 * A server-side session. The cookie holds an opaque secret; the store keeps only `tokenHash`.
 * `id` is public (it is the access token's `sid`, listed to the user) and is not a credential.
 *
 * @example
 * ```ts
 * const session: SessionRecord = {
 *   id: 'ses_1', tokenHash: 'b64url-sha256', userId: 'usr_1', tenantId: 'tnt_acme', amr: ['pwd'],
 *   device: { userAgent: null, ip: null, label: null }, createdAt: 0, lastSeenAt: 0,
 *   expiresAt: 86_400_000, absoluteExpiresAt: 2_592_000_000,
 * };
 * ```
 */
export interface SessionRecord {
  readonly id: string;
  readonly tokenHash: string;
  readonly userId: string;
  /** The active tenant, switched only after a membership check; `null` until one is picked. */
  readonly tenantId: string | null;
  readonly amr: readonly string[];
  readonly device: SessionDevice;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  /** Idle expiry: moves forward on touch, never past `absoluteExpiresAt`. */
  readonly expiresAt: number;
  readonly absoluteExpiresAt: number;
}

/**
 * Sessions. Lookups take `now` and treat expired sessions as absent.
 *
 * @example
 * ```ts
 * const session = await stores.sessions.findByTokenHash(hash, Date.now());
 * ```
 */
export interface SessionStore {
  /**
   * Inserts a session.
   * @returns `'created'` or `'id-taken'` (nothing written).
   * @example
   * ```ts
   * await sessions.create(record);
   * ```
   */
  create(session: SessionRecord): Promise<'created' | 'id-taken'>;
  /**
   * @example
   * ```ts
   * await sessions.findByTokenHash(hash, Date.now());
   * ```
   */
  findByTokenHash(tokenHash: string, now: number): Promise<SessionRecord | null>;
  /**
   * @example
   * ```ts
   * await sessions.findById('ses_1', Date.now());
   * ```
   */
  findById(id: string, now: number): Promise<SessionRecord | null>;
  /**
   * Sliding expiry: sets `lastSeenAt = now` and `expiresAt = min(expiresAt, absoluteExpiresAt)` of
   * the arguments, only while the session exists and has not expired at `now`. Never moves
   * `expiresAt` backwards.
   * @returns the updated session or `null`.
   * @example
   * ```ts
   * await sessions.touch('ses_1', { now, expiresAt: now + idleMs });
   * ```
   */
  touch(id: string, change: { readonly now: number; readonly expiresAt: number }): Promise<SessionRecord | null>;
  /**
   * Replaces session `id` by `next` atomically (a new id and token hash: on login over an
   * existing session, on privilege change, on tenant switch). Nothing is written when `id` is
   * gone or expired, or `next.id` is taken.
   * @returns `'rotated'`, `'not-found'` or `'id-taken'`.
   * @example
   * ```ts
   * await sessions.rotate('ses_1', { ...session, id: 'ses_2', tokenHash: newHash, tenantId: 'tnt_globex' }, now);
   * ```
   */
  rotate(id: string, next: SessionRecord, now: number): Promise<'rotated' | 'not-found' | 'id-taken'>;
  /**
   * The user's live sessions, newest `createdAt` first.
   * @example
   * ```ts
   * await sessions.listByUser('usr_1', Date.now());
   * ```
   */
  listByUser(userId: string, now: number): Promise<readonly SessionRecord[]>;
  /**
   * @returns whether a session was deleted.
   * @example
   * ```ts
   * await sessions.delete('ses_1');
   * ```
   */
  delete(id: string): Promise<boolean>;
  /**
   * Deletes every session of the user except `exceptId`.
   * @returns the deleted session ids.
   * @example
   * ```ts
   * await sessions.deleteByUser('usr_1', { exceptId: current.id });
   * ```
   */
  deleteByUser(userId: string, options?: { readonly exceptId?: string }): Promise<readonly string[]>;
}

// ---------------------------------------------------------------------------------------------
// Refresh-token families
// ---------------------------------------------------------------------------------------------

/**
 * A refresh-token family: every token descended from one sign-in. Revoking the family kills
 * every token in it.
 *
 * @example
 * ```ts
 * const family: RefreshFamilyRecord = {
 *   id: 'rtf_1', userId: 'usr_1', tenantId: 'tnt_acme', sessionId: 'ses_1', createdAt: 0,
 *   expiresAt: 2_592_000_000, revokedAt: null, revokedReason: null,
 * };
 * ```
 */
export interface RefreshFamilyRecord {
  readonly id: string;
  readonly userId: string;
  readonly tenantId: string | null;
  readonly sessionId: string | null;
  readonly createdAt: number;
  /** Absolute end of the family: no rotation extends it. */
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  /** `'reuse'`, `'logout'`, `'password-reset'`, `'user-revoked'`, `'admin'`… */
  readonly revokedReason: string | null;
}

/**
 * One refresh token of a family (stored by hash).
 *
 * `successorSealed` is set when the token is rotated: the successor pair encrypted under a key
 * derived from *this* token's secret, so a concurrent refresh inside the grace window (which
 * holds the same secret) can return the same new pair, and the store learns nothing.
 *
 * @example
 * ```ts
 * const token: RefreshTokenRecord = {
 *   tokenHash: 'b64url-sha256', familyId: 'rtf_1', generation: 0, issuedAt: 0, expiresAt: 1_209_600_000,
 *   rotatedAt: null, successorSealed: null,
 * };
 * ```
 */
export interface RefreshTokenRecord {
  readonly tokenHash: string;
  readonly familyId: string;
  readonly generation: number;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly rotatedAt: number | null;
  readonly successorSealed: string | null;
}

/**
 * The outcome of {@link RefreshTokenStore.rotate}.
 *
 * - `rotated`: the presented token was current; it is now rotated and `next` is stored.
 * - `grace`: it was rotated less than `graceMs` ago; nothing written; `successorSealed` is the
 *   pair the first refresh got.
 * - `reused`: it was rotated longer ago: the family is now revoked (reason `'reuse'`), atomically.
 * - `invalid`: unknown, expired, or the family is revoked or expired. Nothing written.
 *
 * @example
 * ```ts
 * if (outcome.outcome === 'reused') events.emit({ type: 'refresh-token-reused', familyId: outcome.family.id });
 * ```
 */
export type RefreshRotateOutcome =
  | { readonly outcome: 'rotated'; readonly family: RefreshFamilyRecord }
  | { readonly outcome: 'grace'; readonly family: RefreshFamilyRecord; readonly successorSealed: string | null }
  | { readonly outcome: 'reused'; readonly family: RefreshFamilyRecord }
  | { readonly outcome: 'invalid' };

/**
 * Refresh-token families and their tokens.
 *
 * @example
 * ```ts
 * await stores.refreshTokens.createFamily(family, firstToken);
 * ```
 */
export interface RefreshTokenStore {
  /**
   * Inserts a family with its first token.
   * @returns `'created'` or `'id-taken'`.
   * @example
   * ```ts
   * await refreshTokens.createFamily(family, token);
   * ```
   */
  createFamily(family: RefreshFamilyRecord, first: RefreshTokenRecord): Promise<'created' | 'id-taken'>;
  /**
   * The one atomic step of a refresh: looks up `presentedHash`, decides as
   * {@link RefreshRotateOutcome} says, and on `rotated` marks the presented token
   * (`rotatedAt = now`, `successorSealed`) and inserts `next` (same family, generation + 1), all or
   * nothing. Of N concurrent calls with one token exactly one gets `rotated`.
   * @example
   * ```ts
   * const outcome = await refreshTokens.rotate({ presentedHash, next, successorSealed, now, graceMs: 10_000 });
   * ```
   */
  rotate(input: {
    readonly presentedHash: string;
    readonly next: RefreshTokenRecord;
    readonly successorSealed: string;
    readonly now: number;
    readonly graceMs: number;
  }): Promise<RefreshRotateOutcome>;
  /**
   * @example
   * ```ts
   * await refreshTokens.findFamily('rtf_1');
   * ```
   */
  findFamily(id: string): Promise<RefreshFamilyRecord | null>;
  /**
   * Revokes one family (idempotent: an already revoked family keeps its first reason).
   * @returns whether a live family was revoked.
   * @example
   * ```ts
   * await refreshTokens.revokeFamily('rtf_1', 'logout', Date.now());
   * ```
   */
  revokeFamily(id: string, reason: string, now: number): Promise<boolean>;
  /**
   * Revokes every live family of the user (optionally only those of one session).
   * @returns the revoked family ids.
   * @example
   * ```ts
   * await refreshTokens.revokeByUser('usr_1', 'password-reset', Date.now());
   * ```
   */
  revokeByUser(userId: string, reason: string, now: number, options?: { readonly sessionId?: string }): Promise<readonly string[]>;
}

// ---------------------------------------------------------------------------------------------
// Revocation
// ---------------------------------------------------------------------------------------------

/**
 * What is revoked, as one verify needs to know it.
 *
 * @example
 * ```ts
 * const query: RevocationQuery = { jti: 'jti_1', sessionId: 'ses_1', userId: 'usr_1', tenantId: 'tnt_acme' };
 * ```
 */
export interface RevocationQuery {
  readonly jti: string;
  readonly sessionId: string | null;
  readonly userId: string;
  readonly tenantId: string | null;
}

/**
 * The answer to a {@link RevocationQuery}, in one round trip.
 *
 * `userEpoch` / `tenantEpoch` (epoch **milliseconds**): credentials issued strictly before the
 * epoch are revoked; `0` when none was set.
 *
 * @example
 * ```ts
 * const state: RevocationState = { jtiRevoked: false, sessionRevoked: false, userEpoch: 0, tenantEpoch: 0 };
 * ```
 */
export interface RevocationState {
  readonly jtiRevoked: boolean;
  readonly sessionRevoked: boolean;
  readonly userEpoch: number;
  readonly tenantEpoch: number;
}

/**
 * Revocation lists. Entries for a jti or session live until `until` (the token's or session's
 * end), so the store never grows without bound. Epochs only move forward (`max`).
 *
 * @example
 * ```ts
 * await stores.revocations.revokeToken('jti_1', exp * 1000);
 * ```
 */
export interface RevocationStore {
  /**
   * @example
   * ```ts
   * await revocations.revokeToken(jti, expMs);
   * ```
   */
  revokeToken(jti: string, until: number): Promise<void>;
  /**
   * @example
   * ```ts
   * await revocations.revokeSession('ses_1', session.absoluteExpiresAt);
   * ```
   */
  revokeSession(sessionId: string, until: number): Promise<void>;
  /**
   * Raises the user's or tenant's epoch to `epochMs` (never lowers it).
   * @returns the epoch now stored.
   * @example
   * ```ts
   * await revocations.raiseEpoch('user', 'usr_1', Date.now());
   * ```
   */
  raiseEpoch(kind: 'user' | 'tenant', id: string, epochMs: number): Promise<number>;
  /**
   * Answers a query in one round trip; entries past `until` at `now` are not revoked.
   * @example
   * ```ts
   * const state = await revocations.check(query, Date.now());
   * ```
   */
  check(query: RevocationQuery, now: number): Promise<RevocationState>;
}

/**
 * A revocation announced to every process so its caches drop the revoked credential at once.
 *
 * @example
 * ```ts
 * const event: RevocationEvent = { kind: 'user-epoch', id: 'usr_1', epoch: 1767225600000 };
 * ```
 */
export type RevocationEvent =
  | { readonly kind: 'jti'; readonly id: string; readonly until: number }
  | { readonly kind: 'session'; readonly id: string; readonly until: number }
  | { readonly kind: 'user-epoch'; readonly id: string; readonly epoch: number }
  | { readonly kind: 'tenant-epoch'; readonly id: string; readonly epoch: number }
  | { readonly kind: 'api-key'; readonly id: string }
  | { readonly kind: 'signing-key-retired'; readonly id: string };

/**
 * Carries {@link RevocationEvent}s between processes (in-process, or Redis pub/sub). Delivery may
 * be lossy; the verifier re-checks the store at least every `maxStalenessMs` as the backstop.
 *
 * @example
 * ```ts
 * const channel = redisRevocationChannel({ publisher: redis, subscriber: redis.duplicate() });
 * ```
 */
export interface RevocationChannel {
  /**
   * Sends to every subscribed process, this one included.
   * @example
   * ```ts
   * await channel.publish({ kind: 'session', id: 'ses_1', until });
   * ```
   */
  publish(event: RevocationEvent): Promise<void>;
  /**
   * Registers a listener; `onResync` is called when messages may have been missed (reconnect).
   * @returns a function that removes the listener.
   * @example
   * ```ts
   * const stop = await channel.subscribe((event) => cache.apply(event), () => cache.clear());
   * ```
   */
  subscribe(listener: (event: RevocationEvent) => void, onResync?: () => void): Promise<() => Promise<void>>;
  /**
   * Releases connections the channel opened itself.
   * @example
   * ```ts
   * await channel.close();
   * ```
   */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// One-time tokens (password reset, email verification, invitation)
// ---------------------------------------------------------------------------------------------

/**
 * What a one-time token is for; a token never works for another purpose.
 *
 * @example
 * ```ts
 * const purpose: OneTimeTokenPurpose = 'password-reset';
 * ```
 */
export type OneTimeTokenPurpose = 'password-reset' | 'email-verification' | 'invitation';

/**
 * A one-time token, stored by hash.
 *
 * `subject` is what the token acts on: a user id for reset and verification, a normalized email
 * for an invitation. `tenantId` is `null` except for invitations. `data` is small JSON the flow
 * needs back (an invitation's roles).
 *
 * @example
 * ```ts
 * const token: OneTimeTokenRecord = {
 *   tokenHash: 'b64url-sha256', purpose: 'password-reset', subject: 'usr_1', tenantId: null,
 *   data: {}, createdAt: 0, expiresAt: 3_600_000,
 * };
 * ```
 */
export interface OneTimeTokenRecord {
  readonly tokenHash: string;
  readonly purpose: OneTimeTokenPurpose;
  readonly subject: string;
  readonly tenantId: string | null;
  readonly data: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * One-time tokens.
 *
 * @example
 * ```ts
 * await stores.oneTimeTokens.issue(record);
 * ```
 */
export interface OneTimeTokenStore {
  /**
   * Inserts `token` and, atomically with it, deletes every other token with the same
   * `purpose`, `subject` and `tenantId` (reissue voids the earlier ones).
   * @returns how many earlier tokens were voided.
   * @example
   * ```ts
   * await oneTimeTokens.issue(record);
   * ```
   */
  issue(token: OneTimeTokenRecord): Promise<number>;
  /**
   * Takes the token: deletes it and returns it, only if it exists, has this `purpose` and has not
   * expired at `now`. Of N concurrent calls at most one gets the record.
   * @example
   * ```ts
   * const record = await oneTimeTokens.consume(hash, 'password-reset', Date.now());
   * ```
   */
  consume(tokenHash: string, purpose: OneTimeTokenPurpose, now: number): Promise<OneTimeTokenRecord | null>;
  /**
   * Deletes every token of `purpose` for `subject` (and `tenantId` when given).
   * @returns how many were deleted.
   * @example
   * ```ts
   * await oneTimeTokens.voidFor('password-reset', 'usr_1');
   * ```
   */
  voidFor(purpose: OneTimeTokenPurpose, subject: string, tenantId?: string | null): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// API keys
// ---------------------------------------------------------------------------------------------

/**
 * A tenant-owned API key. The presented key is `<prefix>_<id>_<secret>`; the store keeps the id
 * and a keyed hash (HMAC) of the secret, never the secret.
 *
 * @example
 * ```ts
 * const key: ApiKeyRecord = {
 *   id: 'k4x...', tenantId: 'tnt_acme', name: 'CI deploys', secretHash: 'b64url-hmac', hashKeyId: 'v1',
 *   scopes: ['projects:read'], createdBy: 'usr_1', createdAt: 0, expiresAt: null, revokedAt: null, lastUsedAt: null,
 * };
 * ```
 */
export interface ApiKeyRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly secretHash: string;
  /** Which hashing key made `secretHash` (so the pepper can rotate). */
  readonly hashKeyId: string;
  readonly scopes: readonly string[];
  /** The user who created it (its grants apply, capped by `scopes`); `null` for a scopes-only key. */
  readonly createdBy: string | null;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
}

/**
 * API keys.
 *
 * @example
 * ```ts
 * const key = await stores.apiKeys.findById('k4x...');
 * ```
 */
export interface ApiKeyStore {
  /**
   * @returns `'created'` or `'id-taken'`.
   * @example
   * ```ts
   * await apiKeys.create(record);
   * ```
   */
  create(key: ApiKeyRecord): Promise<'created' | 'id-taken'>;
  /**
   * By id alone (the presented key carries it; the tenant is checked by the caller). Returns
   * revoked and expired keys too, so the caller can tell them apart in logs.
   * @example
   * ```ts
   * await apiKeys.findById(id);
   * ```
   */
  findById(id: string): Promise<ApiKeyRecord | null>;
  /**
   * The tenant's keys (revoked ones included), newest first.
   * @example
   * ```ts
   * await apiKeys.listByTenant('tnt_acme');
   * ```
   */
  listByTenant(tenantId: string): Promise<readonly ApiKeyRecord[]>;
  /**
   * Sets `revokedAt` if the key belongs to `tenantId` and is not revoked yet.
   * @returns whether it was revoked now.
   * @example
   * ```ts
   * await apiKeys.revoke('tnt_acme', id, Date.now());
   * ```
   */
  revoke(tenantId: string, id: string, now: number): Promise<boolean>;
  /**
   * Writes batched last-used times; each key's `lastUsedAt` only moves forward. Unknown ids are
   * ignored.
   * @example
   * ```ts
   * await apiKeys.recordUsage([{ id, lastUsedAt: Date.now() }]);
   * ```
   */
  recordUsage(usage: readonly { readonly id: string; readonly lastUsedAt: number }[]): Promise<void>;
  /**
   * Deletes every key of the tenant (offboarding).
   * @returns how many were deleted.
   * @example
   * ```ts
   * await apiKeys.deleteByTenant('tnt_acme');
   * ```
   */
  deleteByTenant(tenantId: string): Promise<number>;
}

// ---------------------------------------------------------------------------------------------
// All stores
// ---------------------------------------------------------------------------------------------

/**
 * Every store auth needs. Adapters return a full or partial set; mix them, for example durable
 * accounts and API keys in SQL with sessions, refresh families and revocation in Redis:
 * `{ ...kyselyAuthStores(db), ...redisAuthStores(redis) }`.
 *
 * @example
 * ```ts
 * const stores: AuthStores = memoryAuthStores();
 * ```
 */
export interface AuthStores {
  readonly accounts: AccountStore;
  readonly sessions: SessionStore;
  readonly refreshTokens: RefreshTokenStore;
  readonly revocations: RevocationStore;
  readonly oneTimeTokens: OneTimeTokenStore;
  readonly apiKeys: ApiKeyStore;
}
