import type { Insertable, Kysely } from 'kysely';
import type { OneTimeTokenRecord, OneTimeTokenStore } from '../../store.js';
import { ConcurrentWriteDetected, insertUnlessDuplicate, lockedRead, runAtomicWrite, runWriteStatement } from './atomic-write.js';
import type { KyselyAuthContext } from './kysely-auth-store-context.js';
import { assertSafeIntegerArgument, assertStorableOneTimeToken, isStorableLookup } from './record-schemas.js';
import { oneTimeTokenFromRow, oneTimeTokenToRow } from './row-mappers.js';
import { noTenantKey, type AuthDatabase } from './schema.js';
import { lockSubject } from './subject-lock.js';

/**
 * The {@link OneTimeTokenStore} over an already resolved context.
 *
 * - `issue` takes a lock on the purpose, subject and tenant (an advisory lock on Postgres, a
 *   named lock on MySQL, the write lock on SQLite), then deletes the earlier tokens and inserts
 *   the new one in one transaction, so concurrent reissues queue and each voids the one before.
 *   The unique key `(purpose, subject, tenant_id)` keeps at most one token per purpose, subject
 *   and tenant stored even without the lock; a reissue that loses that race runs again.
 * - `consume` is one `DELETE ... RETURNING` on Postgres and SQLite: the database hands the row
 *   to exactly one of any number of concurrent calls. MySQL and older MariaDB have no
 *   `DELETE ... RETURNING`, so there it is a transaction that locks the row (`FOR UPDATE`),
 *   checks and deletes it.
 *
 * @example
 * ```ts
 * const oneTimeTokens = createKyselyOneTimeTokenStore(resolveKyselyAuthContext(db, undefined, 'kyselyAuthStores'));
 * ```
 */
export function createKyselyOneTimeTokenStore(context: KyselyAuthContext): OneTimeTokenStore {
  const { dialect, tables } = context;
  const oneTimeTokens = tables.auth_one_time_tokens;

  /** Deletes the owner's tokens (and another owner's token of the same hash), then inserts `row`. */
  async function replaceOwnedTokens(trx: Kysely<AuthDatabase>, row: Insertable<AuthDatabase['auth_one_time_tokens']>): Promise<number> {
    const voided = await trx
      .deleteFrom(oneTimeTokens)
      .where('purpose', '=', row.purpose)
      .where('subject', '=', row.subject)
      .where('tenant_id', '=', row.tenant_id)
      .executeTakeFirst();
    // A hash already stored under another owner is replaced, never shared (and not counted).
    await trx.deleteFrom(oneTimeTokens).where('token_hash', '=', row.token_hash).execute();
    const taken = await insertUnlessDuplicate(trx, (executor) => executor.insertInto(oneTimeTokens).values(row).execute());
    // A concurrent reissue inserted after this transaction's delete: run it again.
    if (taken !== null) throw new ConcurrentWriteDetected('issueOneTimeToken');
    return Number(voided.numDeletedRows);
  }

  return Object.freeze({
    async issue(token: OneTimeTokenRecord) {
      assertStorableOneTimeToken(token);
      const row = oneTimeTokenToRow(token);
      return runAtomicWrite(context, 'issueOneTimeToken', async (trx) => {
        const release = await lockSubject(context, trx, JSON.stringify([row.purpose, row.subject, row.tenant_id]));
        try {
          return await replaceOwnedTokens(trx, row);
        } finally {
          await release();
        }
      });
    },

    async consume(tokenHash, purpose, now) {
      assertSafeIntegerArgument(now, 'now');
      if (!isStorableLookup(purpose, 'purpose') || !isStorableLookup(tokenHash, 'tokenHash')) return null;
      if (dialect !== 'mysql') {
        const row = await runWriteStatement(context, 'consumeOneTimeToken', (executor) =>
          executor
            .deleteFrom(oneTimeTokens)
            .where('token_hash', '=', tokenHash)
            .where('purpose', '=', purpose)
            .where('expires_at', '>', now)
            .returningAll()
            .executeTakeFirst(),
        );
        return row === undefined ? null : oneTimeTokenFromRow(row);
      }
      return runAtomicWrite(context, 'consumeOneTimeToken', async (trx) => {
        const row = await lockedRead(context, trx.selectFrom(oneTimeTokens).selectAll().where('token_hash', '=', tokenHash)).executeTakeFirst();
        if (row === undefined) return null;
        const token = oneTimeTokenFromRow(row);
        if (token.purpose !== purpose || token.expiresAt <= now) return null;
        await trx.deleteFrom(oneTimeTokens).where('token_hash', '=', tokenHash).execute();
        return token;
      });
    },

    async voidFor(purpose, subject, tenantId) {
      if (!isStorableLookup(purpose, 'purpose') || !isStorableLookup(subject, 'subject')) return 0;
      let tenantKey: string | undefined;
      if (tenantId !== undefined && tenantId !== null) {
        // `''` is the no-tenant marker, never a tenant: no token belongs to it.
        if (!isStorableLookup(tenantId, 'tenantId')) return 0;
        tenantKey = tenantId;
      } else if (tenantId === null) {
        tenantKey = noTenantKey;
      }
      const result = await runWriteStatement(context, 'voidOneTimeTokens', (executor) => {
        let query = executor.deleteFrom(oneTimeTokens).where('purpose', '=', purpose).where('subject', '=', subject);
        if (tenantKey !== undefined) query = query.where('tenant_id', '=', tenantKey);
        return query.executeTakeFirst();
      });
      return Number(result.numDeletedRows);
    },
  } satisfies OneTimeTokenStore);
}
