import { createId, createSecretToken, systemClock, type Clock } from '@tenantkit/core';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { RevocationService } from '../revocation/revocation-service.js';
import { hashSecret } from '../secrets/hash-secret.js';
import type { SessionRecord, SessionStore } from '../store.js';
import type { IssuedSession, SessionService } from './session-service.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

/**
 * The membership check a tenant switch needs; tenant-context's `MembershipService` fits.
 *
 * @example
 * ```ts
 * const memberships: SessionMembershipCheck = createMembershipService({ store: stores.memberships, registry });
 * ```
 */
export interface SessionMembershipCheck {
  /**
   * Resolves when the user may act in the tenant; rejects otherwise (`MEMBERSHIP_NOT_FOUND`,
   * `MEMBERSHIP_INACTIVE`, `TENANT_SUSPENDED`, `TENANT_NOT_READY`).
   * @example
   * ```ts
   * await memberships.requireActiveMembership('tnt_acme', 'usr_1');
   * ```
   */
  requireActiveMembership(tenantId: string, userId: string): Promise<unknown>;
}

/**
 * Options of {@link createSessionService}.
 *
 * @example
 * ```ts
 * const options: SessionServiceOptions = {
 *   store: stores.sessions,
 *   revocation,
 *   memberships,
 *   idleTimeoutSeconds: 30 * 60,
 *   absoluteTimeoutSeconds: 12 * 3_600,
 * };
 * ```
 */
export interface SessionServiceOptions {
  readonly store: SessionStore;
  /** Where a replaced or revoked session id is revoked, so access tokens carrying it (`sid`) stop working. */
  readonly revocation: RevocationService;
  /** Checks tenant switches; without it `switchTenant` throws `CONFIGURATION_INVALID`. */
  readonly memberships?: SessionMembershipCheck;
  /**
   * A session unused this long expires. Default 7 days (a "stay signed in" web app); use
   * minutes for high-assurance apps (OWASP ASVS level 2 asks for 30 minutes at most).
   */
  readonly idleTimeoutSeconds?: number;
  /** A session ends this long after sign-in whatever its use; no touch or rotation extends it. Default 30 days. */
  readonly absoluteTimeoutSeconds?: number;
  /**
   * `validate` writes the sliding expiry only when the last write is older than this, so a busy
   * session is not written on every request. Default 60; must be below `idleTimeoutSeconds`.
   */
  readonly touchIntervalSeconds?: number;
  /**
   * How long a revoked session id stays revoked after the session's absolute end (or after now,
   * for a session revoked once it had no record): the longest an access token carrying its
   * `sid` can still verify, i.e. the access-token lifetime plus the verifier's clock tolerance.
   * A refresh just before the absolute end mints a token that outlives the session by that
   * much, so a shorter retention would let a logged-out session's last token verify again.
   * 0 to 90 days; default 930 (`createAccessTokenService`'s 900 s lifetime + 30 s tolerance);
   * `createAuth` sets it from `accessTokenTtlSeconds`.
   */
  readonly revocationRetentionSeconds?: number;
  readonly clock?: Clock;
}

const DAY_SECONDS = 86_400;
const MAX_LIFETIME_SECONDS = 3_650 * DAY_SECONDS;
/** `createSecretToken(32)`: 43 base64url characters. */
const SESSION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const DEVICE_FIELD_MAX_LENGTH = { userAgent: 512, ip: 64, label: 128 } as const;


function hasMethods(value: unknown, methods: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
}

const optionsSchema = z
  .object({
    store: z.custom<SessionStore>(
      (value) => hasMethods(value, ['create', 'findByTokenHash', 'findById', 'touch', 'rotate', 'listByUser', 'delete', 'deleteByUser']),
      'must be a SessionStore',
    ),
    revocation: z.custom<RevocationService>((value) => hasMethods(value, ['revokeSession']), 'must be a RevocationService'),
    memberships: z
      .custom<SessionMembershipCheck>((value) => hasMethods(value, ['requireActiveMembership']), 'must have requireActiveMembership()')
      .optional(),
    idleTimeoutSeconds: z.int().min(1).max(MAX_LIFETIME_SECONDS).default(7 * DAY_SECONDS),
    absoluteTimeoutSeconds: z.int().min(1).max(MAX_LIFETIME_SECONDS).default(30 * DAY_SECONDS),
    touchIntervalSeconds: z.int().min(0).max(MAX_LIFETIME_SECONDS).default(60),
    revocationRetentionSeconds: z.int().min(0).max(90 * DAY_SECONDS).default(930),
    clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').default(systemClock),
  })
  .refine((options) => options.idleTimeoutSeconds <= options.absoluteTimeoutSeconds, {
    message: 'must not exceed absoluteTimeoutSeconds',
    path: ['idleTimeoutSeconds'],
  })
  .refine((options) => options.touchIntervalSeconds < options.idleTimeoutSeconds, {
    // A busy session would otherwise expire between two writes.
    message: 'must be below idleTimeoutSeconds',
    path: ['touchIntervalSeconds'],
  });

const idSchema = z.string().min(1).max(255);
const amrSchema = z.array(z.string().min(1).max(64)).max(16);
// Device facts are shown to the user, never trusted: overlong values are cut, not refused.
const deviceFieldSchema = (maxLength: number) =>
  z
    .string()
    .nullable()
    .optional()
    .transform((value) => (typeof value === 'string' ? value.slice(0, maxLength) : null));
const createInputSchema = z.strictObject({
  userId: idSchema,
  tenantId: idSchema.nullable(),
  amr: amrSchema,
  device: z
    .strictObject({
      userAgent: deviceFieldSchema(DEVICE_FIELD_MAX_LENGTH.userAgent),
      ip: deviceFieldSchema(DEVICE_FIELD_MAX_LENGTH.ip),
      label: deviceFieldSchema(DEVICE_FIELD_MAX_LENGTH.label),
    })
    .optional(),
});
const rotateChangesSchema = z.strictObject({ amr: amrSchema.optional() }).optional();
const revokeAllOptionsSchema = z.strictObject({ exceptId: idSchema.optional() }).optional();

function invalidSession(): AuthError {
  return new AuthError('SESSION_INVALID', 'The session is invalid or expired');
}

function idTaken(): AuthError {
  // 103 random bits do not collide; a store that says so is broken or replaying writes.
  return new AuthError('STORE_CONFLICT', 'The session could not be stored; retry');
}

/**
 * Creates a {@link SessionService}: server-side sessions behind an opaque cookie secret.
 *
 * - The secret is `createSecretToken(32)` (256 bits); the store keeps only its SHA-256
 *   (`hashSecret`). A value that cannot be a secret is refused with `SESSION_INVALID` without
 *   asking the store.
 * - Idle expiry slides forward on `validate`, written at most once per `touchIntervalSeconds`,
 *   never past the absolute end.
 * - `rotate` and `switchTenant` replace the session by one with a new id and secret (keeping its
 *   sign-in time and absolute end) and revoke the old id in the revocation service, so access
 *   tokens carrying the old `sid` stop working everywhere. `switchTenant` checks the membership
 *   first; its errors pass through.
 * - `revoke` and `revokeAll` delete the sessions and revoke their ids the same way.
 * - A revoked id stays revoked until the session's absolute end plus
 *   `revocationRetentionSeconds`, so no access token of the session (minted at the latest just
 *   before that end) verifies again once the entry lapses.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for invalid options.
 * @example
 * ```ts
 * const sessions = createSessionService({ store: memorySessionStore(), revocation, memberships });
 * const { token } = await sessions.create({ userId: 'usr_1', tenantId: null, amr: ['pwd'], device: { userAgent, ip } });
 * const session = await sessions.validate(token);
 * const switched = await sessions.switchTenant(token, 'tnt_acme');
 * ```
 */
export function createSessionService(options: SessionServiceOptions): SessionService {
  const { store, revocation, memberships, idleTimeoutSeconds, absoluteTimeoutSeconds, touchIntervalSeconds, revocationRetentionSeconds, clock } = parseOrThrow(
    optionsSchema,
    options,
    'CONFIGURATION_INVALID',
    'createSessionService options',
  );
  const idleMs = idleTimeoutSeconds * 1000;
  const absoluteMs = absoluteTimeoutSeconds * 1000;
  const touchIntervalMs = touchIntervalSeconds * 1000;
  const retentionMs = revocationRetentionSeconds * 1000;

  /** Revokes a session id until the last access token it can have issued has stopped verifying. */
  function revokeSessionId(id: string, absoluteExpiresAt: number, now: number): Promise<void> {
    return revocation.revokeSession(id, Math.max(absoluteExpiresAt, now) + retentionMs);
  }

  function issueSecret(): { readonly token: string; readonly tokenHash: string } {
    const token = createSecretToken(32);
    return { token, tokenHash: hashSecret(token) };
  }

  async function findByToken(token: unknown, now: number): Promise<SessionRecord> {
    if (typeof token !== 'string' || !SESSION_TOKEN_PATTERN.test(token)) throw invalidSession();
    const session = await store.findByTokenHash(hashSecret(token), now);
    if (session === null) throw invalidSession();
    return session;
  }

  /** Replaces `current` by a session with a new id and secret; the old id is revoked. */
  async function replace(current: SessionRecord, changes: Partial<Pick<SessionRecord, 'amr' | 'tenantId'>>, now: number): Promise<IssuedSession> {
    const { token, tokenHash } = issueSecret();
    const next: SessionRecord = {
      ...current,
      ...changes,
      id: createId('ses'),
      tokenHash,
      lastSeenAt: now,
      expiresAt: Math.min(now + idleMs, current.absoluteExpiresAt),
    };
    const outcome = await store.rotate(current.id, next, now);
    // Gone since it was read: revoked, expired or replaced by a concurrent rotation.
    if (outcome === 'not-found') throw invalidSession();
    if (outcome === 'id-taken') throw idTaken();
    // After the store write: if this fails the caller gets an error (and never the new secret),
    // and the old id's access tokens live on only until their own short expiry.
    await revokeSessionId(current.id, current.absoluteExpiresAt, now);
    return { session: next, token };
  }

  return {
    async create(input) {
      const checked = parseOrThrow(createInputSchema, input, 'VALIDATION_FAILED', 'session input');
      const now = clock.now();
      const { token, tokenHash } = issueSecret();
      const absoluteExpiresAt = now + absoluteMs;
      const session: SessionRecord = {
        id: createId('ses'),
        tokenHash,
        userId: checked.userId,
        tenantId: checked.tenantId,
        amr: [...checked.amr],
        device: {
          userAgent: checked.device?.userAgent ?? null,
          ip: checked.device?.ip ?? null,
          label: checked.device?.label ?? null,
        },
        createdAt: now,
        lastSeenAt: now,
        expiresAt: Math.min(now + idleMs, absoluteExpiresAt),
        absoluteExpiresAt,
      };
      if ((await store.create(session)) !== 'created') throw idTaken();
      return { session, token };
    },

    async validate(token) {
      const now = clock.now();
      const session = await findByToken(token, now);
      if (now - session.lastSeenAt < touchIntervalMs) return session;
      const touched = await store.touch(session.id, { now, expiresAt: Math.min(now + idleMs, session.absoluteExpiresAt) });
      if (touched === null) throw invalidSession();
      return touched;
    },

    async rotate(token, changes) {
      const checked = parseOrThrow(rotateChangesSchema, changes, 'VALIDATION_FAILED', 'session changes');
      const now = clock.now();
      const current = await findByToken(token, now);
      return replace(current, checked?.amr === undefined ? {} : { amr: [...checked.amr] }, now);
    },

    async switchTenant(token, tenantId) {
      if (memberships === undefined) {
        throw new AuthError('CONFIGURATION_INVALID', 'switchTenant needs the memberships option of createSessionService');
      }
      const checkedTenantId = parseOrThrow(idSchema, tenantId, 'VALIDATION_FAILED', 'tenant id');
      const now = clock.now();
      const current = await findByToken(token, now);
      await memberships.requireActiveMembership(checkedTenantId, current.userId);
      return replace(current, { tenantId: checkedTenantId }, now);
    },

    async list(userId) {
      parseOrThrow(idSchema, userId, 'VALIDATION_FAILED', 'user id');
      return store.listByUser(userId, clock.now());
    },

    async revoke(userId, sessionId) {
      parseOrThrow(idSchema, userId, 'VALIDATION_FAILED', 'user id');
      parseOrThrow(idSchema, sessionId, 'VALIDATION_FAILED', 'session id');
      const now = clock.now();
      const session = await store.findById(sessionId, now);
      // Someone else's session is answered like a missing one.
      if (session === null || session.userId !== userId) return false;
      const deleted = await store.delete(session.id);
      if (deleted) await revokeSessionId(session.id, session.absoluteExpiresAt, now);
      return deleted;
    },

    async revokeAll(userId, revokeOptions) {
      parseOrThrow(idSchema, userId, 'VALIDATION_FAILED', 'user id');
      const checked = parseOrThrow(revokeAllOptionsSchema, revokeOptions, 'VALIDATION_FAILED', 'revokeAll options');
      const now = clock.now();
      const listed = new Map((await store.listByUser(userId, now)).map((session) => [session.id, session.absoluteExpiresAt]));
      const deleted = await store.deleteByUser(userId, checked?.exceptId === undefined ? {} : { exceptId: checked.exceptId });
      // A session created between the two calls was not listed: no session outlives now + the absolute timeout.
      await Promise.all(deleted.map((id) => revokeSessionId(id, listed.get(id) ?? now + absoluteMs, now)));
      return deleted;
    },
  };
}
