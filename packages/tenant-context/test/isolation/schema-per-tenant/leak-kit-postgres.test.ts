import { createSchemaPerTenant, type SchemaPerTenant } from '@tenantkit/tenant-context/kysely';
import { createTemporaryPostgresDatabase, describeWithService, runLeakKit, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { asSystem, leakRecordsMigrations, schemaPerTenantLeakTarget } from './schema-per-tenant-fixtures.js';

const tenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b'] as const;

await describeWithService('postgres', 'schema-per-tenant leak kit on PostgreSQL', () => {
  let database: TemporaryDatabase;
  let db: Kysely<any>;
  let schemas: SchemaPerTenant;

  beforeAll(async () => {
    database = await createTemporaryPostgresDatabase();
    // Fewer connections than concurrent operations: tenants share pooled connections all the time.
    db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }) });
    schemas = createSchemaPerTenant({ db, migrations: leakRecordsMigrations });
    await asSystem(async () => {
      for (const tenant of tenants) await schemas.provision(tenant);
    });
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('leaks nothing over 10,000 random operations through shared pooled connections', async () => {
    const report = await runLeakKit(schemaPerTenantLeakTarget(schemas, tenants), { tenants });
    expect(report.operations).toBeGreaterThanOrEqual(10_000);
    // And the pool's connections still have the server's search_path.
    const { rows } = await sql<{ search_path: string }>`show search_path`.execute(db);
    expect(rows[0]?.search_path).toBe('"$user", public');
  }, 120_000);
});
