import { AuthError } from '../../errors.js';
import type { RefreshFamilyRecord, RefreshRotateOutcome, RefreshTokenRecord, RefreshTokenStore } from '../../store.js';

/*
 * The reference `RefreshTokenStore`. It lives in one process, so every method is atomic by
 * construction: each one checks and writes with no `await` in between, which is what makes
 * "of N concurrent rotations exactly one gets `rotated`" hold here. Records are copied on the way
 * in and out; everything is keyed by `Map`.
 */

function copyRecord<T>(record: T): T {
  try {
    return structuredClone(record);
  } catch (cause) {
    throw new AuthError('VALIDATION_FAILED', 'The record holds values a store cannot keep (functions, symbols)', { cause });
  }
}

function assertFiniteNumber(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AuthError('VALIDATION_FAILED', `${field} must be a finite number`, { details: { field } });
  }
}

function assertNonEmptyString(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AuthError('VALIDATION_FAILED', `${field} must be a non-empty string`, { details: { field } });
  }
}

function assertFamily(family: RefreshFamilyRecord): void {
  if (typeof family !== 'object' || family === null) throw new AuthError('VALIDATION_FAILED', 'The family must be a RefreshFamilyRecord');
  assertNonEmptyString(family.id, 'family.id');
  assertNonEmptyString(family.userId, 'family.userId');
  assertFiniteNumber(family.createdAt, 'family.createdAt');
  assertFiniteNumber(family.expiresAt, 'family.expiresAt');
}

function assertToken(token: RefreshTokenRecord, field: string): void {
  if (typeof token !== 'object' || token === null) throw new AuthError('VALIDATION_FAILED', `${field} must be a RefreshTokenRecord`);
  assertNonEmptyString(token.tokenHash, `${field}.tokenHash`);
  assertNonEmptyString(token.familyId, `${field}.familyId`);
  if (!Number.isSafeInteger(token.generation) || token.generation < 0) {
    throw new AuthError('VALIDATION_FAILED', `${field}.generation must be a whole number`, { details: { field: `${field}.generation` } });
  }
  assertFiniteNumber(token.issuedAt, `${field}.issuedAt`);
  assertFiniteNumber(token.expiresAt, `${field}.expiresAt`);
}

function isLiveFamily(family: RefreshFamilyRecord, now: number): boolean {
  return family.revokedAt === null && family.expiresAt > now;
}

/**
 * An in-process {@link RefreshTokenStore}: the reference implementation every refresh-token
 * adapter is checked against; for tests, examples and single-process apps. State is lost on exit
 * and not shared between processes.
 *
 * Expired tokens are dropped when a rotation of their family meets them. Rotated tokens are
 * kept until they expire, because a rotated token that comes back is how reuse is detected.
 * `createFamily` answers `'id-taken'` also when the first token's hash is already stored.
 *
 * @example
 * ```ts
 * import { memoryRefreshTokenStore } from '@tenantkit/auth';
 *
 * const refresh = createRefreshTokenService({ store: memoryRefreshTokenStore() });
 * ```
 */
export function memoryRefreshTokenStore(): RefreshTokenStore {
  const families = new Map<string, RefreshFamilyRecord>();
  const tokens = new Map<string, RefreshTokenRecord>();
  const tokenHashesByFamily = new Map<string, Set<string>>();
  const familyIdsByUser = new Map<string, Set<string>>();

  function insertToken(token: RefreshTokenRecord): void {
    tokens.set(token.tokenHash, token);
    let hashes = tokenHashesByFamily.get(token.familyId);
    if (hashes === undefined) {
      hashes = new Set();
      tokenHashesByFamily.set(token.familyId, hashes);
    }
    hashes.add(token.tokenHash);
  }

  function dropExpiredTokens(familyId: string, now: number): void {
    const hashes = tokenHashesByFamily.get(familyId);
    if (hashes === undefined) return;
    for (const hash of hashes) {
      const token = tokens.get(hash);
      if (token === undefined || token.expiresAt <= now) {
        tokens.delete(hash);
        hashes.delete(hash);
      }
    }
  }

  function revoke(family: RefreshFamilyRecord, reason: string, now: number): RefreshFamilyRecord {
    const revoked: RefreshFamilyRecord = { ...family, revokedAt: now, revokedReason: reason };
    families.set(family.id, revoked);
    return revoked;
  }

  return {
    async createFamily(family, first) {
      assertFamily(family);
      assertToken(first, 'first');
      if (first.familyId !== family.id) {
        throw new AuthError('VALIDATION_FAILED', "The first token's familyId must be the family's id", { details: { field: 'first.familyId' } });
      }
      const storedFamily = copyRecord(family);
      const storedToken = copyRecord(first);
      if (families.has(storedFamily.id) || tokens.has(storedToken.tokenHash)) return 'id-taken';
      families.set(storedFamily.id, storedFamily);
      let ids = familyIdsByUser.get(storedFamily.userId);
      if (ids === undefined) {
        ids = new Set();
        familyIdsByUser.set(storedFamily.userId, ids);
      }
      ids.add(storedFamily.id);
      insertToken(storedToken);
      return 'created';
    },

    async rotate(input): Promise<RefreshRotateOutcome> {
      assertNonEmptyString(input.presentedHash, 'presentedHash');
      assertToken(input.next, 'next');
      assertNonEmptyString(input.successorSealed, 'successorSealed');
      assertFiniteNumber(input.now, 'now');
      if (!Number.isFinite(input.graceMs) || input.graceMs < 0) {
        throw new AuthError('VALIDATION_FAILED', 'graceMs must be a non-negative number', { details: { field: 'graceMs' } });
      }
      const { presentedHash, successorSealed, now, graceMs } = input;
      const presented = tokens.get(presentedHash);
      if (presented === undefined) return { outcome: 'invalid' };
      const family = families.get(presented.familyId);
      if (presented.expiresAt <= now || family === undefined || !isLiveFamily(family, now)) return { outcome: 'invalid' };

      if (presented.rotatedAt !== null) {
        if (now - presented.rotatedAt < graceMs) {
          return { outcome: 'grace', family: copyRecord(family), successorSealed: presented.successorSealed };
        }
        return { outcome: 'reused', family: copyRecord(revoke(family, 'reuse', now)) };
      }

      const next = copyRecord(input.next);
      // A token of another family or generation here is a bug in the caller, not a client's doing.
      if (next.familyId !== presented.familyId || next.generation !== presented.generation + 1) {
        throw new AuthError('VALIDATION_FAILED', 'next must belong to the same family, one generation on', { details: { field: 'next' } });
      }
      if (tokens.has(next.tokenHash)) return { outcome: 'invalid' };
      dropExpiredTokens(family.id, now);
      tokens.set(presentedHash, { ...presented, rotatedAt: now, successorSealed });
      insertToken(next);
      return { outcome: 'rotated', family: copyRecord(family) };
    },

    async findFamily(id) {
      const family = families.get(id);
      return family === undefined ? null : copyRecord(family);
    },

    async revokeFamily(id, reason, now) {
      assertNonEmptyString(reason, 'reason');
      assertFiniteNumber(now, 'now');
      const family = families.get(id);
      if (family === undefined || !isLiveFamily(family, now)) return false;
      revoke(family, reason, now);
      return true;
    },

    async revokeByUser(userId, reason, now, options) {
      assertNonEmptyString(reason, 'reason');
      assertFiniteNumber(now, 'now');
      const sessionId = options?.sessionId;
      const revoked: string[] = [];
      for (const id of familyIdsByUser.get(userId) ?? []) {
        const family = families.get(id);
        if (family === undefined || !isLiveFamily(family, now)) continue;
        if (sessionId !== undefined && family.sessionId !== sessionId) continue;
        revoke(family, reason, now);
        revoked.push(id);
      }
      return revoked;
    },
  };
}
