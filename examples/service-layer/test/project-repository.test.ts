import { PGlite } from '@electric-sql/pglite';
import { runAsSystem, runWithTenant } from '@tenantkit/tenant-context';
import { createTenantIsolationPlugin, withoutTenantIsolation } from '@tenantkit/tenant-context/kysely';
import { createTenantCache } from '@tenantkit/tenant-context/redis';
import { unusedLocalPort } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectRepository, migrateProjects, type Project } from '../src/projects.js';
import { exampleTenantTables, type ExampleDatabase } from '../src/schema.js';


describe('project repository with an unreachable list cache', () => {
  let db: Kysely<ExampleDatabase>;
  let redis: Redis;

  beforeAll(async () => {
    db = new Kysely<ExampleDatabase>({ dialect: new PGliteDialect(new PGlite()) });
    await migrateProjects(db);
    // A real client whose commands fail at once: not connected, no offline queue, no retries.
    redis = new Redis({ host: '127.0.0.1', port: await unusedLocalPort(), lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
  });
  afterAll(async () => {
    redis.disconnect();
    await db.destroy();
  });

  it('still reports a write that happened when invalidating the cache fails, and refuses cached reads with STORE_UNAVAILABLE', async () => {
    const appDb = db.withPlugin(createTenantIsolationPlugin({ tables: exampleTenantTables }));
    const listCache = createTenantCache<Project[]>({ redis, prefix: 'tk-repo-test', namespace: 'projects', defaultTtlMs: 30_000 });
    const projects = createProjectRepository(appDb, { listCache });

    const created = await runWithTenant('tnt_a', () => projects.create('Roadmap', 'usr_a', 1_000));
    expect(await runWithTenant('tnt_a', () => projects.rename(created.id, 'Roadmap v2'))).toMatchObject({ id: created.id, name: 'Roadmap v2' });
    const stored = await runAsSystem({ reason: 'test: read rows past the plugin' }, () =>
      withoutTenantIsolation(appDb).selectFrom('example_projects').select(['tenant_id', 'id', 'name']).execute(),
    );
    expect(stored).toEqual([{ tenant_id: 'tnt_a', id: created.id, name: 'Roadmap v2' }]);
    await expect(runWithTenant('tnt_a', () => projects.list())).rejects.toMatchObject({ name: 'TenantContextError', code: 'STORE_UNAVAILABLE' });
    // Uncached reads do not need the cache.
    expect(await runWithTenant('tnt_a', () => projects.count())).toBe(1);
    expect(await runWithTenant('tnt_a', () => projects.remove(created.id))).toBe(true);
    expect(await runWithTenant('tnt_a', () => projects.count())).toBe(0);
  });
});
