import { sql, type AliasableExpression, type Expression, type Kysely } from 'kysely';
import { systemClock } from '@tenantkit/core';
import { AuthError } from '../../errors.js';
import type { RevocationState, RevocationStore } from '../../store.js';
import { runAtomicWrite, runWriteStatement } from './atomic-write.js';
import { readSafeInteger } from './column-values.js';
import { createExpiredRowSweeper } from './expired-row-sweeper.js';
import { runStoreOperation } from './database-errors.js';
import type { KyselyAuthContext } from './kysely-auth-store-context.js';
import { assertSafeIntegerArgument, assertStorableKeyArgument, isStorableLookup, readFlagColumn } from './record-schemas.js';
import { authColumnLengths, type AuthDatabase } from './schema.js';

type RevokedKind = 'jti' | 'session';
type EpochKind = 'user' | 'tenant';

/**
 * The {@link RevocationStore} over an already resolved context. Revocations and epochs are
 * upserts that keep the larger value (`GREATEST` on Postgres and MySQL, `MAX` on SQLite), so
 * they only ever move forward whatever order concurrent writers commit in, and `check` is one
 * `SELECT` of four scalar subqueries, each a primary-key lookup. Entries past their `until`
 * count as not revoked at once, and every 64th revocation of a store instance deletes those
 * past it by the `clock` option (default the system clock), so the table stays bounded.
 *
 * @example
 * ```ts
 * const revocations = createKyselyRevocationStore(resolveKyselyAuthContext(db, undefined, 'kyselyAuthStores'));
 * ```
 */
export function createKyselyRevocationStore(context: KyselyAuthContext): RevocationStore {
  const { db, dialect, tables } = context;
  const revocations = tables.auth_revocations;
  const epochs = tables.auth_revocation_epochs;

  /** The larger of a column of the existing row and a new value, in this dialect's words. */
  function greaterOf(table: string, column: string, value: number): Expression<number> {
    const existing = sql.ref(`${table}.${column}`);
    return dialect === 'sqlite' ? sql<number>`max(${existing}, ${value})` : sql<number>`greatest(${existing}, ${value})`;
  }

  function upsertRevocation(executor: Kysely<AuthDatabase>, kind: RevokedKind, subjectId: string, until: number) {
    const insert = executor.insertInto(revocations).values({ kind, subject_id: subjectId, revoked_until: until });
    const extended = { revoked_until: greaterOf(revocations, 'revoked_until', until) };
    return dialect === 'mysql'
      ? insert.onDuplicateKeyUpdate(extended).execute()
      : insert.onConflict((conflict) => conflict.columns(['kind', 'subject_id']).doUpdateSet(extended)).execute();
  }

  // Entries past their `until` mean nothing; deleting them keeps the table bounded.
  const sweepClock = context.sweepClock ?? systemClock;
  const sweepSometimes = createExpiredRowSweeper(() =>
    runWriteStatement(context, 'sweepRevocations', (executor) =>
      executor.deleteFrom(revocations).where('revoked_until', '<=', sweepClock.now()).execute(),
    ),
  );

  async function revoke(kind: RevokedKind, subjectId: string, until: number, operation: string): Promise<void> {
    await runWriteStatement(context, operation, (executor) => upsertRevocation(executor, kind, subjectId, until));
    await sweepSometimes();
  }

  return Object.freeze({
    async revokeToken(jti, until) {
      assertStorableKeyArgument(jti, authColumnLengths.id, 'jti');
      assertSafeIntegerArgument(until, 'until');
      await revoke('jti', jti, until, 'revokeToken');
    },

    async revokeSession(sessionId, until) {
      assertStorableKeyArgument(sessionId, authColumnLengths.id, 'sessionId');
      assertSafeIntegerArgument(until, 'until');
      await revoke('session', sessionId, until, 'revokeSession');
    },

    async raiseEpoch(kind, id, epochMs) {
      if (kind !== 'user' && kind !== 'tenant') {
        throw new AuthError('VALIDATION_FAILED', "kind must be 'user' or 'tenant'", { details: { argument: 'kind' } });
      }
      assertStorableKeyArgument(id, kind === 'user' ? authColumnLengths.id : authColumnLengths.tenantId, 'id');
      assertSafeIntegerArgument(epochMs, 'epochMs');
      // The upsert locks the row until the transaction ends, so the read after it returns the
      // epoch this write left, raised further by nobody in between.
      return runAtomicWrite(context, 'raiseEpoch', async (trx) => {
        const insert = trx.insertInto(epochs).values({ kind, subject_id: id, epoch: epochMs });
        const raised = { epoch: greaterOf(epochs, 'epoch', epochMs) };
        await (dialect === 'mysql'
          ? insert.onDuplicateKeyUpdate(raised).execute()
          : insert.onConflict((conflict) => conflict.columns(['kind', 'subject_id']).doUpdateSet(raised)).execute());
        const row = await trx.selectFrom(epochs).select('epoch').where('kind', '=', kind).where('subject_id', '=', id).executeTakeFirstOrThrow();
        return readSafeInteger(row.epoch, 'epoch');
      });
    },

    async check(query, now): Promise<RevocationState> {
      if (typeof query !== 'object' || query === null) {
        throw new AuthError('VALIDATION_FAILED', 'check() takes a RevocationQuery', { details: { argument: 'query' } });
      }
      assertSafeIntegerArgument(now, 'now');
      for (const field of ['jti', 'userId'] as const) {
        if (query[field] === '') throw new AuthError('VALIDATION_FAILED', `${field} must be a non-empty string`, { details: { argument: field } });
      }
      const jti = isStorableLookup(query.jti, 'jti') ? query.jti : null;
      const userId = isStorableLookup(query.userId, 'userId') ? query.userId : null;
      const sessionId = query.sessionId !== null && isStorableLookup(query.sessionId, 'sessionId') ? query.sessionId : null;
      const tenantId = query.tenantId !== null && isStorableLookup(query.tenantId, 'tenantId') ? query.tenantId : null;

      const row = await runStoreOperation('checkRevocation', () =>
        db
          .selectNoFrom((eb) => {
            const revoked = (kind: RevokedKind, subjectId: string | null): AliasableExpression<unknown> =>
              subjectId === null
                ? sql<number>`0`
                : eb.exists(
                    eb
                      .selectFrom(revocations)
                      .select('kind')
                      .where('kind', '=', kind)
                      .where('subject_id', '=', subjectId)
                      .where('revoked_until', '>', now),
                  );
            const epoch = (kind: EpochKind, subjectId: string | null): AliasableExpression<unknown> =>
              subjectId === null
                ? sql<number | null>`null`
                : eb.selectFrom(epochs).select('epoch').where('kind', '=', kind).where('subject_id', '=', subjectId);
            return [
              revoked('jti', jti).as('jti_revoked'),
              revoked('session', sessionId).as('session_revoked'),
              epoch('user', userId).as('user_epoch'),
              epoch('tenant', tenantId).as('tenant_epoch'),
            ];
          })
          .executeTakeFirstOrThrow(),
      );
      return {
        jtiRevoked: readFlagColumn(row.jti_revoked, 'jti_revoked'),
        sessionRevoked: readFlagColumn(row.session_revoked, 'session_revoked'),
        userEpoch: row.user_epoch === null ? 0 : readSafeInteger(row.user_epoch, 'user_epoch'),
        tenantEpoch: row.tenant_epoch === null ? 0 : readSafeInteger(row.tenant_epoch, 'tenant_epoch'),
      };
    },
  } satisfies RevocationStore);
}
