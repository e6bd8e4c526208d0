import { AuthError } from '../../errors.js';
import type { AccountRecord, AccountStore } from '../../store.js';
import { insertRowUnlessDuplicate, lockedRead, runAtomicWrite, runWriteStatement } from './atomic-write.js';
import { writeJson } from './column-values.js';
import { runStoreOperation } from './database-errors.js';
import type { KyselyAuthContext } from './kysely-auth-store-context.js';
import {
  assertCountArgument,
  assertSafeIntegerArgument,
  assertStorableAccount,
  assertStorablePasswordHash,
  isStorableLookup,
} from './record-schemas.js';
import { accountFromRow, accountToRow } from './row-mappers.js';

/**
 * The {@link AccountStore} over an already resolved context. `create` relies on the unique
 * keys: of two concurrent creates with one email the database admits one, and the violated
 * key's name tells `'email-taken'` from `'id-taken'` (`'id-taken'` when both are taken). Password changes read and lock the row,
 * then write hash and history together.
 *
 * @example
 * ```ts
 * const accounts = createKyselyAccountStore(resolveKyselyAuthContext(db, undefined, 'kyselyAuthStores'));
 * ```
 */
export function createKyselyAccountStore(context: KyselyAuthContext): AccountStore {
  const { db, tables, constraints } = context;
  const accounts = tables.auth_accounts;

  /** Whether a violated unique key (named as the driver names it) is the email key. */
  function isEmailKey(target: string): boolean {
    // Postgres and MySQL name the constraint; SQLite names `table.column`.
    return target === constraints.accountsEmailKey || target === `${accounts}.email`;
  }

  return Object.freeze({
    async create(account: AccountRecord) {
      assertStorableAccount(account);
      const row = accountToRow(account);
      const taken = await insertRowUnlessDuplicate(context, 'createAccount', (executor) => executor.insertInto(accounts).values(row).execute());
      if (taken === null) return 'created';
      if (taken !== '' && !isEmailKey(taken)) return 'id-taken';
      // The email key was violated (or the driver did not say which key): when the id is taken
      // too, that is the answer, as in the memory store; databases check keys in differing order.
      const existing = await runStoreOperation('createAccount', () =>
        db.selectFrom(accounts).select('id').where('id', '=', account.id).executeTakeFirst(),
      );
      return existing === undefined ? 'email-taken' : 'id-taken';
    },

    async findById(id: string) {
      if (!isStorableLookup(id, 'id')) return null;
      const row = await runStoreOperation('findAccountById', () => db.selectFrom(accounts).selectAll().where('id', '=', id).executeTakeFirst());
      return row === undefined ? null : accountFromRow(row);
    },

    async findByEmail(email: string) {
      if (!isStorableLookup(email, 'email')) return null;
      const row = await runStoreOperation('findAccountByEmail', () =>
        db.selectFrom(accounts).selectAll().where('email', '=', email).executeTakeFirst(),
      );
      return row === undefined ? null : accountFromRow(row);
    },

    async setPassword(id, change) {
      assertStorablePasswordHash(change.passwordHash);
      assertCountArgument(change.historyLimit, 'historyLimit');
      assertSafeIntegerArgument(change.now, 'now');
      const expected = change.expectedPasswordHash;
      if (expected !== undefined && expected !== null && typeof expected !== 'string') {
        throw new AuthError('VALIDATION_FAILED', 'expectedPasswordHash must be a string or null', { details: { argument: 'expectedPasswordHash' } });
      }
      if (!isStorableLookup(id, 'id')) return 'not-found';
      return runAtomicWrite(context, 'setPassword', async (trx): Promise<AccountRecord | 'not-found' | 'conflict'> => {
        const row = await lockedRead(context, trx.selectFrom(accounts).selectAll().where('id', '=', id)).executeTakeFirst();
        if (row === undefined) return 'not-found';
        const current = accountFromRow(row);
        if (expected !== undefined && current.passwordHash !== expected) return 'conflict';
        const history = current.passwordHash === null ? current.passwordHistory : [current.passwordHash, ...current.passwordHistory];
        const updated: AccountRecord = {
          ...current,
          passwordHash: change.passwordHash,
          passwordHistory: history.slice(0, change.historyLimit),
          passwordChangedAt: change.now,
          updatedAt: change.now,
        };
        await trx
          .updateTable(accounts)
          .set({
            password_hash: updated.passwordHash,
            password_history: writeJson(updated.passwordHistory, 'password history'),
            password_changed_at: updated.passwordChangedAt,
            updated_at: updated.updatedAt,
          })
          .where('id', '=', id)
          .execute();
        return updated;
      });
    },

    async rehashPassword(id, expectedPasswordHash, passwordHash, now) {
      assertStorablePasswordHash(passwordHash);
      assertSafeIntegerArgument(now, 'now');
      if (!isStorableLookup(id, 'id') || !isStorableLookup(expectedPasswordHash, 'expectedPasswordHash')) return false;
      // Decided by a locked read, not by the affected-row count, which a MySQL client without
      // FOUND_ROWS reports as 0 for an update that writes the values a row already has.
      return runAtomicWrite(context, 'rehashPassword', async (trx) => {
        const row = await lockedRead(context, trx.selectFrom(accounts).select('password_hash').where('id', '=', id)).executeTakeFirst();
        if (row === undefined || row.password_hash !== expectedPasswordHash) return false;
        await trx.updateTable(accounts).set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).execute();
        return true;
      });
    },

    async update(id, patch, now) {
      assertSafeIntegerArgument(now, 'now');
      const changes: { email_verified_at?: number | null; disabled_at?: number | null } = {};
      if (patch.emailVerifiedAt !== undefined) {
        if (patch.emailVerifiedAt !== null) assertSafeIntegerArgument(patch.emailVerifiedAt, 'emailVerifiedAt');
        changes.email_verified_at = patch.emailVerifiedAt;
      }
      if (patch.disabledAt !== undefined) {
        if (patch.disabledAt !== null) assertSafeIntegerArgument(patch.disabledAt, 'disabledAt');
        changes.disabled_at = patch.disabledAt;
      }
      if (!isStorableLookup(id, 'id')) return null;
      return runAtomicWrite(context, 'updateAccount', async (trx) => {
        const row = await lockedRead(context, trx.selectFrom(accounts).selectAll().where('id', '=', id)).executeTakeFirst();
        if (row === undefined) return null;
        await trx.updateTable(accounts).set({ ...changes, updated_at: now }).where('id', '=', id).execute();
        const current = accountFromRow(row);
        return {
          ...current,
          emailVerifiedAt: changes.email_verified_at === undefined ? current.emailVerifiedAt : changes.email_verified_at,
          disabledAt: changes.disabled_at === undefined ? current.disabledAt : changes.disabled_at,
          updatedAt: now,
        };
      });
    },

    async delete(id) {
      if (!isStorableLookup(id, 'id')) return false;
      const result = await runWriteStatement(context, 'deleteAccount', (executor) =>
        executor.deleteFrom(accounts).where('id', '=', id).executeTakeFirst(),
      );
      return result.numDeletedRows > 0n;
    },
  } satisfies AccountStore);
}
