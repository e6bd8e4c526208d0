import type { RevocationEvent, RevocationState } from '../store.js';
import type { RevocationSubject } from './revocation-service.js';

/**
 * One process's in-memory picture of revocation: revoked jtis and sessions (each until its
 * `until`; those a store answer reported stay revoked here), user and tenant epochs, and when
 * the store was last asked about each subject `(sub, tid, sid)` and about each token. Every map
 * is bounded; evicting a revocation (not an expiry) forgets every store answer, so the next check
 * asks the store again instead of trusting a memo the evicted entry used to correct.
 *
 * @example
 * ```ts
 * const view = createRevocationView({ maxEntries: 100_000 });
 * view.apply({ kind: 'user-epoch', id: 'usr_1', epoch: Date.now() }, Date.now());
 * view.revokedLocally(subject, Date.now()); // true for tokens of usr_1 issued before
 * ```
 */
export interface RevocationView {
  /** Applies an event (idempotent; epochs only move forward). */
  apply(event: RevocationEvent, now: number): void;
  /**
   * Folds a store answer about `subject` into the view: its epochs, and the jti or session it
   * reports revoked (kept revoked in this process; a revocation is final for a token).
   */
  learn(subject: RevocationSubject, state: RevocationState, now: number): void;
  /** Whether what the view holds revokes the subject (no store involved). */
  revokedLocally(subject: RevocationSubject, now: number): boolean;
  /**
   * Whether a store check younger than `maxStalenessMs` vouches that the subject is not revoked
   * (see `createRevocationView` for which checks vouch for which tokens).
   */
  vouchedFor(subject: RevocationSubject, now: number, maxStalenessMs: number): boolean;
  /** Records that the store, asked at `checkedAt` about `subject`, did not revoke it. */
  remember(subject: RevocationSubject, checkedAt: number): void;
  /** Forgets every store answer (messages may have been lost). */
  forgetAnswers(): void;
}

/** Store-reported revocations carry no `until` here: they last until evicted. */
const REVOKED_HERE_FOR_GOOD = Number.POSITIVE_INFINITY;

/**
 * The newest "not revoked" store check of one subject `(sub, tid, sid)`. Memos are filed under
 * the sid (or, without one, the sub) as it is, with no key to build per check, and hold the other
 * fields: a memo answers only for the very subject it was made for. Two subjects sharing a sid or
 * a sessionless sub take turns in one slot, which only costs store checks.
 */
interface SubjectCheck {
  readonly sub: string;
  readonly tid: string | null;
  readonly sid: string | null;
  readonly checkedAt: number;
}

const isSameSubject = (memo: SubjectCheck, subject: RevocationSubject) =>
  memo.sub === subject.sub && memo.tid === subject.tid && memo.sid === subject.sid;

/**
 * Creates a {@link RevocationView} holding at most `maxEntries` entries per map.
 *
 * Freshness is remembered per subject `(sub, tid, sid)`, not per token, so that a new token of a
 * user this process already checked is answered from memory, without a store round trip. A store
 * check always names the jti of the token being checked, and it vouches, for `maxStalenessMs`:
 *
 * 1. for that token (its jti; the subject's own memo must be fresh too), and
 * 2. for every token of the same subject issued after the check was made
 *    (`issuedAtMs > checkedAt`), including tokens this process has never seen.
 *
 * A token of the subject issued at or before the subject's last check, whose own jti that check
 * did not name, is not vouched for: it gets a store check of its own.
 *
 * Why the lost-message bound still holds. Claim: a revocation written to the store at time R,
 * whose message never reaches this process, is not answered "not revoked" from memory after
 * R + maxStalenessMs (S below). A memory answer at time t rests on the subject's last store
 * check, made at c with t - c < S, which named the subject's sid, sub and tid and started after
 * every store write completed before c. A session, user-epoch or tenant-epoch revocation with
 * R < c would have been in that answer (and so in this view, which then refuses); hence R >= c
 * and t < c + S <= R + S. A jti revocation: in case 1 a check that named that very jti was made
 * at c' with t - c' < S, so R >= c' by the same argument and t < R + S; in case 2 the token was
 * issued after c, and a token cannot be revoked before it exists, so R > c and t < R + S. The
 * first check of any token of the subject at or after c + S asks the store again, and its answer
 * becomes the new c. Case 2 compares the issuer's clock (`iat_ms`) with this process's clock, so
 * across processes the bound holds up to the clock skew between them, as epochs do.
 *
 * Vouching for every token of a fresh subject, whatever its issue time, would break the bound for
 * a jti revoked before this process first sees it: checks of the subject's other tokens would
 * keep refreshing the memo without ever naming that jti. Evicting a memo only makes the next
 * check ask the store; memos are never moved back by a slower, older answer.
 *
 * @example
 * ```ts
 * const view = createRevocationView({ maxEntries: 10_000 });
 * ```
 */
export function createRevocationView(options: { readonly maxEntries: number }): RevocationView {
  const { maxEntries } = options;
  const revokedJtis = new Map<string, number>();
  const revokedSessions = new Map<string, number>();
  const userEpochs = new Map<string, number>();
  const tenantEpochs = new Map<string, number>();
  /** Subject memos of tokens with a sid, by sid. */
  const sessionChecks = new Map<string, SubjectCheck>();
  /** Subject memos of tokens without a sid, by sub. */
  const sessionlessChecks = new Map<string, SubjectCheck>();
  /**
   * jti to its newest "not revoked" store check that named that jti. Keyed by the jti alone: it
   * only says the jti was not revoked at that time; the subject's own memo, which must be fresh
   * too, speaks for the session and the epochs.
   */
  const tokenChecks = new Map<string, number>();
  let insertsSinceSweep = 0;

  const forgetAnswers = () => {
    sessionChecks.clear();
    sessionlessChecks.clear();
    tokenChecks.clear();
  };

  const sweepExpired = (now: number) => {
    insertsSinceSweep = 0;
    for (const [id, until] of revokedJtis) if (until <= now) revokedJtis.delete(id);
    for (const [id, until] of revokedSessions) if (until <= now) revokedSessions.delete(id);
  };

  /** Map insertion order is the eviction order: re-inserting moves an entry to the back. */
  const insertBounded = (map: Map<string, number>, id: string, value: number) => {
    map.delete(id);
    map.set(id, value);
    if (map.size <= maxEntries) return;
    const oldest = map.keys().next();
    if (oldest.done !== true) map.delete(oldest.value);
    forgetAnswers();
  };

  const revokeUntil = (map: Map<string, number>, id: string, until: number, now: number) => {
    if (until <= now) return;
    const known = map.get(id);
    if (known !== undefined && known >= until) return;
    insertsSinceSweep += 1;
    if (insertsSinceSweep >= maxEntries) sweepExpired(now);
    insertBounded(map, id, until);
  };

  const raise = (map: Map<string, number>, id: string, epoch: number) => {
    if (epoch <= 0) return;
    const known = map.get(id);
    if (known !== undefined && known >= epoch) return;
    insertBounded(map, id, epoch);
  };

  const activeUntil = (map: Map<string, number>, id: string, now: number): boolean => {
    const until = map.get(id);
    if (until === undefined) return false;
    if (until > now) return true;
    map.delete(id);
    return false;
  };

  /**
   * Sets a memo, moving it to the back of the eviction order; past the bound the oldest memo goes
   * (dropping a memo only costs a store check).
   */
  const setMemo = <V>(map: Map<string, V>, key: string, value: V, known: V | undefined) => {
    if (known !== undefined) map.delete(key);
    else if (map.size >= maxEntries) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(key, value);
  };

  return {
    apply(event, now) {
      switch (event.kind) {
        case 'jti':
          revokeUntil(revokedJtis, event.id, event.until, now);
          break;
        case 'session':
          revokeUntil(revokedSessions, event.id, event.until, now);
          break;
        case 'user-epoch':
          raise(userEpochs, event.id, event.epoch);
          break;
        case 'tenant-epoch':
          raise(tenantEpochs, event.id, event.epoch);
          break;
        default:
          // api-key and signing-key-retired concern other caches, not the view.
          break;
      }
    },

    learn(subject, state, now) {
      raise(userEpochs, subject.sub, state.userEpoch);
      if (subject.tid !== null) raise(tenantEpochs, subject.tid, state.tenantEpoch);
      if (state.jtiRevoked) revokeUntil(revokedJtis, subject.jti, REVOKED_HERE_FOR_GOOD, now);
      if (state.sessionRevoked && subject.sid !== null) revokeUntil(revokedSessions, subject.sid, REVOKED_HERE_FOR_GOOD, now);
    },

    revokedLocally(subject, now) {
      if (revokedJtis.size > 0 && activeUntil(revokedJtis, subject.jti, now)) return true;
      if (subject.sid !== null && revokedSessions.size > 0 && activeUntil(revokedSessions, subject.sid, now)) return true;
      const userEpoch = userEpochs.get(subject.sub);
      if (userEpoch !== undefined && subject.issuedAtMs < userEpoch) return true;
      if (subject.tid === null) return false;
      const tenantEpoch = tenantEpochs.get(subject.tid);
      return tenantEpoch !== undefined && subject.issuedAtMs < tenantEpoch;
    },

    vouchedFor(subject, now, maxStalenessMs) {
      const memo = subject.sid === null ? sessionlessChecks.get(subject.sub) : sessionChecks.get(subject.sid);
      if (memo === undefined || !isSameSubject(memo, subject)) return false;
      const { checkedAt } = memo;
      // A token's own check is never newer than its subject's: a stale subject memo ends both.
      if (now - checkedAt >= maxStalenessMs) return false;
      // Case 2: the token did not exist when the store was asked about its subject.
      if (subject.issuedAtMs > checkedAt) return true;
      // Case 1: the store was asked about this very token.
      const own = tokenChecks.get(subject.jti);
      return own !== undefined && now - own < maxStalenessMs;
    },

    remember(subject, checkedAt) {
      const memos = subject.sid === null ? sessionlessChecks : sessionChecks;
      const slot = subject.sid ?? subject.sub;
      const known = memos.get(slot);
      // A slower answer must not replace a newer one (of the same subject).
      if (known === undefined || !isSameSubject(known, subject) || known.checkedAt < checkedAt) {
        setMemo(memos, slot, { sub: subject.sub, tid: subject.tid, sid: subject.sid, checkedAt }, known);
      }
      const own = tokenChecks.get(subject.jti);
      if (own === undefined || own < checkedAt) setMemo(tokenChecks, subject.jti, checkedAt, own);
    },

    forgetAnswers,
  };
}
