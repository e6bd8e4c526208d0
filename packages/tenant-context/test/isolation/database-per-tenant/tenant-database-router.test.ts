import { createManualClock, type ManualClock } from '@tenantkit/core';
import { Kysely, PostgresDialect } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TenantContextError } from '../../../src/errors.js';
import { sqliteDatabaseProvisioner, type SqliteDatabaseProvisioner } from '../../../src/isolation/database-per-tenant/sqlite-database-provisioner.js';
import {
  createTenantDatabaseRouter,
  type TenantDatabaseRouter,
  type TenantDatabaseRouterOptions,
} from '../../../src/isolation/database-per-tenant/tenant-database-router.js';
import { runAsSystem, runWithTenant } from '../../../src/scope/tenant-scope.js';
import {
  deferred,
  eventually,
  openSqliteTenantDatabase,
  rejectionOf,
  temporarySqliteDirectory,
  tenantMigrations,
  type LeakDatabase,
} from './database-router-fixtures.js';

const system = <R>(fn: () => R): R => runAsSystem({ reason: 'test', actor: 'vitest' }, fn);

/*
 * The pool bounds, leases, eviction and scope rules of the router, on real SQLite files (one
 * per tenant). The same router runs on PostgreSQL and MariaDB in their own files.
 */
describe('tenant database router (SQLite files)', () => {
  const directory = temporarySqliteDirectory();
  const provisioner: SqliteDatabaseProvisioner = sqliteDatabaseProvisioner({ directory: directory.path });
  const tenants = ['tnt_a', 'tnt_b', 'tnt_c', 'tnt_d'];
  const routers: TenantDatabaseRouter<LeakDatabase>[] = [];

  interface Harness {
    router: TenantDatabaseRouter<LeakDatabase>;
    clock: ManualClock;
    opened: string[];
    destroyed: string[];
  }

  function harness(overrides: Partial<TenantDatabaseRouterOptions<LeakDatabase>> = {}): Harness {
    const clock = createManualClock();
    const opened: string[] = [];
    const destroyed: string[] = [];
    const router = createTenantDatabaseRouter<LeakDatabase>({
      provisioner,
      migrations: { provider: tenantMigrations() },
      openDatabase: (tenantId, { databaseName }) => {
        opened.push(tenantId);
        const db = openSqliteTenantDatabase<LeakDatabase>(provisioner.filePathOf(databaseName));
        // Count destruction as the router performs it, through the instance it was given.
        const destroy = db.destroy.bind(db);
        return Object.assign(db, {
          destroy: async () => {
            destroyed.push(tenantId);
            await destroy();
          },
        });
      },
      connectionsPerPool: 1,
      maxPools: 2,
      maxConnections: 10,
      idleTimeoutMs: 60_000,
      acquireTimeoutMs: 40,
      evictionIntervalMs: false,
      clock,
      ...overrides,
    });
    routers.push(router);
    return { router, clock, opened, destroyed };
  }

  const insertAs = (router: TenantDatabaseRouter<LeakDatabase>, tenantId: string, id: string) =>
    runWithTenant(tenantId, () => router.db().insertInto('leak_records').values({ id, value: `${tenantId}:${id}` }).execute());
  const listAs = (router: TenantDatabaseRouter<LeakDatabase>, tenantId: string) =>
    runWithTenant(tenantId, () => router.db().selectFrom('leak_records').select(['id', 'value']).orderBy('id').execute());
  const touch = (router: TenantDatabaseRouter<LeakDatabase>, tenantId: string) =>
    runWithTenant(tenantId, () => router.db().selectFrom('leak_records').select('id').execute());

  beforeAll(async () => {
    const { router } = harness();
    for (const tenantId of tenants) await system(() => router.provision(tenantId));
  });

  afterEach(async () => {
    vi.useRealTimers();
    const { router } = harness();
    await system(async () => {
      for (const tenantId of tenants) await router.forTenant(tenantId).deleteFrom('leak_records').execute();
    });
    while (routers.length > 0) await routers.pop()!.close();
  });

  afterAll(() => {
    directory.remove();
  });

  describe('routing and scope', () => {
    it('sends each tenant to its own database file', async () => {
      const { router } = harness({ maxPools: 4 });
      await insertAs(router, 'tnt_a', 'r1');
      await insertAs(router, 'tnt_b', 'r1');
      await insertAs(router, 'tnt_b', 'r2');
      expect(await listAs(router, 'tnt_a')).toEqual([{ id: 'r1', value: 'tnt_a:r1' }]);
      expect(await listAs(router, 'tnt_b')).toEqual([
        { id: 'r1', value: 'tnt_b:r1' },
        { id: 'r2', value: 'tnt_b:r2' },
      ]);
      // Straight from the file: tenant a's database holds only tenant a's row.
      const direct = openSqliteTenantDatabase<LeakDatabase>(provisioner.filePathOf(router.databaseNameOf('tnt_a')));
      expect(await direct.selectFrom('leak_records').select('value').execute()).toEqual([{ value: 'tnt_a:r1' }]);
      await direct.destroy();
    });

    it('fails closed without a tenant scope, and in the system scope', async () => {
      const { router } = harness();
      expect(() => router.db()).toThrowError(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
      expect(() => system(() => router.db())).toThrowError(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
      expect((await rejectionOf(router.withDatabase(() => 1))).code).toBe('TENANT_SCOPE_REQUIRED');
    });

    it('gives forTenant() only to the system scope (or the same tenant)', async () => {
      const { router } = harness();
      expect(() => router.forTenant('tnt_a')).toThrowError(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
      expect(() => runWithTenant('tnt_b', () => router.forTenant('tnt_a'))).toThrowError(
        expect.objectContaining({ code: 'TENANT_SCOPE_CONFLICT' }),
      );
      expect(() => system(() => router.forTenant('../etc'))).toThrowError(expect.objectContaining({ code: 'TENANT_IDENTIFIER_INVALID' }));
      await insertAs(router, 'tnt_a', 'r1');
      const seen = await runWithTenant('tnt_a', () => router.forTenant('tnt_a').selectFrom('leak_records').select('id').execute());
      expect(seen).toEqual([{ id: 'r1' }]);
      expect(await system(() => router.forTenant('tnt_a').selectFrom('leak_records').select('id').execute())).toEqual([{ id: 'r1' }]);
    });

    it("refuses to run a tenant's handle in another tenant's scope or outside any scope", async () => {
      const { router } = harness();
      await insertAs(router, 'tnt_a', 'secret');
      const handleOfA = runWithTenant('tnt_a', () => router.db());
      const inB = await rejectionOf(runWithTenant('tnt_b', () => handleOfA.selectFrom('leak_records').selectAll().execute()));
      expect(inB.code).toBe('TENANT_ISOLATION_VIOLATION');
      const outside = await rejectionOf(handleOfA.selectFrom('leak_records').selectAll().execute());
      expect(outside.code).toBe('TENANT_SCOPE_REQUIRED');
    });

    it('keeps administration in the system scope', async () => {
      const { router } = harness();
      const calls: (() => Promise<unknown>)[] = [
        () => router.provision('tnt_a'),
        () => router.deprovision('tnt_a'),
        () => router.migrate('tnt_a'),
        () => router.closeTenant('tnt_a'),
        () => router.withTenantDatabase('tnt_a', () => 1),
      ];
      for (const call of calls) {
        expect((await rejectionOf(call())).code).toBe('TENANT_SCOPE_REQUIRED');
        expect((await rejectionOf(runWithTenant('tnt_a', call))).code).toBe('TENANT_SCOPE_REQUIRED');
      }
    });

    it('runs transactions and savepoints on one leased connection', async () => {
      const { router } = harness();
      await runWithTenant('tnt_a', async () => {
        await router
          .db()
          .transaction()
          .execute(async (trx) => {
            await trx.insertInto('leak_records').values({ id: 'kept', value: 'v' }).execute();
          });
        const failed = await rejectionOf(
          router
            .db()
            .transaction()
            .execute(async (trx) => {
              await trx.insertInto('leak_records').values({ id: 'rolled-back', value: 'v' }).execute();
              throw new Error('abort');
            }),
        );
        expect(failed.message).toBe('abort');
        const trx = await router.db().startTransaction().execute();
        await trx.insertInto('leak_records').values({ id: 'before-savepoint', value: 'v' }).execute();
        const afterSavepoint = await trx.savepoint('sp1').execute();
        await afterSavepoint.insertInto('leak_records').values({ id: 'after-savepoint', value: 'v' }).execute();
        await afterSavepoint.rollbackToSavepoint('sp1').execute();
        await afterSavepoint.commit().execute();
      });
      expect((await listAs(router, 'tnt_a')).map((row) => row.id)).toEqual(['before-savepoint', 'kept']);
      expect(router.stats().leases).toBe(0);
    });

    it('refuses streaming through handles and streams inside withDatabase()', async () => {
      const { router } = harness();
      await insertAs(router, 'tnt_a', 'r1');
      await runWithTenant('tnt_a', async () => {
        const streaming = async () => {
          for await (const row of router.db().selectFrom('leak_records').selectAll().stream()) void row;
        };
        expect((await rejectionOf(streaming())).code).toBe('CONFIGURATION_INVALID');
        const streamed = await router.withDatabase(async (db) => {
          const rows: unknown[] = [];
          for await (const row of db.selectFrom('leak_records').select('id').stream()) rows.push(row);
          return rows;
        });
        expect(streamed).toEqual([{ id: 'r1' }]);
      });
      expect(router.stats().leases).toBe(0);
    });
  });

  describe('bounded pools', () => {
    it('never holds more than maxPools pools, evicting the least recently used idle one', async () => {
      const { router, destroyed } = harness({ maxPools: 2 });
      await touch(router, 'tnt_a');
      await touch(router, 'tnt_b');
      await touch(router, 'tnt_a'); // b is now the least recently used
      expect(router.stats().openTenants).toEqual(['tnt_b', 'tnt_a']);
      await touch(router, 'tnt_c');
      expect(destroyed).toEqual(['tnt_b']);
      expect(router.stats().openTenants).toEqual(['tnt_a', 'tnt_c']);
      expect(router.stats().pools).toBe(2);
    });

    it('counts declared connections against maxConnections', async () => {
      const { router, destroyed } = harness({
        maxPools: 10,
        maxConnections: 4,
        connectionsPerPool: (tenantId) => (tenantId === 'tnt_a' ? 3 : 1),
      });
      const holdA = deferred();
      const holdB = deferred();
      const a = runWithTenant('tnt_a', () => router.withDatabase(() => holdA.promise));
      const b = runWithTenant('tnt_b', () => router.withDatabase(() => holdB.promise));
      await eventually(() => router.stats().leases === 2, 'both leases taken');
      expect(router.stats().connections).toBe(4);
      // A third pool would exceed 4 connections and nothing is idle: it waits, then gives up.
      const exhausted = await rejectionOf(touch(router, 'tnt_c'));
      expect(exhausted.code).toBe('TENANT_POOL_EXHAUSTED');
      expect(exhausted.details).toMatchObject({ maxConnections: 4, connections: 4 });
      holdB.resolve();
      await b;
      await touch(router, 'tnt_c'); // b's pool was idle: evicted to make room
      expect(destroyed).toEqual(['tnt_b']);
      expect(router.stats().connections).toBe(4);
      holdA.resolve();
      await a;
    });

    it('rejects a per-tenant pool size above maxConnections', async () => {
      const { router } = harness({ connectionsPerPool: () => 11 });
      expect((await rejectionOf(touch(router, 'tnt_a'))).code).toBe('CONFIGURATION_INVALID');
    });

    it('does not evict a pool in use, and waits for it to become idle', async () => {
      const { router, destroyed } = harness({ maxPools: 1, acquireTimeoutMs: 10_000 });
      const hold = deferred();
      let seenInsideLease: unknown;
      const a = runWithTenant('tnt_a', () =>
        router.withDatabase(async (db) => {
          await hold.promise;
          // The pool is still open: the waiting tenant b did not evict it.
          seenInsideLease = await db.selectFrom('leak_records').select('id').execute();
        }),
      );
      await eventually(() => router.stats().leases === 1, 'a leased');
      const b = touch(router, 'tnt_b');
      await eventually(() => router.stats().waiting === 1, 'b waiting');
      expect(await router.evictIdlePools()).toBe(0);
      expect(destroyed).toEqual([]);
      hold.resolve();
      await a;
      await b;
      expect(seenInsideLease).toEqual([]);
      expect(destroyed).toEqual(['tnt_a']);
      expect(router.stats().openTenants).toEqual(['tnt_b']);
    });

    it('keeps the pool through a whole transaction on a handle', async () => {
      const { router, destroyed } = harness({ maxPools: 1, acquireTimeoutMs: 10_000 });
      const hold = deferred();
      const a = runWithTenant('tnt_a', () =>
        router
          .db()
          .transaction()
          .execute(async (trx) => {
            await trx.insertInto('leak_records').values({ id: 'in-trx', value: 'v' }).execute();
            await hold.promise;
            await trx.insertInto('leak_records').values({ id: 'in-trx-2', value: 'v' }).execute();
          }),
      );
      await eventually(() => router.stats().leases === 1, 'transaction leased');
      const b = touch(router, 'tnt_b');
      await eventually(() => router.stats().waiting === 1, 'b waiting');
      expect(destroyed).toEqual([]);
      hold.resolve();
      await Promise.all([a, b]);
      expect((await listAs(router, 'tnt_a')).map((row) => row.id)).toEqual(['in-trx', 'in-trx-2']);
    });

    it('fails with TENANT_POOL_EXHAUSTED after acquireTimeoutMs when every pool is busy', async () => {
      const { router } = harness({ maxPools: 2, acquireTimeoutMs: 30 });
      const hold = deferred();
      const busy = ['tnt_a', 'tnt_b'].map((tenantId) => runWithTenant(tenantId, () => router.withDatabase(() => hold.promise)));
      await eventually(() => router.stats().leases === 2, 'both busy');
      const error = await rejectionOf(touch(router, 'tnt_c'));
      expect(error).toBeInstanceOf(TenantContextError);
      expect(error.code).toBe('TENANT_POOL_EXHAUSTED');
      expect(error.details).toMatchObject({ tenantId: 'tnt_c', maxPools: 2, pools: 2, acquireTimeoutMs: 30 });
      expect(router.stats().waiting).toBe(0);
      hold.resolve();
      await Promise.all(busy);
      await touch(router, 'tnt_c');
    });

    it('serves waiting requests in arrival order as pools free up', async () => {
      const { router } = harness({ maxPools: 1, acquireTimeoutMs: 10_000 });
      const hold = deferred();
      const order: string[] = [];
      const a = runWithTenant('tnt_a', () => router.withDatabase(() => hold.promise));
      await eventually(() => router.stats().leases === 1, 'a leased');
      const waiting = ['tnt_b', 'tnt_c', 'tnt_d'].map((tenantId) =>
        touch(router, tenantId).then(() => {
          order.push(tenantId);
        }),
      );
      await eventually(() => router.stats().waiting === 3, 'three waiting');
      hold.resolve();
      await Promise.all([a, ...waiting]);
      expect(order).toEqual(['tnt_b', 'tnt_c', 'tnt_d']);
    });

    it('opens one pool for concurrent first requests of a tenant', async () => {
      const gate = deferred();
      const opened: string[] = [];
      const slow = harness({
        openDatabase: async (tenantId, { databaseName }) => {
          opened.push(tenantId);
          await gate.promise;
          return openSqliteTenantDatabase<LeakDatabase>(provisioner.filePathOf(databaseName));
        },
      });
      const requests = Array.from({ length: 5 }, () => touch(slow.router, 'tnt_a'));
      await eventually(() => slow.router.stats().openingPools === 1, 'opening');
      gate.resolve();
      await Promise.all(requests);
      expect(opened).toEqual(['tnt_a']);
      expect(slow.router.stats()).toMatchObject({ pools: 1, openPools: 1, leases: 0 });
    });

    it('does not cache a failed open: the next request opens again', async () => {
      const { router } = harness();
      const late = 'tnt_late';
      // Not provisioned yet: the file is missing and fileMustExist makes the open fail.
      const first = await rejectionOf(touch(router, late));
      expect(first.code).toBe('STORE_UNAVAILABLE');
      expect(router.stats().pools).toBe(0);
      await system(() => router.provision(late));
      expect(await touch(router, late)).toEqual([]);
      await system(() => router.deprovision(late));
    });

    it('closes pools idle for idleTimeoutMs by the clock', async () => {
      const { router, clock, destroyed } = harness({ maxPools: 3, idleTimeoutMs: 1000 });
      await touch(router, 'tnt_a');
      clock.advance(400);
      await touch(router, 'tnt_b');
      clock.advance(599);
      expect(await router.evictIdlePools()).toBe(0);
      clock.advance(1);
      expect(await router.evictIdlePools()).toBe(1);
      expect(destroyed).toEqual(['tnt_a']);
      expect(router.stats().openTenants).toEqual(['tnt_b']);
      // A lease in use is not idle however long it lasts.
      const hold = deferred();
      const b = runWithTenant('tnt_b', () => router.withDatabase(() => hold.promise));
      await eventually(() => router.stats().leases === 1, 'b leased');
      clock.advance(10_000);
      expect(await router.evictIdlePools()).toBe(0);
      hold.resolve();
      await b;
      clock.advance(1000);
      expect(await router.evictIdlePools()).toBe(1);
      expect(router.stats().pools).toBe(0);
    });

    it('evicts idle pools on its (unref’d) timer', async () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const { router, clock, destroyed } = harness({ idleTimeoutMs: 1000, evictionIntervalMs: 500 });
      await touch(router, 'tnt_a');
      clock.advance(1000);
      await vi.advanceTimersByTimeAsync(500);
      await eventually(() => destroyed.length === 1, 'timer eviction');
      expect(router.stats().pools).toBe(0);
    });

    it('close() waits for leases, destroys every pool and refuses new work', async () => {
      const { router, destroyed } = harness({ maxPools: 3 });
      await touch(router, 'tnt_a');
      const hold = deferred();
      const b = runWithTenant('tnt_b', () => router.withDatabase(() => hold.promise));
      await eventually(() => router.stats().leases === 1, 'b leased');
      const closing = router.close();
      await eventually(() => destroyed.includes('tnt_a'), 'idle pool closed');
      expect(destroyed).not.toContain('tnt_b');
      hold.resolve();
      await Promise.all([b, closing]);
      expect(destroyed.sort()).toEqual(['tnt_a', 'tnt_b']);
      expect((await rejectionOf(touch(router, 'tnt_a'))).code).toBe('STORE_UNAVAILABLE');
    });
  });

  describe('provisioning (SQLite specifics; the engine suite covers the rest)', () => {
    it('deprovision closes the pool, then deletes the file and its WAL side files', async () => {
      const { router, destroyed } = harness();
      await system(() => router.provision('tnt_gone'));
      await insertAs(router, 'tnt_gone', 'r1'); // WAL mode: -wal and -shm exist now
      const file = provisioner.filePathOf(router.databaseNameOf('tnt_gone'));
      const { existsSync } = await import('node:fs');
      expect(existsSync(`${file}-wal`)).toBe(true);
      const result = await system(() => router.deprovision('tnt_gone'));
      expect(result).toEqual({ tenantId: 'tnt_gone', databaseName: 'tenant_tnt__gone', closedPool: true, dropped: true });
      expect(destroyed).toContain('tnt_gone');
      expect(router.stats().pools).toBe(0);
      for (const path of [file, `${file}-wal`, `${file}-shm`]) expect(existsSync(path)).toBe(false);
      expect(await system(() => router.deprovision('tnt_gone'))).toMatchObject({ closedPool: false, dropped: false });
      // fileMustExist: a late request cannot resurrect an empty database.
      expect((await rejectionOf(touch(router, 'tnt_gone'))).code).toBe('STORE_UNAVAILABLE');
      expect(existsSync(file)).toBe(false);
    });

    it('deprovision waits for leases in use and refuses new ones meanwhile', async () => {
      const { router } = harness({ acquireTimeoutMs: 10_000 });
      await system(() => router.provision('tnt_busy'));
      const hold = deferred();
      const busy = runWithTenant('tnt_busy', () => router.withDatabase(() => hold.promise));
      await eventually(() => router.stats().leases === 1, 'leased');
      let finished = false;
      const removing = system(() => router.deprovision('tnt_busy')).then((result) => {
        finished = true;
        return result;
      });
      // Until the removal has started, requests still share the open pool; then they are refused.
      let refused: { code?: unknown } | undefined;
      for (let attempt = 0; attempt < 100 && refused === undefined; attempt += 1) {
        refused = await touch(router, 'tnt_busy').then(
          () => undefined,
          (error: { code?: unknown }) => error,
        );
      }
      expect(refused?.code).toBe('TENANT_NOT_READY');
      expect(router.stats().leases).toBe(1);
      expect(finished).toBe(false);
      hold.resolve();
      await busy;
      expect(await removing).toMatchObject({ dropped: true, closedPool: true });
    });

    it('migrate() brings an existing database up to date (drift)', async () => {
      const older = harness();
      await system(() => older.router.provision('tnt_drift'));
      const newer = harness({
        migrations: {
          provider: tenantMigrations({
            '2026_02_01_notes_title': {
              async up(db: Kysely<any>) {
                await db.schema.alterTable('notes').addColumn('title', 'text').execute();
              },
            },
          }),
        },
      });
      expect(await system(() => newer.router.migrate('tnt_drift'))).toEqual({
        tenantId: 'tnt_drift',
        databaseName: 'tenant_tnt__drift',
        applied: ['2026_02_01_notes_title'],
      });
      expect((await system(() => newer.router.migrate('tnt_drift'))).applied).toEqual([]);
      const withoutMigrations = harness({ migrations: undefined });
      expect((await rejectionOf(system(() => withoutMigrations.router.migrate('tnt_drift')))).code).toBe('CONFIGURATION_INVALID');
      await system(() => newer.router.deprovision('tnt_drift'));
    });

    it('rolls a failed migrate() back whole on SQLite, keeping the database', async () => {
      const { router } = harness();
      await system(() => router.provision('tnt_rollback_mig'));
      const { failingMigration } = await import('./database-router-fixtures.js');
      const newer = harness({
        migrations: {
          provider: tenantMigrations({
            '2026_02_01_archive': {
              async up(db: Kysely<any>) {
                await db.schema.createTable('archive').addColumn('id', 'integer').execute();
              },
            },
            '2026_02_02_broken': failingMigration['2026_01_03_broken']!,
          }),
        },
      });
      const error = await rejectionOf(system(() => newer.router.migrate('tnt_rollback_mig')));
      expect(error.code).toBe('TENANT_MIGRATION_FAILED');
      expect(error.details).toMatchObject({ failedMigration: '2026_02_02_broken' });
      const tables = await system(() =>
        newer.router.withTenantDatabase('tnt_rollback_mig', (db) => db.introspection.getTables()),
      );
      expect(tables.map((table) => table.name).sort()).toEqual(['leak_records', 'notes']);
      expect(await provisioner.databaseExists(router.databaseNameOf('tnt_rollback_mig'))).toBe(true);
      await system(() => router.deprovision('tnt_rollback_mig'));
    });

    it('closeTenant() closes the pool until the next request', async () => {
      const { router, destroyed, opened } = harness();
      await touch(router, 'tnt_a');
      expect(await system(() => router.closeTenant('tnt_a'))).toBe(true);
      expect(destroyed).toEqual(['tnt_a']);
      expect(await system(() => router.closeTenant('tnt_a'))).toBe(false);
      await touch(router, 'tnt_a');
      expect(opened).toEqual(['tnt_a', 'tnt_a']);
    });

    it('needs a provisioner to provision', async () => {
      const { router } = harness({ provisioner: undefined, sqlDialect: 'sqlite' });
      expect((await rejectionOf(system(() => router.provision('tnt_a')))).code).toBe('CONFIGURATION_INVALID');
      expect((await rejectionOf(system(() => router.deprovision('tnt_a')))).code).toBe('CONFIGURATION_INVALID');
      expect(await touch(router, 'tnt_a')).toEqual([]);
    });
  });

  describe('configuration', () => {
    const valid = (): TenantDatabaseRouterOptions<LeakDatabase> => ({
      provisioner,
      openDatabase: (tenantId, { databaseName }) => openSqliteTenantDatabase(provisioner.filePathOf(databaseName)),
      connectionsPerPool: 1,
      maxPools: 2,
      maxConnections: 2,
      evictionIntervalMs: false,
    });

    it.each([
      ['no openDatabase', { openDatabase: undefined }],
      ['maxPools 0', { maxPools: 0 }],
      ['fractional maxConnections', { maxConnections: 1.5 }],
      ['connectionsPerPool above maxConnections', { connectionsPerPool: 3 }],
      ['negative acquireTimeoutMs', { acquireTimeoutMs: -1 }],
      ['idleTimeoutMs 0', { idleTimeoutMs: 0 }],
      ['an unknown option', { maxPool: 3 }],
      ['a non-provisioner', { provisioner: { createDatabase() {} } }],
      ['a dialect that is not the provisioner’s', { sqlDialect: 'postgres' }],
      ['no dialect at all', { provisioner: undefined }],
      ['a bad prefix', { databaseNamePrefix: 'Tenant-' }],
      ['migrations without a provider', { migrations: {} }],
    ])('rejects %s with CONFIGURATION_INVALID', (_, override) => {
      expect(() => createTenantDatabaseRouter({ ...valid(), ...(override as object) } as TenantDatabaseRouterOptions<LeakDatabase>)).toThrowError(
        expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
      );
    });

    it('rejects a pool that speaks another dialect than the handles compile', async () => {
      let destroyed = false;
      const { router } = harness({
        openDatabase: () => {
          const postgres = new Kysely<LeakDatabase>({ dialect: new PostgresDialect({ pool: async () => ({}) as never }) });
          return Object.assign(postgres, {
            destroy: async () => {
              destroyed = true;
            },
          });
        },
      });
      expect((await rejectionOf(touch(router, 'tnt_a'))).code).toBe('CONFIGURATION_INVALID');
      expect(destroyed).toBe(true);
      expect(router.stats().pools).toBe(0);
    });

    it('rejects openDatabase() answers that are not Kysely instances', async () => {
      const { router } = harness({ openDatabase: () => ({}) as never });
      expect((await rejectionOf(touch(router, 'tnt_a'))).code).toBe('CONFIGURATION_INVALID');
    });

    it('validates custom database names and catches two tenants sharing one', async () => {
      const bad = harness({ databaseName: () => 'Tenant-A' });
      expect((await rejectionOf(touch(bad.router, 'tnt_a'))).code).toBe('CONFIGURATION_INVALID');
      expect(() => bad.router.databaseNameOf('tnt_a')).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      const colliding = harness({ databaseName: () => 'tenant_tnt__a', maxPools: 3 });
      await touch(colliding.router, 'tnt_a');
      const error = await rejectionOf(touch(colliding.router, 'tnt_b'));
      expect(error.code).toBe('CONFIGURATION_INVALID');
      expect(error.message).toMatch(/injective/);
    });

    it('limits names to what the engine keeps', () => {
      const { router } = harness({ databaseNamePrefix: 'a_rather_long_prefix_for_names_' });
      // 31-character prefix + 64-character id over the SQLite limit is fine; PostgreSQL's 63 is not.
      expect(router.databaseNameOf('x'.repeat(64))).toHaveLength(31 + 64);
      const postgresLimited = harness({ provisioner: undefined, sqlDialect: 'sqlite', databaseNamePrefix: 'a_rather_long_prefix_for_names_' });
      expect(() => postgresLimited.router.databaseNameOf('x'.repeat(33))).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      expect(postgresLimited.router.databaseNameOf('x'.repeat(32))).toHaveLength(63);
    });
  });
});
