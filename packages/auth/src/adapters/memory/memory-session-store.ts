import type { Clock } from '@tenantkit/core';
import { AuthError } from '../../errors.js';
import type { SessionRecord, SessionStore } from '../../store.js';

/*
 * The reference `SessionStore`. It lives in one process, so every method is atomic by
 * construction: each one checks and writes with no `await` in between. Records are copied on the
 * way in and on the way out, so nothing a caller holds can change what is stored. Everything is
 * keyed by `Map`, so ids such as `__proto__` are ordinary keys.
 */

/**
 * Options of {@link memorySessionStore}.
 *
 * @example
 * ```ts
 * const clock = createManualClock();
 * const options: MemorySessionStoreOptions = { clock };
 * ```
 */
export interface MemorySessionStoreOptions {
  /**
   * When given, `create` drops the sessions that have expired by this clock (one pass at most
   * once a minute of this clock), so a long-running process does not keep sessions nobody comes
   * back for (what a TTL does in Redis). Pass the clock your session service uses. Without it,
   * an expired session is dropped only when a read at a later `now` meets it.
   */
  readonly clock?: Clock;
}

const SWEEP_INTERVAL_MS = 60_000;

function copySession(session: SessionRecord): SessionRecord {
  try {
    return structuredClone(session);
  } catch (cause) {
    throw new AuthError('VALIDATION_FAILED', 'The session holds values a store cannot keep (functions, symbols)', { cause });
  }
}

function isLive(session: SessionRecord, now: number): boolean {
  return session.expiresAt > now && session.absoluteExpiresAt > now;
}

function assertSession(session: SessionRecord): void {
  if (typeof session !== 'object' || session === null) {
    throw new AuthError('VALIDATION_FAILED', 'The session must be a SessionRecord');
  }
  for (const field of ['id', 'tokenHash', 'userId'] as const) {
    if (typeof session[field] !== 'string' || session[field].length === 0) {
      throw new AuthError('VALIDATION_FAILED', `The session's ${field} must be a non-empty string`, { details: { field } });
    }
  }
  for (const field of ['createdAt', 'lastSeenAt', 'expiresAt', 'absoluteExpiresAt'] as const) {
    if (!Number.isFinite(session[field])) {
      throw new AuthError('VALIDATION_FAILED', `The session's ${field} must be a finite number`, { details: { field } });
    }
  }
}

function assertNow(now: number): void {
  if (!Number.isFinite(now)) throw new AuthError('VALIDATION_FAILED', '`now` must be a finite number (epoch ms)');
}

/**
 * An in-process {@link SessionStore}: the reference implementation every session adapter is
 * checked against; for tests, examples and single-process apps. State is lost on exit and not
 * shared between processes.
 *
 * A session whose idle `expiresAt` or `absoluteExpiresAt` is at or before `now` is absent for
 * every read that takes `now`, and is deleted when such a read meets it. `create` refuses a
 * `tokenHash` another session holds with `'id-taken'` as well (it would make lookups ambiguous).
 *
 * @example
 * ```ts
 * import { createManualClock } from '@tenantkit/core';
 * import { memorySessionStore } from '@tenantkit/auth';
 *
 * const clock = createManualClock();
 * const store = memorySessionStore({ clock });
 * const sessions = createSessionService({ store, revocation, clock });
 * ```
 */
export function memorySessionStore(options: MemorySessionStoreOptions = {}): SessionStore {
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') {
    throw new AuthError('CONFIGURATION_INVALID', 'memorySessionStore: clock must have now()');
  }
  const sweepClock = options.clock;
  const byId = new Map<string, SessionRecord>();
  const idByTokenHash = new Map<string, string>();
  const idsByUser = new Map<string, Set<string>>();

  function insert(session: SessionRecord): void {
    byId.set(session.id, session);
    idByTokenHash.set(session.tokenHash, session.id);
    let ids = idsByUser.get(session.userId);
    if (ids === undefined) {
      ids = new Set();
      idsByUser.set(session.userId, ids);
    }
    ids.add(session.id);
  }

  function remove(session: SessionRecord): void {
    byId.delete(session.id);
    if (idByTokenHash.get(session.tokenHash) === session.id) idByTokenHash.delete(session.tokenHash);
    const ids = idsByUser.get(session.userId);
    ids?.delete(session.id);
    if (ids?.size === 0) idsByUser.delete(session.userId);
  }

  /** The live session with this id at `now`; an expired one is deleted on the way. */
  function liveById(id: string, now: number): SessionRecord | undefined {
    const session = byId.get(id);
    if (session === undefined) return undefined;
    if (isLive(session, now)) return session;
    remove(session);
    return undefined;
  }

  let lastSweepAt = Number.NEGATIVE_INFINITY;
  function sweepExpired(now: number): void {
    // A full pass costs O(sessions): at most once a minute, not on every sign-in.
    if (now - lastSweepAt < SWEEP_INTERVAL_MS) return;
    lastSweepAt = now;
    for (const session of byId.values()) {
      if (!isLive(session, now)) remove(session);
    }
  }

  return {
    async create(session) {
      assertSession(session);
      const stored = copySession(session);
      if (sweepClock !== undefined) sweepExpired(sweepClock.now());
      if (byId.has(stored.id) || idByTokenHash.has(stored.tokenHash)) return 'id-taken';
      insert(stored);
      return 'created';
    },

    async findByTokenHash(tokenHash, now) {
      assertNow(now);
      const id = idByTokenHash.get(tokenHash);
      const session = id === undefined ? undefined : liveById(id, now);
      return session === undefined ? null : copySession(session);
    },

    async findById(id, now) {
      assertNow(now);
      const session = liveById(id, now);
      return session === undefined ? null : copySession(session);
    },

    async touch(id, change) {
      assertNow(change.now);
      if (!Number.isFinite(change.expiresAt)) throw new AuthError('VALIDATION_FAILED', '`expiresAt` must be a finite number (epoch ms)');
      const session = liveById(id, change.now);
      if (session === undefined) return null;
      const touched: SessionRecord = {
        ...session,
        lastSeenAt: change.now,
        // Slides forward only, and never past the absolute end.
        expiresAt: Math.max(session.expiresAt, Math.min(change.expiresAt, session.absoluteExpiresAt)),
      };
      byId.set(id, touched);
      return copySession(touched);
    },

    async rotate(id, next, now) {
      assertNow(now);
      assertSession(next);
      const stored = copySession(next);
      const current = liveById(id, now);
      if (current === undefined) return 'not-found';
      if (stored.id === id || byId.has(stored.id)) return 'id-taken';
      const holder = idByTokenHash.get(stored.tokenHash);
      if (holder !== undefined && holder !== id) return 'id-taken';
      remove(current);
      insert(stored);
      return 'rotated';
    },

    async listByUser(userId, now) {
      assertNow(now);
      const live: SessionRecord[] = [];
      for (const id of [...(idsByUser.get(userId) ?? [])]) {
        const session = liveById(id, now);
        if (session !== undefined) live.push(session);
      }
      // Newest first; ties in a fixed order so listings are stable.
      live.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return live.map(copySession);
    },

    async delete(id) {
      const session = byId.get(id);
      if (session === undefined) return false;
      remove(session);
      return true;
    },

    async deleteByUser(userId, deleteOptions) {
      const exceptId = deleteOptions?.exceptId;
      const deleted: string[] = [];
      for (const id of [...(idsByUser.get(userId) ?? [])]) {
        if (id === exceptId) continue;
        const session = byId.get(id);
        if (session === undefined) continue;
        remove(session);
        deleted.push(id);
      }
      return deleted;
    },
  };
}
