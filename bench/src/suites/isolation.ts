import { randomBytes } from 'node:crypto';
import { requireTenantId, runWithTenant } from '@tenantkit/tenant-context';
import {
  createRowLevelSecurityDatabase,
  createTenantIsolationPlugin,
  enableTenantRowLevelSecurity,
} from '@tenantkit/tenant-context/kysely';
import { Kysely, PostgresDialect, sql, type KyselyPlugin } from 'kysely';
import pg from 'pg';
import { benchResult, type BenchResult, type BenchSuite } from '../bench-result.js';
import { compareOps } from '../measure-ops.js';

const quick = process.env.BENCH_QUICK === '1';
const dbOptions = quick ? { rounds: 2, roundMs: 200, batch: 50 } : { rounds: 7, roundMs: 500, batch: 100 };
const compileOptions = quick ? { rounds: 2, roundMs: 100 } : { rounds: 7, roundMs: 300 };
const adminUrl = process.env.TENANTKIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const tenants = Array.from({ length: 10 }, (_, index) => `tnt_bench_${index}`);
const rowsPerTenant = 1_000;

interface ItemsTable {
  tenant_id: string;
  id: number;
  name: string;
  owner: string;
}
interface BenchDatabase {
  bench_items: ItemsTable;
  bench_items_rls: ItemsTable;
  bench_owners: { tenant_id: string; id: string; email: string };
}

function urlFor(database: string, user?: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  if (user !== undefined) url.username = user;
  return url.toString();
}

function kyselyOn(url: string, plugins: KyselyPlugin[] = []): Kysely<BenchDatabase> {
  // One connection, sequential queries: every case measures the same round trip plus its own work.
  return new Kysely<BenchDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }), plugins });
}

/** A database of its own with the same rows in a plain table and in an RLS-forced copy. */
async function createBenchDatabase(): Promise<{ database: string; appRole: string; drop(): Promise<void> }> {
  const suffix = randomBytes(4).toString('hex');
  const database = `tk_bench_isolation_${suffix}`;
  const appRole = `tk_bench_app_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${database}`);
  await admin.query(`create role ${appRole} login nosuperuser nobypassrls`);
  await admin.end();

  const owner = kyselyOn(urlFor(database));
  for (const table of ['bench_items', 'bench_items_rls'] as const) {
    await owner.schema
      .createTable(table)
      .addColumn('tenant_id', 'text', (column) => column.notNull())
      .addColumn('id', 'integer', (column) => column.notNull())
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('owner', 'text', (column) => column.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['tenant_id', 'id'])
      .execute();
  }
  await owner.schema
    .createTable('bench_owners')
    .addColumn('tenant_id', 'text', (column) => column.notNull())
    .addColumn('id', 'text', (column) => column.notNull())
    .addColumn('email', 'text', (column) => column.notNull())
    .addPrimaryKeyConstraint('bench_owners_pk', ['tenant_id', 'id'])
    .execute();
  for (const tenant of tenants) {
    const rows = Array.from({ length: rowsPerTenant }, (_, id) => ({ tenant_id: tenant, id, name: `item ${id}`, owner: `u${id % 20}` }));
    await owner.insertInto('bench_items').values(rows).execute();
    await owner.insertInto('bench_items_rls').values(rows).execute();
    await owner
      .insertInto('bench_owners')
      .values(Array.from({ length: 20 }, (_, id) => ({ tenant_id: tenant, id: `u${id}`, email: `u${id}@${tenant}.test` })))
      .execute();
  }
  await enableTenantRowLevelSecurity(owner, { table: 'bench_items_rls', tenantColumn: 'tenant_id' });
  await sql`grant select, insert, update, delete on bench_items_rls to ${sql.id(appRole)}`.execute(owner);
  await sql`analyze`.execute(owner);
  await owner.destroy();

  return {
    database,
    appRole,
    async drop() {
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${database} with (force)`);
      await cleanup.query(`drop role if exists ${appRole}`);
      await cleanup.end();
    },
  };
}

/**
 * `pnpm bench --json isolation`: what the shared-schema plugin and Postgres RLS cost next to raw
 * Kysely with a hand-written tenant WHERE, on one PostgreSQL connection in the same run; plus the
 * plugin's compile-time overhead alone.
 */
export const isolationSuite: BenchSuite = {
  name: 'isolation',
  description: 'shared-schema plugin and Postgres RLS vs raw Kysely with a hand-written tenant WHERE (PostgreSQL)',
  async run() {
    const results: BenchResult[] = [];
    const bench = await createBenchDatabase();
    const raw = kyselyOn(urlFor(bench.database));
    const plugin = createTenantIsolationPlugin({ tables: { bench_items: 'tenant_id', bench_owners: 'tenant_id' } });
    const scoped = kyselyOn(urlFor(bench.database), [plugin]);
    const appDb = kyselyOn(urlFor(bench.database, bench.appRole));
    const rls = createRowLevelSecurityDatabase(appDb);
    let counter = 0;
    const nextTenant = () => tenants[counter++ % tenants.length]!;
    const nextId = () => counter % rowsPerTenant;

    try {
      const cases: Array<[string, () => Promise<unknown>, string, () => Promise<unknown>]> = [
        [
          'point select by id: plugin adds the tenant predicate',
          () => runWithTenant(nextTenant(), () => scoped.selectFrom('bench_items').selectAll().where('id', '=', nextId()).executeTakeFirst()),
          'raw kysely, hand-written tenant WHERE',
          () =>
            runWithTenant(nextTenant(), () =>
              raw.selectFrom('bench_items').selectAll().where('tenant_id', '=', requireTenantId()).where('id', '=', nextId()).executeTakeFirst(),
            ),
        ],
        [
          'join + filter (50 rows): plugin scopes both tables',
          () =>
            runWithTenant(nextTenant(), () =>
              scoped
                .selectFrom('bench_items as i')
                .innerJoin('bench_owners as o', 'o.id', 'i.owner')
                .select(['i.id', 'i.name', 'o.email'])
                .where('i.owner', '=', 'u3')
                .execute(),
            ),
          'raw kysely, hand-written tenant WHERE and ON',
          () =>
            runWithTenant(nextTenant(), () => {
              const tenantId = requireTenantId();
              return raw
                .selectFrom('bench_items as i')
                .innerJoin('bench_owners as o', (join) => join.onRef('o.id', '=', 'i.owner').on('o.tenant_id', '=', tenantId))
                .select(['i.id', 'i.name', 'o.email'])
                .where('i.tenant_id', '=', tenantId)
                .where('i.owner', '=', 'u3')
                .execute();
            }),
        ],
        [
          'point select by id: RLS (own transaction + set_config per query)',
          () => runWithTenant(nextTenant(), () => rls.db.selectFrom('bench_items_rls').selectAll().where('id', '=', nextId()).executeTakeFirst()),
          'raw kysely, hand-written tenant WHERE',
          () =>
            runWithTenant(nextTenant(), () =>
              raw.selectFrom('bench_items').selectAll().where('tenant_id', '=', requireTenantId()).where('id', '=', nextId()).executeTakeFirst(),
            ),
        ],
        [
          'unit of work of 3 selects: RLS (one transaction, set_config once)',
          () =>
            runWithTenant(nextTenant(), () =>
              rls.unitOfWork(async (trx) => {
                for (let index = 0; index < 3; index += 1) {
                  await trx.selectFrom('bench_items_rls').selectAll().where('id', '=', nextId()).executeTakeFirst();
                }
              }),
            ),
          'raw kysely, 3 selects with hand-written tenant WHERE (no transaction)',
          () =>
            runWithTenant(nextTenant(), async () => {
              for (let index = 0; index < 3; index += 1) {
                await raw.selectFrom('bench_items').selectAll().where('tenant_id', '=', requireTenantId()).where('id', '=', nextId()).executeTakeFirst();
              }
            }),
        ],
      ];
      for (const [caseName, ours, peerName, peer] of cases) {
        const measured = await compareOps(ours, peer, dbOptions);
        results.push(benchResult({ suite: 'isolation', case: caseName, unit: 'ops/s', value: measured.ours, peer: peerName, peerValue: measured.peer }));
      }

      // Compile only (no database): the plugin's transform is the whole difference.
      const compileOps = await compareOps(
        () =>
          runWithTenant('tnt_bench_1', () =>
            scoped.selectFrom('bench_items as i').innerJoin('bench_owners as o', 'o.id', 'i.owner').select(['i.id', 'o.email']).where('i.id', '=', 5).compile(),
          ),
        () =>
          runWithTenant('tnt_bench_1', () => {
            const tenantId = requireTenantId();
            return raw
              .selectFrom('bench_items as i')
              .innerJoin('bench_owners as o', (join) => join.onRef('o.id', '=', 'i.owner').on('o.tenant_id', '=', tenantId))
              .select(['i.id', 'o.email'])
              .where('i.tenant_id', '=', tenantId)
              .where('i.id', '=', 5)
              .compile();
          }),
        compileOptions,
      );
      results.push(
        benchResult({
          suite: 'isolation',
          case: 'compile a join query: plugin transform',
          unit: 'ops/s',
          value: compileOps.ours,
          peer: 'compile the same query with a hand-written tenant WHERE and ON',
          peerValue: compileOps.peer,
        }),
      );
    } finally {
      await raw.destroy();
      await scoped.destroy();
      await appDb.destroy();
      await bench.drop();
    }
    return results;
  },
};
