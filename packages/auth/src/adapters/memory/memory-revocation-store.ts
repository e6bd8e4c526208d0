import { type Clock, systemClock } from '@tenantkit/core';
import { AuthError } from '../../errors.js';
import type { RevocationStore } from '../../store.js';

/**
 * Options of {@link memoryRevocationStore}.
 *
 * @example
 * ```ts
 * const options: MemoryRevocationStoreOptions = { clock: createManualClock() };
 * ```
 */
export interface MemoryRevocationStoreOptions {
  /** Decides when entries past their `until` are swept (reads take `now` from the caller). */
  readonly clock?: Clock;
}

function assertId(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new AuthError('VALIDATION_FAILED', `${what} must be a non-empty string`);
}

function assertTime(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new AuthError('VALIDATION_FAILED', `${what} must be a finite number of epoch milliseconds`);
}

/**
 * The reference {@link RevocationStore}, in process memory: for tests, development and
 * single-process deployments. Entries for a jti or session are kept until their `until` (a later
 * `until` extends, an earlier one never shortens), then swept; epochs only move forward.
 *
 * @example
 * ```ts
 * const store = memoryRevocationStore();
 * await store.revokeToken('jti_1', Date.now() + 60_000);
 * await store.check({ jti: 'jti_1', sessionId: null, userId: 'usr_1', tenantId: null }, Date.now()); // jtiRevoked: true
 * ```
 */
export function memoryRevocationStore(options: MemoryRevocationStoreOptions = {}): RevocationStore {
  const clock = options.clock ?? systemClock;
  const revokedJtis = new Map<string, number>();
  const revokedSessions = new Map<string, number>();
  const epochs = { user: new Map<string, number>(), tenant: new Map<string, number>() };
  let writesSinceSweep = 0;
  let sizeAfterSweep = 0;

  // Amortised O(1) per write: a sweep passes over what the lists held after the last sweep plus
  // what was written since, and runs only once that many writes have happened again.
  const sweepSometimes = () => {
    writesSinceSweep += 1;
    if (writesSinceSweep < Math.max(64, sizeAfterSweep)) return;
    writesSinceSweep = 0;
    const now = clock.now();
    for (const [id, until] of revokedJtis) if (until <= now) revokedJtis.delete(id);
    for (const [id, until] of revokedSessions) if (until <= now) revokedSessions.delete(id);
    sizeAfterSweep = revokedJtis.size + revokedSessions.size;
  };

  const extend = (map: Map<string, number>, id: string, until: number) => {
    const known = map.get(id);
    if (known === undefined || until > known) map.set(id, until);
    sweepSometimes();
  };

  const liveAt = (map: Map<string, number>, id: string | null, now: number) => {
    if (id === null) return false;
    const until = map.get(id);
    return until !== undefined && until > now;
  };

  return {
    async revokeToken(jti, until) {
      assertId(jti, 'jti');
      assertTime(until, 'until');
      extend(revokedJtis, jti, until);
    },

    async revokeSession(sessionId, until) {
      assertId(sessionId, 'sessionId');
      assertTime(until, 'until');
      extend(revokedSessions, sessionId, until);
    },

    async raiseEpoch(kind, id, epochMs) {
      if (kind !== 'user' && kind !== 'tenant') throw new AuthError('VALIDATION_FAILED', "kind must be 'user' or 'tenant'");
      assertId(id, 'id');
      assertTime(epochMs, 'epochMs');
      const map = epochs[kind];
      const next = Math.max(map.get(id) ?? 0, epochMs);
      map.set(id, next);
      return next;
    },

    async check(query, now) {
      if (typeof query !== 'object' || query === null) throw new AuthError('VALIDATION_FAILED', 'check() takes a RevocationQuery');
      assertId(query.jti, 'jti');
      assertId(query.userId, 'userId');
      assertTime(now, 'now');
      return {
        jtiRevoked: liveAt(revokedJtis, query.jti, now),
        sessionRevoked: liveAt(revokedSessions, query.sessionId, now),
        userEpoch: epochs.user.get(query.userId) ?? 0,
        tenantEpoch: query.tenantId === null ? 0 : (epochs.tenant.get(query.tenantId) ?? 0),
      };
    },
  };
}
