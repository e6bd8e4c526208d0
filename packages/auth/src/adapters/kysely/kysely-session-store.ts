import type { SessionRecord, SessionStore } from '../../store.js';
import { insertRowUnlessDuplicate, insertUnlessDuplicate, lockedRead, runAtomicWrite, runWriteStatement } from './atomic-write.js';
import { readSafeInteger, readText } from './column-values.js';
import { createExpiredRowSweeper } from './expired-row-sweeper.js';
import { runStoreOperation } from './database-errors.js';
import type { KyselyAuthContext } from './kysely-auth-store-context.js';
import { assertSafeIntegerArgument, assertStorableSession, isStorableLookup } from './record-schemas.js';
import { sessionFromRow, sessionToRow } from './row-mappers.js';

/**
 * The {@link SessionStore} over an already resolved context. A session is live while both
 * `expires_at` and `absolute_expires_at` are after `now`. Expired rows stay until `deleteByUser`
 * or `delete` removes them, or, when the `clock` option is given, until every 64th `create` of
 * the store instance deletes those expired by it. `token_hash` is a unique
 * key, so `create` and `rotate` answer `'id-taken'` for a taken token hash as for a taken id.
 *
 * @example
 * ```ts
 * const sessions = createKyselySessionStore(resolveKyselyAuthContext(db, undefined, 'kyselyAuthStores'));
 * ```
 */
export function createKyselySessionStore(context: KyselyAuthContext): SessionStore {
  const { db, tables } = context;
  const sessions = tables.auth_sessions;

  // With a clock given, creates delete now and then what has expired by it (as the memory store
  // does on every create); without one, expired rows stay until deleteByUser or delete.
  const { sweepClock } = context;
  const sweepSometimes =
    sweepClock === null
      ? async () => undefined
      : createExpiredRowSweeper(() =>
          runWriteStatement(context, 'sweepSessions', (executor) => executor.deleteFrom(sessions).where('expires_at', '<=', sweepClock.now()).execute()),
        );

  /** The live session whose `column` is `value`, or null. */
  async function findLive(operation: string, column: 'id' | 'token_hash', value: string, what: string, now: number): Promise<SessionRecord | null> {
    assertSafeIntegerArgument(now, 'now');
    if (!isStorableLookup(value, what)) return null;
    const row = await runStoreOperation(operation, () =>
      db
        .selectFrom(sessions)
        .selectAll()
        .where(column, '=', value)
        .where('expires_at', '>', now)
        .where('absolute_expires_at', '>', now)
        .executeTakeFirst(),
    );
    return row === undefined ? null : sessionFromRow(row);
  }

  return Object.freeze({
    async create(session: SessionRecord) {
      assertStorableSession(session);
      const row = sessionToRow(session);
      const taken = await insertRowUnlessDuplicate(context, 'createSession', (executor) => executor.insertInto(sessions).values(row).execute());
      if (taken !== null) return 'id-taken';
      await sweepSometimes();
      return 'created';
    },

    findByTokenHash: (tokenHash: string, now: number) => findLive('findSessionByTokenHash', 'token_hash', tokenHash, 'tokenHash', now),

    findById: (id: string, now: number) => findLive('findSessionById', 'id', id, 'id', now),

    async touch(id, change) {
      assertSafeIntegerArgument(change.now, 'now');
      assertSafeIntegerArgument(change.expiresAt, 'expiresAt');
      if (!isStorableLookup(id, 'id')) return null;
      const { now } = change;
      return runAtomicWrite(context, 'touchSession', async (trx) => {
        const row = await lockedRead(context, trx.selectFrom(sessions).selectAll().where('id', '=', id)).executeTakeFirst();
        if (row === undefined) return null;
        const session = sessionFromRow(row);
        if (session.expiresAt <= now || session.absoluteExpiresAt <= now) return null;
        // Slides forward only, and never past the absolute end.
        const touched: SessionRecord = {
          ...session,
          lastSeenAt: now,
          expiresAt: Math.max(session.expiresAt, Math.min(change.expiresAt, session.absoluteExpiresAt)),
        };
        await trx.updateTable(sessions).set({ last_seen_at: touched.lastSeenAt, expires_at: touched.expiresAt }).where('id', '=', id).execute();
        return touched;
      });
    },

    async rotate(id, next, now) {
      assertSafeIntegerArgument(now, 'now');
      assertStorableSession(next);
      if (!isStorableLookup(id, 'id')) return 'not-found';
      const row = sessionToRow(next);
      return runAtomicWrite(context, 'rotateSession', async (trx): Promise<'rotated' | 'not-found' | 'id-taken'> => {
        const current = await lockedRead(
          context,
          trx.selectFrom(sessions).select(['expires_at', 'absolute_expires_at']).where('id', '=', id),
        ).executeTakeFirst();
        if (current === undefined) return 'not-found';
        const live =
          readSafeInteger(current.expires_at, 'expires_at') > now && readSafeInteger(current.absolute_expires_at, 'absolute_expires_at') > now;
        if (!live) return 'not-found';
        if (next.id === id) return 'id-taken';
        // Deleted first, so the next session may keep the current one's token hash; a taken id
        // or hash undoes the delete with the insert.
        const taken = await insertUnlessDuplicate(trx, async (executor) => {
          await executor.deleteFrom(sessions).where('id', '=', id).execute();
          await executor.insertInto(sessions).values(row).execute();
        });
        return taken === null ? 'rotated' : 'id-taken';
      });
    },

    async listByUser(userId, now) {
      assertSafeIntegerArgument(now, 'now');
      if (!isStorableLookup(userId, 'userId')) return [];
      const rows = await runStoreOperation('listSessionsByUser', () =>
        db
          .selectFrom(sessions)
          .selectAll()
          .where('user_id', '=', userId)
          .where('expires_at', '>', now)
          .where('absolute_expires_at', '>', now)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'asc')
          .execute(),
      );
      return rows.map(sessionFromRow);
    },

    async delete(id) {
      if (!isStorableLookup(id, 'id')) return false;
      const result = await runWriteStatement(context, 'deleteSession', (executor) =>
        executor.deleteFrom(sessions).where('id', '=', id).executeTakeFirst(),
      );
      return result.numDeletedRows > 0n;
    },

    async deleteByUser(userId, options) {
      if (!isStorableLookup(userId, 'userId')) return [];
      const exceptId = options?.exceptId;
      return runAtomicWrite(context, 'deleteSessionsByUser', async (trx) => {
        let select = trx.selectFrom(sessions).select('id').where('user_id', '=', userId);
        // An id no column can hold is no session's: nothing to keep.
        if (exceptId !== undefined && isStorableLookup(exceptId, 'exceptId')) select = select.where('id', '<>', exceptId);
        const ids = (await lockedRead(context, select).execute()).map((found) => readText(found.id, 'id'));
        if (ids.length > 0) await trx.deleteFrom(sessions).where('id', 'in', ids).execute();
        return ids;
      });
    },
  } satisfies SessionStore);
}
