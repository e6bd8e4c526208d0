import type { Kysely } from 'kysely';
import { TenantContextError } from '../../errors.js';
import type { MembershipListQuery, MembershipPage, MembershipStore } from '../../store.js';
import type { Membership, MembershipStatus } from '../../tenant.js';
import { encodeMembershipCursor } from '../keyset-cursor.js';
import { assertPageLimit } from '../store-argument-guards.js';
import { readNullableText, readSafeInteger, readText } from './column-values.js';
import { insertConflictRetries, runStoreOperation } from './database-errors.js';
import { resolveKyselyStoreContext, type KyselyStoreContext, type KyselyTenantContextOptions } from './kysely-store-context.js';
import { decodeSqlMembershipCursor } from './page-cursors.js';
import { assertStorableMembership } from './record-schemas.js';
import type { TenantContextRow } from './schema.js';

function membershipFromRow(row: TenantContextRow<'memberships'>): Membership {
  return {
    tenantId: readText(row.tenant_id, 'tenant_id'),
    userId: readText(row.user_id, 'user_id'),
    status: readText(row.status, 'status') as MembershipStatus,
    invitedBy: readNullableText(row.invited_by, 'invited_by'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    updatedAt: readSafeInteger(row.updated_at, 'updated_at'),
  };
}

/**
 * The {@link MembershipStore} over an already resolved context.
 *
 * @example
 * ```ts
 * const store = createKyselyMembershipStore(resolveKyselyStoreContext(db, undefined, 'kyselyMembershipStore'));
 * ```
 */
export function createKyselyMembershipStore(context: KyselyStoreContext): MembershipStore {
  const { db, dialect, tables } = context;

  return {
    async insertMembership(membership) {
      assertStorableMembership(membership);
      await runStoreOperation(
        'insertMembership',
        () =>
          db
            .insertInto(tables.memberships)
            .values({
              tenant_id: membership.tenantId,
              user_id: membership.userId,
              status: membership.status,
              invited_by: membership.invitedBy,
              created_at: membership.createdAt,
              updated_at: membership.updatedAt,
            })
            .execute(),
        (error) =>
          new TenantContextError('MEMBERSHIP_ALREADY_EXISTS', 'This user is already a member of this tenant', {
            cause: error,
            details: { tenantId: membership.tenantId },
          }),
        insertConflictRetries(db),
      );
    },

    async updateMembership(membership, expected) {
      assertStorableMembership(membership);
      return runStoreOperation('updateMembership', async () => {
        const result = await db
          .updateTable(tables.memberships)
          .set({ status: membership.status, invited_by: membership.invitedBy, updated_at: membership.updatedAt })
          .where('tenant_id', '=', membership.tenantId)
          .where('user_id', '=', membership.userId)
          .where('status', '=', expected.status)
          .where('updated_at', '=', expected.updatedAt)
          .executeTakeFirst();
        if (result.numUpdatedRows > 0n) return true;
        if (dialect !== 'mysql') return false;
        // A MySQL client without the FOUND_ROWS flag counts only changed rows, so an update
        // that rewrites identical values reports 0; ask whether the row is there and matched.
        const existing = await db
          .selectFrom(tables.memberships)
          .select('user_id')
          .where('tenant_id', '=', membership.tenantId)
          .where('user_id', '=', membership.userId)
          .where('status', '=', expected.status)
          .where('updated_at', '=', expected.updatedAt)
          .executeTakeFirst();
        return existing !== undefined;
      });
    },

    async getMembership(tenantId, userId) {
      const row = await runStoreOperation('getMembership', () =>
        db
          .selectFrom(tables.memberships)
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('user_id', '=', userId)
          .executeTakeFirst(),
      );
      return row === undefined ? null : membershipFromRow(row);
    },

    async listMembershipsByUser(userId) {
      const rows = await runStoreOperation('listMembershipsByUser', () =>
        db.selectFrom(tables.memberships).selectAll().where('user_id', '=', userId).orderBy('tenant_id').execute(),
      );
      return rows.map(membershipFromRow);
    },

    async listMembershipsByTenant(tenantId, query: MembershipListQuery): Promise<MembershipPage> {
      assertPageLimit(query.limit);
      const afterUserId = query.cursor === undefined ? null : decodeSqlMembershipCursor(query.cursor);
      if (query.status !== undefined && query.status.length === 0) return { items: [], nextCursor: null };

      const rows = await runStoreOperation('listMembershipsByTenant', () => {
        let select = db.selectFrom(tables.memberships).selectAll().where('tenant_id', '=', tenantId);
        if (query.status !== undefined) select = select.where('status', 'in', [...query.status]);
        if (afterUserId !== null) select = select.where('user_id', '>', afterUserId);
        // One row more than asked tells whether another page follows.
        return select.orderBy('user_id').limit(query.limit + 1).execute();
      });

      const items = rows.slice(0, query.limit).map(membershipFromRow);
      const last = items.at(-1);
      const nextCursor = rows.length > query.limit && last !== undefined ? encodeMembershipCursor(last.userId) : null;
      return { items, nextCursor };
    },

    async deleteMembership(tenantId, userId) {
      const result = await runStoreOperation('deleteMembership', () =>
        db.deleteFrom(tables.memberships).where('tenant_id', '=', tenantId).where('user_id', '=', userId).executeTakeFirst(),
      );
      return result.numDeletedRows > 0n;
    },

    async deleteMembershipsOfTenant(tenantId) {
      const result = await runStoreOperation('deleteMembershipsOfTenant', () =>
        db.deleteFrom(tables.memberships).where('tenant_id', '=', tenantId).executeTakeFirst(),
      );
      return Number(result.numDeletedRows);
    },
  };
}

/**
 * A {@link MembershipStore} on a Kysely instance, keyed by `(tenant_id, user_id)` with a
 * `(user_id, tenant_id)` index for a user's tenants. Create the tables first with
 * `migrateTenantContextSchema(db)`; see `kyselyTenantStore` for how `db` is used.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for invalid options or an unrecognized dialect.
 *
 * @example
 * ```ts
 * import { createMembershipService } from '@tenantkit/tenant-context';
 * import { kyselyMembershipStore } from '@tenantkit/tenant-context/kysely';
 *
 * const memberships = createMembershipService({ store: kyselyMembershipStore(db), registry });
 * ```
 */
export function kyselyMembershipStore(db: Kysely<any>, options?: KyselyTenantContextOptions): MembershipStore {
  return createKyselyMembershipStore(resolveKyselyStoreContext(db, options, 'kyselyMembershipStore'));
}
