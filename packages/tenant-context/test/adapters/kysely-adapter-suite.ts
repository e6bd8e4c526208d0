import type { TenantContextStores } from '@tenantkit/tenant-context';
import {
  detectSqlDialect,
  kyselyLifecycleRunStore,
  kyselyMembershipStore,
  kyselyTenantContextStores,
  kyselyTenantStore,
  kyselyUsageCounterStore,
  migrateTenantContextSchema,
  tenantContextMigrations,
  type SqlDialect,
} from '@tenantkit/tenant-context/kysely';
import {
  buildDomain,
  buildLifecycleRun,
  buildMembership,
  buildTenant,
  describeTenantContextStoreConformance,
  fixtureEpochMs,
} from '@tenantkit/test-utils';
import { CamelCasePlugin, Migrator, NO_MIGRATIONS, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * Tests of what the Kysely adapter adds beyond the store contracts (the shared conformance
 * suite covers those): migrations, options, dialect detection, column fidelity, transactions
 * and error translation. Each dialect's test file runs them against its own temporary database.
 */

/** How a dialect's test file gives the shared tests access to its database. */
export interface KyselyAdapterHarness {
  /** The dialect the database speaks. */
  dialect: SqlDialect;
  /** The migrated Kysely instance of the test file (default prefix). */
  db(): Kysely<any>;
  /**
   * Opens another, independent Kysely instance (own pool) on the same database, standing in
   * for another application process. Absent for an embedded database (PGlite).
   */
  connectAgain?: () => Kysely<any>;
}

/** How a dialect's test file opens and closes its database, for {@link describeMigratedKyselyStores}. */
export interface KyselyTestDatabase {
  /** Suite name, e.g. `'kysely on PostgreSQL'`. */
  name: string;
  dialect: SqlDialect;
  /** Opens the database (once, before all tests) and returns the Kysely instance to migrate and test. */
  open(): Promise<Kysely<any>> | Kysely<any>;
  /** Closes every connection and removes the database (after all tests). */
  close(): Promise<void>;
  connectAgain?: () => Kysely<any>;
}

/**
 * What every dialect's test file does the same way: open and migrate the database, run the
 * shared conformance suite over emptied tables, then the adapter-specific tests, and close.
 * Returns the migrated instance's accessor for the file's own dialect-specific tests.
 */
export function describeMigratedKyselyStores(database: KyselyTestDatabase): () => Kysely<any> {
  let db: Kysely<any> | undefined;
  const current = (): Kysely<any> => {
    if (db === undefined) throw new Error(`${database.name}: the database is not open`);
    return db;
  };
  beforeAll(async () => {
    db = await database.open();
    await migrateTenantContextSchema(db);
  });
  afterAll(() => database.close());
  describeTenantContextStoreConformance(database.name, {
    async setup() {
      await clearTenantContextTables(current());
      return kyselyTenantContextStores(current());
    },
  });
  describeKyselyAdapterSpecifics({
    dialect: database.dialect,
    db: current,
    ...(database.connectAgain === undefined ? {} : { connectAgain: database.connectAgain }),
  });
  return current;
}

const defaultTables = ['tenants', 'tenant_domains', 'memberships', 'lifecycle_runs', 'usage_counters'];

/** Deletes every row of the tenant-context tables, so a test starts over empty state. */
export async function clearTenantContextTables(db: Kysely<any>, prefix = 'tenantkit_'): Promise<void> {
  for (const table of defaultTables) await sql`delete from ${sql.table(`${prefix}${table}`)}`.execute(db);
}


async function freshStores(harness: KyselyAdapterHarness): Promise<TenantContextStores> {
  await clearTenantContextTables(harness.db());
  return kyselyTenantContextStores(harness.db());
}

/** What `migrateTenantContextSchema` reports when it brings an empty database up to date. */
export const allMigrationsApplied = [
  { migrationName: 'tenantkit_tenant_context_0001_initial_schema', direction: 'Up', status: 'Success' },
  { migrationName: 'tenantkit_tenant_context_0002_lifecycle_run_artifacts', direction: 'Up', status: 'Success' },
] as const;

function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** Registers the adapter-specific tests. */
export function describeKyselyAdapterSpecifics(harness: KyselyAdapterHarness): void {
  describe('migrations', () => {
    it('runs nothing, and keeps the data, when the schema is already up to date', async () => {
      const stores = await freshStores(harness);
      const tenant = buildTenant({ id: 'tnt_kept' });
      await stores.tenants.insertTenant(tenant);
      expect(await migrateTenantContextSchema(harness.db())).toEqual([]);
      expect(await migrateTenantContextSchema(harness.db())).toEqual([]);
      expect(await stores.tenants.getTenantById('tnt_kept')).toEqual(tenant);
    });

    it('creates separate tables for another prefix, which the stores of each prefix keep apart', async () => {
      const db = harness.db();
      const first = await migrateTenantContextSchema(db, { tablePrefix: 'acme_' });
      expect(first).toEqual(allMigrationsApplied);
      expect(await migrateTenantContextSchema(db, { tablePrefix: 'acme_' })).toEqual([]);
      await clearTenantContextTables(db, 'acme_');

      const acme = kyselyTenantContextStores(db, { tablePrefix: 'acme_' });
      const standard = await freshStores(harness);
      await acme.tenants.insertTenant(buildTenant({ id: 'tnt_acme', slug: 'shared-slug' }));
      await standard.tenants.insertTenant(buildTenant({ id: 'tnt_std', slug: 'shared-slug' }));
      await acme.usageCounters.set('tnt_x', 'users', 7);
      expect(await standard.tenants.getTenantById('tnt_acme')).toBeNull();
      expect((await acme.tenants.getTenantBySlug('shared-slug'))?.id).toBe('tnt_acme');
      expect((await standard.tenants.getTenantBySlug('shared-slug'))?.id).toBe('tnt_std');
      expect(await standard.usageCounters.get('tnt_x', 'users')).toBe(0);
      expect(await acme.usageCounters.get('tnt_x', 'users')).toBe(7);
    });

    it.skipIf(harness.connectAgain === undefined)('migrates exactly once when several processes start at the same time', async () => {
      const connectAgain = harness.connectAgain as () => Kysely<any>;
      const runs = await Promise.all(
        [harness.db(), connectAgain(), connectAgain()].map((db) => migrateTenantContextSchema(db, { tablePrefix: 'race_' })),
      );
      expect(runs.flat()).toEqual(allMigrationsApplied);
      const counters = kyselyUsageCounterStore(harness.db(), { tablePrefix: 'race_' });
      expect(await counters.increment('tnt_a', 'users', 1, 1)).toEqual({ applied: true, value: 1 });
    });

    it('works with an application-run Migrator, up and down', async () => {
      const db = harness.db();
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => tenantContextMigrations(harness.dialect, { tablePrefix: 'own_' }) },
        migrationTableName: 'own_migrations',
        migrationLockTableName: 'own_migrations_lock',
      });
      const up = await migrator.migrateToLatest();
      expect(up.error).toBeUndefined();
      const counters = kyselyUsageCounterStore(db, { tablePrefix: 'own_' });
      expect(await counters.increment('tnt_a', 'users', 2, 5)).toEqual({ applied: true, value: 2 });

      // One step down removes the artifacts column only: runs can no longer be written.
      const runs = kyselyLifecycleRunStore(db, { tablePrefix: 'own_' });
      const down = await migrator.migrateDown();
      expect(down.error).toBeUndefined();
      expect(down.results?.map((result) => result.migrationName)).toEqual(['tenantkit_tenant_context_0002_lifecycle_run_artifacts']);
      await expect(runs.insertRun(buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a' }))).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
      });
      expect(await counters.get('tnt_a', 'users')).toBe(2);

      const empty = await migrator.migrateTo(NO_MIGRATIONS);
      expect(empty.error).toBeUndefined();
      await expect(counters.get('tnt_a', 'users')).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      for (const table of ['own_migrations', 'own_migrations_lock']) await sql`drop table ${sql.table(table)}`.execute(db);
    });

    it('upgrades a database the first migration created, keeping its runs, and adds artifacts to them', async () => {
      const db = harness.db();
      const prefix = 'upgrade_';
      // The same bookkeeping tables as migrateTenantContextSchema, stopped after 0001: a
      // database migrated by a release before the artifacts column existed.
      const oldRelease = new Migrator({
        db,
        provider: { getMigrations: async () => tenantContextMigrations(harness.dialect, { tablePrefix: prefix }) },
        migrationTableName: `${prefix}tenant_context_migrations`,
        migrationLockTableName: `${prefix}tenant_context_migrations_lock`,
      });
      const initial = await oldRelease.migrateTo('tenantkit_tenant_context_0001_initial_schema');
      expect(initial.error).toBeUndefined();

      const runs = kyselyLifecycleRunStore(db, { tablePrefix: prefix });
      const run = buildLifecycleRun({ id: 'run_old', tenantId: 'tnt_a', kind: 'offboarding', completedSteps: ['export:s3'] });
      // Before the upgrade, runs are read (without artifacts) but cannot be written.
      await expect(runs.insertRun(run)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      await db
        .insertInto(`${prefix}lifecycle_runs`)
        .values({
          id: run.id,
          tenant_id: run.tenantId,
          kind: run.kind,
          state: run.state,
          completed_steps: JSON.stringify(run.completedSteps),
          compensated_steps: '[]',
          input: '{}',
          error: null,
          lease_owner: null,
          lease_expires_at: null,
          created_at: run.createdAt,
          updated_at: run.updatedAt,
          version: run.version,
        })
        .execute();
      expect(await runs.getRun('run_old')).toStrictEqual(run);

      expect(await migrateTenantContextSchema(db, { tablePrefix: prefix })).toEqual([
        { migrationName: 'tenantkit_tenant_context_0002_lifecycle_run_artifacts', direction: 'Up', status: 'Success' },
      ]);
      expect(await migrateTenantContextSchema(db, { tablePrefix: prefix })).toEqual([]);
      expect(await runs.getRun('run_old')).toStrictEqual(run);
      const artifact = { step: 'export:s3', location: 's3://exports/tnt_a.zip', details: { bytes: 12 }, recordedAt: fixtureEpochMs };
      const withArtifacts = { ...run, artifacts: [artifact], version: 2 };
      expect(await runs.updateRun(withArtifacts, 1)).toBe(true);
      expect(await runs.getRun('run_old')).toStrictEqual(withArtifacts);

      // Running the migration again after a crash before its bookkeeping (no transactional DDL
      // on MySQL) changes nothing; so does undoing it twice.
      const migration = tenantContextMigrations(harness.dialect, { tablePrefix: prefix }).tenantkit_tenant_context_0002_lifecycle_run_artifacts;
      await migration?.up(db);
      expect(await runs.getRun('run_old')).toStrictEqual(withArtifacts);
      await migration?.down?.(db);
      await migration?.down?.(db);
      expect(await runs.getRun('run_old')).toStrictEqual({ ...run, version: 2 });
      await migration?.up(db);
      expect(await runs.getRun('run_old')).toStrictEqual({ ...run, version: 2 });
    });

    it('rejects invalid arguments with CONFIGURATION_INVALID', async () => {
      const db = harness.db();
      await expect(migrateTenantContextSchema(db, { tablePrefix: 'Bad-Prefix' })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      expect(() => tenantContextMigrations('oracle' as SqlDialect)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      await db.transaction().execute(async (trx) => {
        await expect(migrateTenantContextSchema(trx)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      });
    });

    it('tells that the schema is missing with CONFIGURATION_INVALID', async () => {
      const stores = kyselyTenantContextStores(harness.db(), { tablePrefix: 'never_migrated_' });
      await expect(stores.tenants.getTenantById('tnt_a')).rejects.toMatchObject({
        name: 'TenantContextError',
        code: 'CONFIGURATION_INVALID',
        cause: expect.any(Error),
      });
      await expect(stores.usageCounters.increment('tnt_a', 'users', 1, 5)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    });
  });

  describe('options', () => {
    it(`detects the ${harness.dialect} dialect from the Kysely instance`, () => {
      expect(detectSqlDialect(harness.db())).toBe(harness.dialect);
    });

    it('validates options and the instance when a factory is called', () => {
      const db = harness.db();
      const invalid: unknown[] = [
        { tablePrefix: '' },
        { tablePrefix: '1abc_' },
        { tablePrefix: 'UPPER_' },
        { tablePrefix: 'semi;colon' },
        { tablePrefix: 'a'.repeat(32) },
        { dialect: 'oracle' },
        { unknownOption: true },
        null,
      ];
      for (const options of invalid) {
        expect(() => kyselyTenantStore(db, options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      }
      expect(() => kyselyTenantContextStores({} as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      expect(() => kyselyTenantStore(db, { tablePrefix: `a${'b'.repeat(30)}` })).not.toThrow();
    });

    it('runs its queries without the plugins of the given instance', async () => {
      await clearTenantContextTables(harness.db());
      const stores = kyselyTenantContextStores(harness.db().withPlugin(new CamelCasePlugin()));
      const tenant = buildTenant({ id: 'tnt_camel', statusReason: 'x', deletedAt: fixtureEpochMs });
      await stores.tenants.insertTenant(tenant);
      expect(await stores.tenants.getTenantById('tnt_camel')).toEqual(tenant);
    });
  });

  describe('column fidelity', () => {
    it('round-trips the extremes of epoch milliseconds and versions exactly', async () => {
      const stores = await freshStores(harness);
      const extremes = [
        buildTenant({ id: 'tnt_max', createdAt: Number.MAX_SAFE_INTEGER, updatedAt: 0, deletedAt: -1, version: Number.MAX_SAFE_INTEGER }),
        buildTenant({ id: 'tnt_min', createdAt: -Number.MAX_SAFE_INTEGER, updatedAt: 1, deletedAt: 0, version: 1 }),
      ];
      for (const tenant of extremes) await stores.tenants.insertTenant(tenant);
      for (const tenant of extremes) expect(await stores.tenants.getTenantById(tenant.id)).toEqual(tenant);
      const run = buildLifecycleRun({ id: 'run_x', tenantId: 'tnt_max', leaseExpiresAt: Number.MAX_SAFE_INTEGER - 1 });
      await stores.lifecycleRuns.insertRun(run);
      expect(await stores.lifecycleRuns.getRun('run_x')).toEqual(run);
    });

    it('compares keys byte-wise: trailing spaces and case make different keys', async () => {
      const stores = await freshStores(harness);
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_a', slug: 'alpha' }));
      expect(await stores.tenants.getTenantById('tnt_a ')).toBeNull();
      expect(await stores.tenants.getTenantBySlug('alpha ')).toBeNull();
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_a ', slug: 'alpha ' }));
      expect((await stores.tenants.getTenantBySlug('alpha '))?.id).toBe('tnt_a ');
      expect((await stores.tenants.getTenantBySlug('alpha'))?.id).toBe('tnt_a');

      await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'bob' }));
      await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'bob ', status: 'invited' }));
      await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'Bob', status: 'suspended' }));
      expect((await stores.memberships.getMembership('tnt_a', 'bob'))?.status).toBe('active');
      expect((await stores.memberships.getMembership('tnt_a', 'bob '))?.status).toBe('invited');
      expect(await stores.memberships.listMembershipsByUser('bob')).toHaveLength(1);

      await stores.tenants.insertDomain(buildDomain({ tenantId: 'tnt_a', hostname: 'app.test' }));
      expect(await stores.tenants.getDomain('app.test ')).toBeNull();
      expect(await stores.tenants.getDomain('APP.test')).toBeNull();
      await stores.usageCounters.set('tnt_a', 'users', 1);
      expect(await stores.usageCounters.get('tnt_a ', 'users')).toBe(0);
      expect(await stores.usageCounters.get('tnt_a', 'users ')).toBe(0);
    });

    it('sorts ids like JavaScript string comparison', async () => {
      const stores = await freshStores(harness);
      // Punctuation, case and digits: locale collations order these differently.
      const userIds = ['usr-b', 'usr_a', 'usr.c', 'usrA', 'usr|z', 'USR', 'usr@x', 'usr:y', 'usr0'];
      for (const userId of userIds) await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId }));
      const expected = [...userIds].sort();
      const page = await stores.memberships.listMembershipsByTenant('tnt_a', { limit: 100 });
      expect(page.items.map((membership) => membership.userId)).toEqual(expected);
      const paged: string[] = [];
      let cursor: string | undefined;
      do {
        const next = await stores.memberships.listMembershipsByTenant('tnt_a', cursor === undefined ? { limit: 2 } : { limit: 2, cursor });
        paged.push(...next.items.map((membership) => membership.userId));
        cursor = next.nextCursor ?? undefined;
      } while (cursor !== undefined);
      expect(paged).toEqual(expected);

      for (const tenantId of ['tnt-b', 'tnt_a', 'TNT', 'tnt0']) {
        await stores.memberships.insertMembership(buildMembership({ tenantId, userId: 'usr_shared' }));
      }
      expect((await stores.memberships.listMembershipsByUser('usr_shared')).map((m) => m.tenantId)).toEqual(['TNT', 'tnt-b', 'tnt0', 'tnt_a']);
    });

    it('rejects values a column cannot hold exactly with VALIDATION_FAILED and writes nothing', async () => {
      const stores = await freshStores(harness);
      const invalidTenants = [
        buildTenant({ id: 't'.repeat(65) }),
        buildTenant({ id: 'tnt_nul', name: 'nul\u0000byte' }),
        buildTenant({ id: 'tnt_surrogate', name: 'lone \ud800 surrogate' }),
        buildTenant({ id: 'tnt_float', createdAt: 1.5 }),
        buildTenant({ id: 'tnt_unsafe', version: Number.MAX_SAFE_INTEGER + 1 }),
        buildTenant({ id: 'tnt_bigint', settings: { big: 1n } as never }),
      ];
      for (const tenant of invalidTenants) {
        await expect(stores.tenants.insertTenant(tenant)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      await expect(
        stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'u'.repeat(129) })),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(stores.usageCounters.increment('tnt_a', 'r'.repeat(65), 1, -1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(stores.usageCounters.set('t'.repeat(65), 'users', 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((await stores.tenants.listTenants({ limit: 10 })).items).toEqual([]);
      expect(await stores.usageCounters.getAll('tnt_a')).toEqual({});
      // The longest values that fit are fine, non-ASCII and astral characters included.
      const longest = buildTenant({ id: 't'.repeat(64), slug: 's'.repeat(64), name: 'Ünïcödé 🚀'.repeat(100) });
      await stores.tenants.insertTenant(longest);
      expect(await stores.tenants.getTenantById(longest.id)).toEqual(longest);
    });

    it('refuses to return an integer it cannot represent exactly', async () => {
      const stores = await freshStores(harness);
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_huge' }));
      await sql`update ${sql.table('tenantkit_tenants')} set ${sql.ref('version')} = 9007199254740993`.execute(harness.db());
      await expect(stores.tenants.getTenantById('tnt_huge')).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    });

    it('matches the escape character of its LIKE patterns literally', async () => {
      const stores = await freshStores(harness);
      const names = ['Hello!World', 'Hello World', 'Bang!%Percent', 'Bang%Percent'];
      for (const [index, name] of names.entries()) {
        await stores.tenants.insertTenant(buildTenant({ id: `tnt_${index}`, name, createdAt: fixtureEpochMs + index }));
      }
      const ids = async (search: string) => (await stores.tenants.listTenants({ limit: 50, search })).items.map((t) => t.id);
      expect(await ids('!')).toEqual(['tnt_0', 'tnt_2']);
      expect(await ids('o!w')).toEqual(['tnt_0']);
      expect(await ids('!%')).toEqual(['tnt_2']);
      expect(await ids('g%p')).toEqual(['tnt_3']);
      expect(await ids("'")).toEqual([]);
    });
  });

  describe('unique keys', () => {
    it('tells which key of a tenant is taken, naming only the caller\'s own values', async () => {
      const stores = await freshStores(harness);
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_a', slug: 'alpha' }));
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_b', slug: 'beta' }));
      await expect(stores.tenants.insertTenant(buildTenant({ id: 'tnt_a', slug: 'fresh' }))).rejects.toMatchObject({
        code: 'TENANT_ALREADY_EXISTS',
        message: 'A tenant with this id already exists',
        details: { tenantId: 'tnt_a' },
      });
      await expect(stores.tenants.insertTenant(buildTenant({ id: 'tnt_c', slug: 'alpha' }))).rejects.toMatchObject({
        code: 'TENANT_ALREADY_EXISTS',
        message: 'A tenant with this slug already exists',
        details: { slug: 'alpha' },
      });
      await expect(
        stores.tenants.updateTenant({ ...buildTenant({ id: 'tnt_b', slug: 'alpha' }), version: 2 }, 1),
      ).rejects.toMatchObject({ code: 'TENANT_ALREADY_EXISTS', details: { slug: 'alpha' }, cause: expect.any(Error) });
    });
  });

  describe('cursors and page sizes', () => {
    it('rejects malformed and foreign cursors with VALIDATION_FAILED', async () => {
      const stores = await freshStores(harness);
      for (let index = 0; index < 3; index += 1) {
        await stores.tenants.insertTenant(buildTenant({ id: `tnt_${index}` }));
        await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_0', userId: `usr_${index}` }));
      }
      const tenantCursor = (await stores.tenants.listTenants({ limit: 1 })).nextCursor ?? '';
      const membershipCursor = (await stores.memberships.listMembershipsByTenant('tnt_0', { limit: 1 })).nextCursor ?? '';
      const badTenantCursors = [
        '',
        'not base64!',
        encodeCursor({ t: 1 }),
        encodeCursor(['t', '1', 'tnt_0']),
        encodeCursor(['t', 1.5, 'tnt_0']),
        encodeCursor(['t', 1, 2]),
        encodeCursor(['t', 1, 'tnt_0', 'extra']),
        'A'.repeat(2000),
        membershipCursor,
      ];
      for (const cursor of badTenantCursors) {
        await expect(stores.tenants.listTenants({ limit: 1, cursor })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      for (const cursor of ['%%%', encodeCursor(['m', 5]), tenantCursor]) {
        await expect(stores.memberships.listMembershipsByTenant('tnt_0', { limit: 1, cursor })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
      }
      expect((await stores.tenants.listTenants({ limit: 1, cursor: tenantCursor })).items).toHaveLength(1);
    });
  });

  describe('transactions', () => {
    it('makes the writes of stores on a caller transaction part of it', async () => {
      const db = harness.db();
      await clearTenantContextTables(db);
      const rollback = new Error('roll back');
      await expect(
        db.transaction().execute(async (trx) => {
          const stores = kyselyTenantContextStores(trx);
          await stores.tenants.insertTenant(buildTenant({ id: 'tnt_tx' }));
          await stores.tenants.insertDomain(buildDomain({ tenantId: 'tnt_tx', hostname: 'tx.test' }));
          expect(await stores.usageCounters.increment('tnt_tx', 'users', 1, 1)).toEqual({ applied: true, value: 1 });
          expect(await stores.usageCounters.decrement('tnt_tx', 'users', 1)).toBe(0);
          expect(await stores.tenants.purgeTenant('tnt_tx', { status: 'active', version: 1 })).toBe(true);
          await stores.tenants.insertTenant(buildTenant({ id: 'tnt_tx2' }));
          throw rollback;
        }),
      ).rejects.toBe(rollback);
      const stores = kyselyTenantContextStores(db);
      expect(await stores.tenants.getTenantById('tnt_tx2')).toBeNull();
      expect(await stores.usageCounters.getAll('tnt_tx')).toEqual({});
    });
  });

  describe('usage counters', () => {
    it('refuses an unlimited increment past the largest safe integer, changing nothing', async () => {
      const { usageCounters } = await freshStores(harness);
      await usageCounters.set('tnt_a', 'bytes', Number.MAX_SAFE_INTEGER - 1);
      expect(await usageCounters.increment('tnt_a', 'bytes', 1, -1)).toEqual({ applied: true, value: Number.MAX_SAFE_INTEGER });
      await expect(usageCounters.increment('tnt_a', 'bytes', 1, -1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await usageCounters.get('tnt_a', 'bytes')).toBe(Number.MAX_SAFE_INTEGER);
      expect(await usageCounters.increment('tnt_a', 'bytes', 1, Number.MAX_SAFE_INTEGER)).toEqual({
        applied: false,
        value: Number.MAX_SAFE_INTEGER,
      });
    });

    it('does not create a counter for an increment refused outright', async () => {
      const { usageCounters } = await freshStores(harness);
      expect(await usageCounters.increment('tnt_a', 'seats', 3, 2)).toEqual({ applied: false, value: 0 });
      expect(await usageCounters.decrement('tnt_a', 'seats', 1)).toBe(0);
      expect(Object.values(await usageCounters.getAll('tnt_a')).every((value) => value === 0)).toBe(true);
    });

    it.skipIf(harness.connectAgain === undefined)('admits exactly 150 of 200 concurrent increments from two separate connection pools', async () => {
      const first = await freshStores(harness);
      const second = kyselyTenantContextStores((harness.connectAgain as () => Kysely<any>)());
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, index) => (index % 2 === 0 ? first : second).usageCounters.increment('tnt_a', 'seats', 1, 150)),
      );
      const admitted = results.filter((result) => result.applied).map((result) => result.value);
      expect(admitted.sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, index) => index + 1));
      expect(await first.usageCounters.get('tnt_a', 'seats')).toBe(150);
    });
  });

  describe('memberships', () => {
    it('reports an update that rewrites identical values as done', async () => {
      const stores = await freshStores(harness);
      const membership = buildMembership({ tenantId: 'tnt_a', userId: 'usr_1' });
      await stores.memberships.insertMembership(membership);
      expect(await stores.memberships.updateMembership(membership, { status: membership.status, updatedAt: membership.updatedAt })).toBe(true);
      const domain = buildDomain({ tenantId: 'tnt_a', hostname: 'same.test' });
      await stores.tenants.insertDomain(domain);
      expect(await stores.tenants.updateDomain(domain)).toBe(true);
      expect(await kyselyMembershipStore(harness.db()).updateMembership({ ...membership, userId: 'usr_2' }, { status: membership.status, updatedAt: membership.updatedAt })).toBe(false);
    });
  });
}
