import { systemClock, type Clock } from '@tenantkit/core';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import { hashSecret } from '../secrets/hash-secret.js';
import type { RefreshFamilyRecord, RefreshTokenRecord, RefreshTokenStore } from '../store.js';
import type { MintAccessToken, RefreshTokenService, TokenPair } from './refresh-token-service.js';
import { composeRefreshToken, createFamilySecret, familyIdOf, parseRefreshToken } from './refresh-token-format.js';
import { sealSuccessor, unsealSuccessor } from './successor-seal.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

/**
 * Options of {@link createRefreshTokenService}.
 *
 * @example
 * ```ts
 * const options: RefreshTokenServiceOptions = {
 *   store: stores.refreshTokens,
 *   ttlSeconds: 14 * 86_400,
 *   familyTtlSeconds: 90 * 86_400,
 *   graceSeconds: 10,
 *   onReuse: (family) => events.emit('refresh-token-reused', { userId: family.userId, familyId: family.id, tenantId: family.tenantId, sessionId: family.sessionId }),
 * };
 * ```
 */
export interface RefreshTokenServiceOptions {
  readonly store: RefreshTokenStore;
  /** Lifetime of one refresh token, capped by its family's end. Default 14 days. */
  readonly ttlSeconds?: number;
  /** Absolute lifetime of a family (one sign-in); no rotation extends it. Default 90 days. */
  readonly familyTtlSeconds?: number;
  /**
   * How long after a rotation the rotated token still gets the same new pair (concurrent tabs,
   * a retried request), 0 to 60. Default 10. Later, the token counts as reused.
   */
  readonly graceSeconds?: number;
  /**
   * Called once when reuse of a rotated token revoked its family (the security event), with the
   * revoked family. A returned promise is awaited before the refusal, so follow-up revocations
   * (the family's session) are done when the client hears back. What it throws or rejects with
   * does not change the refusal: it becomes the `cause` of the `REFRESH_TOKEN_REUSED` error.
   */
  readonly onReuse?: (family: RefreshFamilyRecord) => void | Promise<void>;
  readonly clock?: Clock;
}

const DAY_SECONDS = 86_400;
const MAX_LIFETIME_SECONDS = 3_650 * DAY_SECONDS;


function hasMethods(value: unknown, methods: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
}

const optionsSchema = z
  .object({
    store: z.custom<RefreshTokenStore>(
      (value) => hasMethods(value, ['createFamily', 'rotate', 'findFamily', 'revokeFamily', 'revokeByUser']),
      'must be a RefreshTokenStore',
    ),
    ttlSeconds: z.int().min(1).max(MAX_LIFETIME_SECONDS).default(14 * DAY_SECONDS),
    familyTtlSeconds: z.int().min(1).max(MAX_LIFETIME_SECONDS).default(90 * DAY_SECONDS),
    graceSeconds: z.int().min(0).max(60).default(10),
    onReuse: z
      .custom<(family: RefreshFamilyRecord) => void | Promise<void>>((value) => typeof value === 'function', 'must be a function')
      .optional(),
    clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').default(systemClock),
  })
  .refine((options) => options.ttlSeconds <= options.familyTtlSeconds, {
    message: 'must not exceed familyTtlSeconds',
    path: ['ttlSeconds'],
  });

const idSchema = z.string().min(1).max(255);
const ownerSchema = z.strictObject({
  userId: idSchema,
  tenantId: idSchema.nullable(),
  sessionId: idSchema.nullable(),
});
const reasonSchema = z.string().trim().min(1, 'must not be empty').max(100);
const revokeUserOptionsSchema = z.strictObject({ sessionId: idSchema.optional() }).optional();
const mintSchema = z.custom<MintAccessToken>((value) => typeof value === 'function', 'must be a function');

function invalidToken(): AuthError {
  // One answer for every way a refresh token can be wrong: nothing to learn from the difference.
  return new AuthError('REFRESH_TOKEN_INVALID', 'The refresh token is invalid or expired');
}

function isLiveFamily(family: RefreshFamilyRecord | null, now: number): family is RefreshFamilyRecord {
  return family !== null && family.revokedAt === null && family.expiresAt > now;
}

/**
 * Creates a {@link RefreshTokenService}: opaque refresh tokens stored as hashes, organised in
 * families (one per sign-in), rotated on every use.
 *
 * - `rotate` mints the next access token first (a `mint` that throws refuses the refresh and
 *   writes nothing), seals the new pair under a key derived from the presented token and makes
 *   one atomic `store.rotate`. Concurrent refreshes with one token inside `graceSeconds` all get
 *   the pair the first one stored; the token presented again later counts as stolen: its family
 *   is revoked (the never-used current token dies with it), `onReuse` is called and the call
 *   fails with `REFRESH_TOKEN_REUSED`.
 * - A new token expires `ttlSeconds` after its rotation, never after its family's end.
 * - Tokens read `<familySecret>.<generation>.<secret>`, about 70 characters of base64url: the
 *   family part lets the service find the family to mint for before the atomic step; only
 *   holders of a family's token can name the family (its id is derived from the secret by
 *   SHA-256).
 *
 * @throws AuthError `CONFIGURATION_INVALID` for invalid options.
 * @example
 * ```ts
 * const refresh = createRefreshTokenService({
 *   store: memoryRefreshTokenStore(),
 *   onReuse: (family) => audit.record('security.refresh-reuse', { familyId: family.id, userId: family.userId }),
 * });
 * const mint: MintAccessToken = (family) => tokens.issue({ userId: family.userId, tenantId: family.tenantId, sessionId: family.sessionId });
 * const first = await refresh.startFamily({ userId: 'usr_1', tenantId: 'tnt_acme', sessionId: 'ses_1' }, mint);
 * const next = await refresh.rotate(first.refreshToken, mint);
 * ```
 */
export function createRefreshTokenService(options: RefreshTokenServiceOptions): RefreshTokenService {
  const { store, ttlSeconds, familyTtlSeconds, graceSeconds, onReuse, clock } = parseOrThrow(
    optionsSchema,
    options,
    'CONFIGURATION_INVALID',
    'createRefreshTokenService options',
  );
  const ttlMs = ttlSeconds * 1000;
  const familyTtlMs = familyTtlSeconds * 1000;
  const graceMs = graceSeconds * 1000;

  async function reportReuse(family: RefreshFamilyRecord): Promise<AuthError> {
    let cause: unknown;
    try {
      await onReuse?.(family);
    } catch (error) {
      cause = error;
    }
    return new AuthError(
      'REFRESH_TOKEN_REUSED',
      'The refresh token was already used; every token of its sign-in is revoked',
      cause === undefined ? undefined : { cause },
    );
  }

  return {
    async startFamily(owner, mint) {
      const checkedOwner = parseOrThrow(ownerSchema, owner, 'VALIDATION_FAILED', 'refresh family owner');
      parseOrThrow(mintSchema, mint, 'VALIDATION_FAILED', 'mint');
      const now = clock.now();
      const familySecret = createFamilySecret();
      const family: RefreshFamilyRecord = {
        id: familyIdOf(familySecret),
        userId: checkedOwner.userId,
        tenantId: checkedOwner.tenantId,
        sessionId: checkedOwner.sessionId,
        createdAt: now,
        expiresAt: now + familyTtlMs,
        revokedAt: null,
        revokedReason: null,
      };
      // Minted before anything is written: a mint that refuses leaves no family behind.
      const accessToken = await mint({ ...family });
      const refreshToken = composeRefreshToken(familySecret, 0);
      const first: RefreshTokenRecord = {
        tokenHash: hashSecret(refreshToken),
        familyId: family.id,
        generation: 0,
        issuedAt: now,
        expiresAt: Math.min(now + ttlMs, family.expiresAt),
        rotatedAt: null,
        successorSealed: null,
      };
      if ((await store.createFamily(family, first)) !== 'created') {
        // 128 random bits do not collide; a store that says so is broken or replaying writes.
        throw new AuthError('STORE_CONFLICT', 'The refresh family could not be created; retry');
      }
      return { accessToken, refreshToken, refreshExpiresAt: first.expiresAt, family };
    },

    async rotate(presented, mint) {
      const parts = parseRefreshToken(presented);
      if (parts === null) throw invalidToken();
      parseOrThrow(mintSchema, mint, 'VALIDATION_FAILED', 'mint');
      const now = clock.now();
      const family = await store.findFamily(familyIdOf(parts.familySecret));
      // Checked here too so nothing is minted for a revoked or ended sign-in.
      if (!isLiveFamily(family, now)) throw invalidToken();

      const accessToken = await mint(family);
      const refreshToken = composeRefreshToken(parts.familySecret, parts.generation + 1);
      const next: RefreshTokenRecord = {
        tokenHash: hashSecret(refreshToken),
        familyId: family.id,
        generation: parts.generation + 1,
        issuedAt: now,
        expiresAt: Math.min(now + ttlMs, family.expiresAt),
        rotatedAt: null,
        successorSealed: null,
      };
      const successorSealed = sealSuccessor(presented, { refreshToken, accessToken, refreshExpiresAt: next.expiresAt });
      const outcome = await store.rotate({ presentedHash: hashSecret(presented), next, successorSealed, now, graceMs });

      switch (outcome.outcome) {
        case 'rotated':
          return { accessToken, refreshToken, refreshExpiresAt: next.expiresAt, family: outcome.family } satisfies TokenPair;
        case 'grace': {
          // Another refresh with this token won the race moments ago: hand out the pair it got.
          const successor = outcome.successorSealed === null ? null : unsealSuccessor(presented, outcome.successorSealed);
          if (successor === null) throw invalidToken();
          return { ...successor, family: outcome.family } satisfies TokenPair;
        }
        case 'reused':
          throw await reportReuse(outcome.family);
        default:
          throw invalidToken();
      }
    },

    async revokeFamily(familyId, reason) {
      parseOrThrow(idSchema, familyId, 'VALIDATION_FAILED', 'family id');
      const checkedReason = parseOrThrow(reasonSchema, reason, 'VALIDATION_FAILED', 'revocation reason');
      return store.revokeFamily(familyId, checkedReason, clock.now());
    },

    async revokeByToken(presented, reason) {
      const checkedReason = parseOrThrow(reasonSchema, reason, 'VALIDATION_FAILED', 'revocation reason');
      const parts = parseRefreshToken(presented);
      // Logging out with a token that is not one is a no-op, not an error.
      if (parts === null) return false;
      return store.revokeFamily(familyIdOf(parts.familySecret), checkedReason, clock.now());
    },

    async revokeUser(userId, reason, revokeOptions) {
      parseOrThrow(idSchema, userId, 'VALIDATION_FAILED', 'user id');
      const checkedReason = parseOrThrow(reasonSchema, reason, 'VALIDATION_FAILED', 'revocation reason');
      const checkedOptions = parseOrThrow(revokeUserOptionsSchema, revokeOptions, 'VALIDATION_FAILED', 'revokeUser options');
      return store.revokeByUser(
        userId,
        checkedReason,
        clock.now(),
        checkedOptions?.sessionId === undefined ? undefined : { sessionId: checkedOptions.sessionId },
      );
    },
  };
}
