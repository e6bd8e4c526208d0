import { AuthError } from '../../errors.js';
import type { OneTimeTokenPurpose } from '../../store.js';

/**
 * Encodes an id, hash or subject for use inside a key: percent-encoding (`encodeURIComponent`),
 * so it can never hold `{` or `}` (which would move a Cluster hash tag), `:` (the separator) or
 * whitespace, and distinct values always give distinct keys.
 *
 * @throws AuthError `VALIDATION_FAILED` for anything but a non-empty string, or one holding a lone
 *   UTF-16 surrogate (which has no UTF-8 form).
 * @example
 * ```ts
 * encodeRedisKeySegment('usr_1'); // 'usr_1'
 * encodeRedisKeySegment('a}:{b'); // 'a%7D%3A%7Bb'
 * ```
 */
export function encodeRedisKeySegment(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AuthError('VALIDATION_FAILED', `${what} must be a non-empty string`, { details: { field: what } });
  }
  try {
    return encodeURIComponent(value);
  } catch (cause) {
    throw new AuthError('VALIDATION_FAILED', `${what} holds a lone UTF-16 surrogate`, { cause, details: { field: what } });
  }
}

/**
 * Every key the Redis auth stores use, below one prefix. Keys that one Lua script touches
 * together share a `{hash tag}`, so each script runs on one Cluster slot:
 *
 * - `{u:<user>}`: the user's sessions (`session:<id>` hashes and the `sessions` sorted set by
 *   `createdAt`) and the `families` sorted set of the user's refresh families.
 * - `{sid:<id>}` and `{sth:<token hash>}`: which user a session id / session token hash belongs
 *   to (lookup hints; the session hash in the user's slot is the truth).
 * - `{f:<family>}`: a refresh family (`family`) and its tokens (`token:<hash>`).
 * - `{rth:<token hash>}`: the family a refresh token hash belongs to (written once, before the
 *   token exists).
 * - `{rj:<jti>}`, `{rs:<session>}`, `{eu:<user>}`, `{et:<tenant>}`: revocation entries and epochs.
 * - `{ott:<purpose>:<subject>}`: one-time tokens of a purpose and subject (`tokens` set and
 *   `token:<hash>` hashes); `{otth:<token hash>}` says which group a token hash is in.
 *
 * @example
 * ```ts
 * const keys = createRedisAuthKeyspace('tk:auth:');
 * keys.session('usr_1', 'ses_1'); // 'tk:auth:{u:usr_1}:session:ses_1'
 * ```
 */
export interface RedisAuthKeyspace {
  readonly prefix: string;
  readonly session: (userId: string, sessionId: string) => string;
  /** The session key without its id: Lua appends an encoded id from the sorted set. */
  readonly sessionBase: (userId: string) => string;
  readonly userSessions: (userId: string) => string;
  readonly sessionIdClaim: (sessionId: string) => string;
  readonly sessionTokenClaim: (tokenHash: string) => string;
  readonly userFamilies: (userId: string) => string;
  readonly family: (familyId: string) => string;
  readonly refreshToken: (familyId: string, tokenHash: string) => string;
  readonly refreshTokenIndex: (tokenHash: string) => string;
  readonly revokedJti: (jti: string) => string;
  readonly revokedSession: (sessionId: string) => string;
  readonly epoch: (kind: 'user' | 'tenant', id: string) => string;
  readonly oneTimeGroup: (purpose: OneTimeTokenPurpose, subject: string) => string;
  readonly oneTimeToken: (purpose: OneTimeTokenPurpose, subject: string, tokenHash: string) => string;
  /** The one-time token key without its hash: Lua appends an encoded hash from the group set. */
  readonly oneTimeBase: (purpose: OneTimeTokenPurpose, subject: string) => string;
  readonly oneTimeIndex: (tokenHash: string) => string;
}

/**
 * The keyspace of one prefix (checked by the caller: no braces, no whitespace).
 *
 * @example
 * ```ts
 * createRedisAuthKeyspace('tk:auth:').family('rtf_1'); // 'tk:auth:{f:rtf_1}:family'
 * ```
 */
export function createRedisAuthKeyspace(prefix: string): RedisAuthKeyspace {
  const user = (userId: string) => `${prefix}{u:${encodeRedisKeySegment(userId, 'userId')}}`;
  const family = (familyId: string) => `${prefix}{f:${encodeRedisKeySegment(familyId, 'familyId')}}`;
  const oneTime = (purpose: OneTimeTokenPurpose, subject: string) =>
    `${prefix}{ott:${encodeRedisKeySegment(purpose, 'purpose')}:${encodeRedisKeySegment(subject, 'subject')}}`;
  return Object.freeze({
    prefix,
    session: (userId: string, sessionId: string) => `${user(userId)}:session:${encodeRedisKeySegment(sessionId, 'sessionId')}`,
    sessionBase: (userId: string) => `${user(userId)}:session:`,
    userSessions: (userId: string) => `${user(userId)}:sessions`,
    sessionIdClaim: (sessionId: string) => `${prefix}{sid:${encodeRedisKeySegment(sessionId, 'sessionId')}}`,
    sessionTokenClaim: (tokenHash: string) => `${prefix}{sth:${encodeRedisKeySegment(tokenHash, 'tokenHash')}}`,
    userFamilies: (userId: string) => `${user(userId)}:families`,
    family: (familyId: string) => `${family(familyId)}:family`,
    refreshToken: (familyId: string, tokenHash: string) => `${family(familyId)}:token:${encodeRedisKeySegment(tokenHash, 'tokenHash')}`,
    refreshTokenIndex: (tokenHash: string) => `${prefix}{rth:${encodeRedisKeySegment(tokenHash, 'tokenHash')}}`,
    revokedJti: (jti: string) => `${prefix}{rj:${encodeRedisKeySegment(jti, 'jti')}}`,
    revokedSession: (sessionId: string) => `${prefix}{rs:${encodeRedisKeySegment(sessionId, 'sessionId')}}`,
    epoch: (kind: 'user' | 'tenant', id: string) => `${prefix}{${kind === 'user' ? 'eu' : 'et'}:${encodeRedisKeySegment(id, `${kind} id`)}}`,
    oneTimeGroup: (purpose: OneTimeTokenPurpose, subject: string) => `${oneTime(purpose, subject)}:tokens`,
    oneTimeToken: (purpose: OneTimeTokenPurpose, subject: string, tokenHash: string) =>
      `${oneTime(purpose, subject)}:token:${encodeRedisKeySegment(tokenHash, 'tokenHash')}`,
    oneTimeBase: (purpose: OneTimeTokenPurpose, subject: string) => `${oneTime(purpose, subject)}:token:`,
    oneTimeIndex: (tokenHash: string) => `${prefix}{otth:${encodeRedisKeySegment(tokenHash, 'tokenHash')}}`,
  });
}
