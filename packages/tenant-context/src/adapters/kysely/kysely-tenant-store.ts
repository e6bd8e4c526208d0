import type { Insertable, Kysely } from 'kysely';
import { sql } from 'kysely';
import { TenantContextError } from '../../errors.js';
import type { TenantListQuery, TenantPage, TenantStore } from '../../store.js';
import { encodeTenantCursor } from '../keyset-cursor.js';
import { assertExpectedVersion, assertPageLimit, assertTenantSearch } from '../store-argument-guards.js';
import type { DomainStatus, JsonValue, Tenant, TenantDomain, TenantStatus } from '../../tenant.js';
import { readJson, readNullableSafeInteger, readNullableText, readSafeInteger, readText, writeJson } from './column-values.js';
import { insertConflictRetries, runStoreOperation, uniqueViolationTarget } from './database-errors.js';
import { resolveKyselyStoreContext, type KyselyStoreContext, type KyselyTenantContextOptions } from './kysely-store-context.js';
import { containsLikePattern, likeEscapeCharacter } from './like-pattern.js';
import { decodeSqlTenantCursor } from './page-cursors.js';
import { assertStorableDomain, assertStorableTenant } from './record-schemas.js';
import { runAtomically } from './run-atomically.js';
import type { TenantContextRow, TenantsTable } from './schema.js';

function tenantFromRow(row: TenantContextRow<'tenants'>): Tenant {
  return {
    id: readText(row.id, 'id'),
    slug: readText(row.slug, 'slug'),
    name: readText(row.name, 'name'),
    status: readText(row.status, 'status') as TenantStatus,
    statusReason: readNullableText(row.status_reason, 'status_reason'),
    plan: readText(row.plan, 'plan'),
    settings: readJson<Record<string, JsonValue>>(row.settings, 'settings'),
    features: readJson<Record<string, boolean>>(row.features, 'features'),
    limits: readJson<Record<string, number>>(row.limits, 'limits'),
    region: readNullableText(row.region, 'region'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    updatedAt: readSafeInteger(row.updated_at, 'updated_at'),
    deletedAt: readNullableSafeInteger(row.deleted_at, 'deleted_at'),
    version: readSafeInteger(row.version, 'version'),
  };
}

/** The columns of a tenant; validates first, so nothing unstorable reaches the database. */
function tenantToRow(tenant: Tenant): Insertable<TenantsTable> {
  assertStorableTenant(tenant);
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    status: tenant.status,
    status_reason: tenant.statusReason,
    plan: tenant.plan,
    settings: writeJson(tenant.settings, 'tenant settings'),
    features: writeJson(tenant.features, 'tenant features'),
    limits: writeJson(tenant.limits, 'tenant limits'),
    region: tenant.region,
    created_at: tenant.createdAt,
    updated_at: tenant.updatedAt,
    deleted_at: tenant.deletedAt,
    version: tenant.version,
  };
}

function domainFromRow(row: TenantContextRow<'tenant_domains'>): TenantDomain {
  return {
    hostname: readText(row.hostname, 'hostname'),
    tenantId: readText(row.tenant_id, 'tenant_id'),
    status: readText(row.status, 'status') as DomainStatus,
    verificationToken: readText(row.verification_token, 'verification_token'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    verifiedAt: readNullableSafeInteger(row.verified_at, 'verified_at'),
  };
}

/**
 * The {@link TenantStore} over an already resolved context (shared by
 * `kyselyTenantContextStores`, which resolves the options once for all four stores).
 *
 * @example
 * ```ts
 * const store = createKyselyTenantStore(resolveKyselyStoreContext(db, undefined, 'kyselyTenantStore'));
 * ```
 */
export function createKyselyTenantStore(context: KyselyStoreContext): TenantStore {
  const { db, dialect, tables, constraints } = context;

  /** Maps a unique violation on insert or update to the key the tenant collided on. */
  function tenantTaken(tenant: Tenant): (error: unknown) => TenantContextError {
    return (error) => {
      const target = uniqueViolationTarget(error);
      const slugTaken = target === constraints.tenantsSlugKey || target === `${tables.tenants}.slug`;
      const idTaken = target === constraints.tenantsPrimaryKey || target === 'PRIMARY' || target === `${tables.tenants}.id`;
      if (slugTaken) {
        return new TenantContextError('TENANT_ALREADY_EXISTS', 'A tenant with this slug already exists', {
          cause: error,
          details: { slug: tenant.slug },
        });
      }
      return new TenantContextError(
        'TENANT_ALREADY_EXISTS',
        idTaken ? 'A tenant with this id already exists' : 'A tenant with this id or slug already exists',
        { cause: error, details: idTaken ? { tenantId: tenant.id } : { tenantId: tenant.id, slug: tenant.slug } },
      );
    };
  }

  async function domainExists(tenantId: string, hostname: string): Promise<boolean> {
    const row = await db
      .selectFrom(tables.tenant_domains)
      .select('hostname')
      .where('hostname', '=', hostname)
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return row !== undefined;
  }

  return {
    async insertTenant(tenant) {
      const row = tenantToRow(tenant);
      await runStoreOperation(
        'insertTenant',
        () => db.insertInto(tables.tenants).values(row).execute(),
        tenantTaken(tenant),
        insertConflictRetries(db),
      );
    },

    async getTenantById(id) {
      const row = await runStoreOperation('getTenantById', () =>
        db.selectFrom(tables.tenants).selectAll().where('id', '=', id).executeTakeFirst(),
      );
      return row === undefined ? null : tenantFromRow(row);
    },

    async getTenantBySlug(slug) {
      const row = await runStoreOperation('getTenantBySlug', () =>
        db.selectFrom(tables.tenants).selectAll().where('slug', '=', slug).executeTakeFirst(),
      );
      return row === undefined ? null : tenantFromRow(row);
    },

    async updateTenant(tenant, expectedVersion) {
      assertExpectedVersion(tenant.version, expectedVersion);
      const { id, ...columns } = tenantToRow(tenant);
      // The version always changes, so MySQL's affected-row count (changed rows unless the
      // client asks for found rows) is 1 exactly when the compare-and-set matched.
      const result = await runStoreOperation(
        'updateTenant',
        () =>
          db
            .updateTable(tables.tenants)
            .set(columns)
            .where('id', '=', id)
            .where('version', '=', expectedVersion)
            .executeTakeFirst(),
        tenantTaken(tenant),
      );
      return result.numUpdatedRows > 0n;
    },

    async purgeTenant(id, expected) {
      return runStoreOperation('purgeTenant', () =>
        runAtomically(db, async (trx) => {
          // One conditional DELETE: a tenant whose status or version moved on since the caller
          // read it stays, and so do its domains.
          const removed = await trx
            .deleteFrom(tables.tenants)
            .where('id', '=', id)
            .where('status', '=', expected.status)
            .where('version', '=', expected.version)
            .executeTakeFirst();
          if (removed.numDeletedRows === 0n) return false;
          await trx.deleteFrom(tables.tenant_domains).where('tenant_id', '=', id).execute();
          return true;
        }),
      );
    },

    async listTenants(query: TenantListQuery): Promise<TenantPage> {
      assertPageLimit(query.limit);
      const after = query.cursor === undefined ? null : decodeSqlTenantCursor(query.cursor);
      // Before the status short-cut, so a bad search fails whatever else the query says.
      if (query.search !== undefined) assertTenantSearch(query.search);
      if (query.status !== undefined && query.status.length === 0) return { items: [], nextCursor: null };

      const rows = await runStoreOperation('listTenants', () => {
        let select = db.selectFrom(tables.tenants).selectAll();
        select =
          query.status === undefined
            ? select.where('status', '<>', 'deleted')
            : select.where('status', 'in', [...query.status]);
        if (query.plan !== undefined) select = select.where('plan', '=', query.plan);
        if (query.search !== undefined) {
          const pattern = containsLikePattern(query.search);
          const escape = sql.lit(likeEscapeCharacter);
          // Both sides are lower-cased by the database, so its notion of case applies to both
          // (SQLite's lower() folds ASCII only) and PRAGMA case_sensitive_like changes nothing.
          select = select.where(({ or }) =>
            or([
              sql<boolean>`lower(${sql.ref('slug')}) like lower(${pattern}) escape ${escape}`,
              sql<boolean>`lower(${sql.ref('name')}) like lower(${pattern}) escape ${escape}`,
            ]),
          );
        }
        if (after !== null) {
          select =
            dialect === 'postgres'
              ? // A row comparison lets Postgres walk the (created_at, id) index from the cursor.
                select.where(({ eb, refTuple, tuple }) => eb(refTuple('created_at', 'id'), '>', tuple(after.createdAt, after.id)))
              : select.where(({ eb, or, and }) =>
                  or([
                    eb('created_at', '>', after.createdAt),
                    and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
                  ]),
                );
        }
        // One row more than asked tells whether another page follows.
        return select.orderBy('created_at').orderBy('id').limit(query.limit + 1).execute();
      });

      const items = rows.slice(0, query.limit).map(tenantFromRow);
      const last = items.at(-1);
      const nextCursor = rows.length > query.limit && last !== undefined ? encodeTenantCursor(last) : null;
      return { items, nextCursor };
    },

    async insertDomain(domain) {
      assertStorableDomain(domain);
      await runStoreOperation(
        'insertDomain',
        () =>
          db
            .insertInto(tables.tenant_domains)
            .values({
              hostname: domain.hostname,
              tenant_id: domain.tenantId,
              status: domain.status,
              verification_token: domain.verificationToken,
              created_at: domain.createdAt,
              verified_at: domain.verifiedAt,
            })
            .execute(),
        (error) =>
          new TenantContextError('DOMAIN_TAKEN', 'This host name is already claimed', {
            cause: error,
            details: { hostname: domain.hostname },
          }),
        insertConflictRetries(db),
      );
    },

    async getDomain(hostname) {
      const row = await runStoreOperation('getDomain', () =>
        db.selectFrom(tables.tenant_domains).selectAll().where('hostname', '=', hostname).executeTakeFirst(),
      );
      return row === undefined ? null : domainFromRow(row);
    },

    async listDomains(tenantId) {
      const rows = await runStoreOperation('listDomains', () =>
        db.selectFrom(tables.tenant_domains).selectAll().where('tenant_id', '=', tenantId).orderBy('hostname').execute(),
      );
      return rows.map(domainFromRow);
    },

    async updateDomain(domain) {
      assertStorableDomain(domain);
      return runStoreOperation('updateDomain', async () => {
        const result = await db
          .updateTable(tables.tenant_domains)
          .set({ status: domain.status, verification_token: domain.verificationToken, verified_at: domain.verifiedAt })
          .where('hostname', '=', domain.hostname)
          .where('tenant_id', '=', domain.tenantId)
          .executeTakeFirst();
        if (result.numUpdatedRows > 0n) return true;
        // A MySQL client without the FOUND_ROWS flag counts only changed rows, so an update
        // that rewrites identical values reports 0; ask whether the row is there.
        return dialect === 'mysql' && (await domainExists(domain.tenantId, domain.hostname));
      });
    },

    async deleteDomain(tenantId, hostname, expected) {
      const result = await runStoreOperation('deleteDomain', () => {
        let remove = db.deleteFrom(tables.tenant_domains).where('hostname', '=', hostname).where('tenant_id', '=', tenantId);
        if (expected !== undefined) {
          remove = remove.where('status', '=', expected.status).where('created_at', '=', expected.createdAt);
        }
        return remove.executeTakeFirst();
      });
      return result.numDeletedRows > 0n;
    },
  };
}

/**
 * A {@link TenantStore} on a Kysely instance: tenants and custom domains in SQL tables
 * (PostgreSQL, PGlite, MySQL/MariaDB, SQLite 3.35+). Uniqueness of ids, slugs and host names
 * is enforced by unique keys, updates are compare-and-set on `version`, and lists use keyset
 * pagination on `(created_at, id)`. Create the tables first with `migrateTenantContextSchema(db)`.
 *
 * The store runs its queries without the plugins of `db` (so `CamelCasePlugin` or
 * `withSchema` do not rewrite them); use `tablePrefix`, or the connection's `search_path`, to
 * place the tables. Pass a Kysely transaction to make the store's writes part of it (on
 * Postgres, a refused write such as a taken slug then aborts that transaction, as every failed
 * statement does); otherwise `purgeTenant` runs in a transaction of its own.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for invalid options or an unrecognized dialect.
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from 'kysely';
 * import pg from 'pg';
 * import { createTenantRegistry } from '@tenantkit/tenant-context';
 * import { kyselyTenantStore, migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
 *
 * const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString }) }) });
 * await migrateTenantContextSchema(db);
 * const registry = createTenantRegistry({ store: kyselyTenantStore(db) });
 * ```
 */
export function kyselyTenantStore(db: Kysely<any>, options?: KyselyTenantContextOptions): TenantStore {
  return createKyselyTenantStore(resolveKyselyStoreContext(db, options, 'kyselyTenantStore'));
}
