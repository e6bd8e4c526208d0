import { PGlite } from '@electric-sql/pglite';
import { createSchemaPerTenant, type SchemaPerTenant } from '@tenantkit/tenant-context/kysely';
import { runLeakKit } from '@tenantkit/test-utils';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asSystem, leakRecordsMigrations, schemaPerTenantLeakTarget } from './schema-per-tenant-fixtures.js';

const tenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b'] as const;

describe('schema-per-tenant leak kit on PGlite', () => {
  let db: Kysely<any>;
  let schemas: SchemaPerTenant;

  beforeAll(async () => {
    db = new Kysely<any>({ dialect: new PGliteDialect(new PGlite()) });
    schemas = createSchemaPerTenant({ db, migrations: leakRecordsMigrations });
    // Provisioning also starts PGlite, which takes seconds: done here, not in the test.
    await asSystem(async () => {
      for (const tenant of tenants) await schemas.provision(tenant);
    });
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('leaks nothing over 10,000 random operations', async () => {
    const report = await runLeakKit(schemaPerTenantLeakTarget(schemas, tenants), { tenants });
    expect(report.operations).toBeGreaterThanOrEqual(10_000);
  }, 120_000);
});
