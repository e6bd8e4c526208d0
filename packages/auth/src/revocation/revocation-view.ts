import type { RevocationEvent, RevocationState } from '../store.js';
import type { RevocationSubject } from './revocation-service.js';

/**
 * What one process remembers of a store answer for one token (keyed by its jti): whether it was
 * revoked, and when the store was asked. A jti names one token, so `sub`, `sid` and `tid` are
 * fixed for it; they are kept to refuse the memo to a subject that does not match.
 */
interface CheckedSubject {
  readonly sub: string;
  readonly sid: string | null;
  readonly tid: string | null;
  readonly checkedAt: number;
  readonly revoked: boolean;
}

/**
 * One process's in-memory picture of revocation: revoked jtis and sessions (each until its
 * `until`), user and tenant epochs, and the last store answer per token. Every map is bounded;
 * evicting a revocation (not an expiry) forgets every store answer, so the next check asks the
 * store again instead of trusting a memo the evicted entry used to correct.
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
  /** Folds the epochs of a store answer into the view. */
  learn(subject: RevocationSubject, state: RevocationState): void;
  /** Whether what the view holds revokes the subject (no store involved). */
  revokedLocally(subject: RevocationSubject, now: number): boolean;
  /** The last store answer for this subject's token, if it is for this very subject. */
  checkedAnswer(subject: RevocationSubject): { readonly checkedAt: number; readonly revoked: boolean } | undefined;
  /** Records a store answer asked at `checkedAt`. */
  remember(subject: RevocationSubject, checkedAt: number, revoked: boolean): void;
  /** Forgets every store answer (messages may have been lost). */
  forgetAnswers(): void;
}

/**
 * Creates a {@link RevocationView} holding at most `maxEntries` entries per map.
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
  const answers = new Map<string, CheckedSubject>();
  let insertsSinceSweep = 0;

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
    answers.clear();
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

    learn(subject, state) {
      raise(userEpochs, subject.sub, state.userEpoch);
      if (subject.tid !== null) raise(tenantEpochs, subject.tid, state.tenantEpoch);
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

    checkedAnswer(subject) {
      const answer = answers.get(subject.jti);
      if (answer === undefined || answer.sub !== subject.sub || answer.sid !== subject.sid || answer.tid !== subject.tid) return undefined;
      return answer;
    },

    remember(subject, checkedAt, revoked) {
      const previous = answers.get(subject.jti);
      // A slower answer must not replace a newer one, and "revoked" is final for a token.
      if (previous !== undefined && (previous.revoked || previous.checkedAt > checkedAt)) return;
      answers.delete(subject.jti);
      answers.set(subject.jti, { sub: subject.sub, sid: subject.sid, tid: subject.tid, checkedAt, revoked });
      if (answers.size > maxEntries) {
        const oldest = answers.keys().next();
        if (oldest.done !== true) answers.delete(oldest.value);
      }
    },

    forgetAnswers() {
      answers.clear();
    },
  };
}
