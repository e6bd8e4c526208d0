import { AuthError } from '../../errors.js';
import type { RefreshFamilyRecord, RefreshRotateOutcome, RefreshTokenStore } from '../../store.js';
import { insertUnlessDuplicate, lockedRead, runAtomicWrite, runWriteStatement } from './atomic-write.js';
import { readText } from './column-values.js';
import { runStoreOperation } from './database-errors.js';
import type { KyselyAuthContext } from './kysely-auth-store-context.js';
import {
  assertCountArgument,
  assertNonEmptyTextArgument,
  assertSafeIntegerArgument,
  assertStorableRefreshFamily,
  assertStorableRefreshToken,
  isStorableLookup,
} from './record-schemas.js';
import { refreshFamilyFromRow, refreshFamilyToRow, refreshTokenFromRow, refreshTokenToRow } from './row-mappers.js';

function isLiveFamily(family: RefreshFamilyRecord, now: number): boolean {
  return family.revokedAt === null && family.expiresAt > now;
}

/**
 * The {@link RefreshTokenStore} over an already resolved context.
 *
 * `rotate` is one transaction that locks the presented token's row and then its family's
 * (`SELECT ... FOR UPDATE`; on SQLite the database's write lock), decides, and writes: of N
 * concurrent rotations of one token across any number of processes, the first to get the lock
 * rotates, and the others find it rotated (`grace` inside the window, `reused` after it, which
 * revokes the family in the same transaction). Every writer that touches both rows locks the
 * token before the family, and the family-only writers lock only the family, so they cannot
 * deadlock one another. Expired tokens of a family are deleted when the family rotates; rotated
 * tokens stay until they expire, because one that comes back is how reuse is detected.
 *
 * @example
 * ```ts
 * const refreshTokens = createKyselyRefreshTokenStore(resolveKyselyAuthContext(db, undefined, 'kyselyAuthStores'));
 * ```
 */
export function createKyselyRefreshTokenStore(context: KyselyAuthContext): RefreshTokenStore {
  const { db, tables } = context;
  const families = tables.auth_refresh_families;
  const tokens = tables.auth_refresh_tokens;

  return Object.freeze({
    async createFamily(family, first) {
      assertStorableRefreshFamily(family);
      assertStorableRefreshToken(first);
      if (first.familyId !== family.id) {
        throw new AuthError('VALIDATION_FAILED', "The first token's familyId must be the family's id", { details: { field: 'first.familyId' } });
      }
      const familyRow = refreshFamilyToRow(family);
      const tokenRow = refreshTokenToRow(first);
      return runAtomicWrite(context, 'createRefreshFamily', async (trx) => {
        const taken = await insertUnlessDuplicate(trx, async (executor) => {
          await executor.insertInto(families).values(familyRow).execute();
          await executor.insertInto(tokens).values(tokenRow).execute();
        });
        return taken === null ? 'created' : 'id-taken';
      });
    },

    async rotate(input): Promise<RefreshRotateOutcome> {
      const { presentedHash, next, successorSealed, now, graceMs } = input;
      assertStorableRefreshToken(next);
      assertNonEmptyTextArgument(successorSealed, 'successorSealed');
      assertSafeIntegerArgument(now, 'now');
      assertCountArgument(graceMs, 'graceMs');
      if (!isStorableLookup(presentedHash, 'presentedHash')) return { outcome: 'invalid' };
      const nextRow = refreshTokenToRow(next);

      return runAtomicWrite(context, 'rotateRefreshToken', async (trx): Promise<RefreshRotateOutcome> => {
        const tokenRow = await lockedRead(context, trx.selectFrom(tokens).selectAll().where('token_hash', '=', presentedHash)).executeTakeFirst();
        if (tokenRow === undefined) return { outcome: 'invalid' };
        const presented = refreshTokenFromRow(tokenRow);
        const familyRow = await lockedRead(
          context,
          trx.selectFrom(families).selectAll().where('id', '=', presented.familyId),
        ).executeTakeFirst();
        const family = familyRow === undefined ? null : refreshFamilyFromRow(familyRow);
        if (presented.expiresAt <= now || family === null || !isLiveFamily(family, now)) return { outcome: 'invalid' };

        if (presented.rotatedAt !== null) {
          if (now - presented.rotatedAt < graceMs) return { outcome: 'grace', family, successorSealed: presented.successorSealed };
          await trx
            .updateTable(families)
            .set({ revoked_at: now, revoked_reason: 'reuse' })
            .where('id', '=', family.id)
            .where('revoked_at', 'is', null)
            .execute();
          return { outcome: 'reused', family: { ...family, revokedAt: now, revokedReason: 'reuse' } };
        }

        // A token of another family or generation here is a bug in the caller, not a client's doing.
        if (next.familyId !== presented.familyId || next.generation !== presented.generation + 1) {
          throw new AuthError('VALIDATION_FAILED', 'next must belong to the same family, one generation on', { details: { field: 'next' } });
        }
        const taken = await insertUnlessDuplicate(trx, (executor) => executor.insertInto(tokens).values(nextRow).execute());
        if (taken !== null) return { outcome: 'invalid' };
        await trx
          .updateTable(tokens)
          .set({ rotated_at: now, successor_sealed: successorSealed })
          .where('token_hash', '=', presentedHash)
          .where('rotated_at', 'is', null)
          .execute();
        // Expired tokens of the family mean nothing any more; rotations keep the family bounded.
        await trx
          .deleteFrom(tokens)
          .where('family_id', '=', family.id)
          .where('expires_at', '<=', now)
          .where('token_hash', '<>', next.tokenHash)
          .execute();
        return { outcome: 'rotated', family };
      });
    },

    async findFamily(id) {
      if (!isStorableLookup(id, 'id')) return null;
      const row = await runStoreOperation('findRefreshFamily', () => db.selectFrom(families).selectAll().where('id', '=', id).executeTakeFirst());
      return row === undefined ? null : refreshFamilyFromRow(row);
    },

    async revokeFamily(id, reason, now) {
      assertNonEmptyTextArgument(reason, 'reason');
      assertSafeIntegerArgument(now, 'now');
      if (!isStorableLookup(id, 'id')) return false;
      // `revoked_at` goes from NULL to a time, so the row counts as changed on every driver.
      const result = await runWriteStatement(context, 'revokeRefreshFamily', (executor) =>
        executor
          .updateTable(families)
          .set({ revoked_at: now, revoked_reason: reason })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now)
          .executeTakeFirst(),
      );
      return result.numUpdatedRows > 0n;
    },

    async revokeByUser(userId, reason, now, options) {
      assertNonEmptyTextArgument(reason, 'reason');
      assertSafeIntegerArgument(now, 'now');
      const sessionId = options?.sessionId;
      if (!isStorableLookup(userId, 'userId')) return [];
      if (sessionId !== undefined && !isStorableLookup(sessionId, 'sessionId')) return [];
      return runAtomicWrite(context, 'revokeRefreshFamiliesByUser', async (trx) => {
        let select = trx
          .selectFrom(families)
          .select('id')
          .where('user_id', '=', userId)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now);
        if (sessionId !== undefined) select = select.where('session_id', '=', sessionId);
        const ids = (await lockedRead(context, select).execute()).map((row) => readText(row.id, 'id'));
        if (ids.length > 0) {
          await trx
            .updateTable(families)
            .set({ revoked_at: now, revoked_reason: reason })
            .where('id', 'in', ids)
            .where('revoked_at', 'is', null)
            .execute();
        }
        return ids;
      });
    },
  } satisfies RefreshTokenStore);
}
