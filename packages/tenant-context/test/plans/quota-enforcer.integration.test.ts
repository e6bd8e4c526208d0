import { createId, createManualClock } from '@tenantkit/core';
import { createTemporaryPostgresDatabase, describeWithService, testServices, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { kyselyUsageCounterStore, migrateTenantContextSchema } from '../../src/adapters/kysely.js';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { redisUsageCounterStore } from '../../src/adapters/redis.js';
import { createTenantEventBus, type TenantEventMap } from '../../src/events.js';
import { definePlans } from '../../src/plans/plan-catalog.js';
import { createQuotaEnforcer, type QuotaEnforcer, type QuotaUsage } from '../../src/plans/quota-enforcer.js';
import { createTenantRegistry, type TenantRegistry } from '../../src/registry/tenant-registry.js';
import type { UsageCounterStore } from '../../src/store.js';

/*
 * The claim under test: admission goes through the store's atomic increment, so against a real
 * shared store, 200 concurrent consumes (over several connections, as several processes would
 * make them) admit exactly the limit, and every threshold crossing is announced exactly once.
 */

const SEAT_LIMIT = 150;
const CONCURRENT_CONSUMES = 200;

const plans = definePlans({
  team: { limits: { seats: SEAT_LIMIT, projects: 10 } },
});

type ThresholdEvent = TenantEventMap['quota.threshold_crossed'];

interface Fixture {
  registry: TenantRegistry;
  tenantId: string;
}

async function createFixture(): Promise<Fixture> {
  const registry = createTenantRegistry({
    store: memoryTenantStore(),
    events: createTenantEventBus(),
    plans: plans.planKeys,
    clock: createManualClock(),
  });
  // Random ids: other test files may use the same server at the same time.
  const tenantId = createId('tnt');
  await registry.createTenant({ id: tenantId, slug: 'acme', name: 'Acme', plan: 'team' });
  return { registry, tenantId };
}

/**
 * Fires the consumes from several enforcers, each over its own store instance (its own
 * connection or pool), and checks admission, the final counter and the threshold events.
 */
async function expectExactAdmission(storesByWorker: UsageCounterStore[], reader: UsageCounterStore): Promise<void> {
  const { registry, tenantId } = await createFixture();
  const crossings: ThresholdEvent[] = [];
  const events = createTenantEventBus();
  events.on('quota.threshold_crossed', (event) => void crossings.push(event));
  const workers: QuotaEnforcer[] = storesByWorker.map((counters) =>
    createQuotaEnforcer({ plans, counters, registry, events, thresholds: [0.5, 0.8, 1] }),
  );

  const outcomes = await Promise.allSettled(
    Array.from({ length: CONCURRENT_CONSUMES }, (_, index) =>
      workers[index % workers.length]!.consume('seats', 1, { tenantId }),
    ),
  );

  const admitted = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const refused = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
  expect(admitted).toHaveLength(SEAT_LIMIT);
  expect(refused).toHaveLength(CONCURRENT_CONSUMES - SEAT_LIMIT);
  for (const reason of refused) {
    expect(reason).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { resource: 'seats', limit: SEAT_LIMIT, requested: 1 } });
  }
  expect(await reader.get(tenantId, 'seats')).toBe(SEAT_LIMIT);
  // Each admitted increment produced its own value: 1..150, none shared, none skipped.
  expect(admitted.map((usage: QuotaUsage) => usage.used).sort((a, b) => a - b)).toEqual(
    Array.from({ length: SEAT_LIMIT }, (_, index) => index + 1),
  );
  expect(crossings.map((event) => [event.threshold, event.used]).sort((a, b) => a[0]! - b[0]!)).toEqual([
    [0.5, 75],
    [0.8, 120],
    [1, 150],
  ]);
  expect(crossings.every((event) => event.tenantId === tenantId && event.limit === SEAT_LIMIT)).toBe(true);

  // A refused consume leaves the shared counter as it was, and the report reads the same value.
  const quotas = workers[0]!;
  await expect(quotas.consume('seats', 1, { tenantId })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
  await expect(quotas.release('seats', 5, { tenantId })).resolves.toMatchObject({ used: 145, remaining: 5 });
  await expect(quotas.consume('seats', 6, { tenantId })).rejects.toMatchObject({
    code: 'QUOTA_EXCEEDED',
    details: { used: 145, limit: SEAT_LIMIT, requested: 6 },
  });
  expect(await reader.get(tenantId, 'seats')).toBe(145);
  await expect(quotas.usageReport({ tenantId })).resolves.toEqual([
    { resource: 'projects', used: 0, limit: 10, unlimited: false, remaining: 10, percent: 0 },
    { resource: 'seats', used: 145, limit: SEAT_LIMIT, unlimited: false, remaining: 5, percent: 96.67 },
  ]);
  await reader.deleteAll(tenantId);
}

await describeWithService('redis', 'quota enforcer on the Redis usage-counter store', () => {
  const clients: Redis[] = [];
  const keyPrefix = `tk-test-${createId()}:`;

  beforeAll(() => {
    // Four connections stand in for four application processes.
    for (let i = 0; i < 4; i += 1) clients.push(new Redis(testServices.redis.url, { lazyConnect: false }));
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.quit()));
  });

  it(`admits exactly the limit under ${CONCURRENT_CONSUMES} concurrent consumes`, async () => {
    const stores = clients.map((client) => redisUsageCounterStore(client, { keyPrefix }));
    await expectExactAdmission(stores, stores[0]!);
  });
});

await describeWithService('postgres', 'quota enforcer on the Kysely usage-counter store (Postgres)', () => {
  let database: TemporaryDatabase;
  const instances: Array<Kysely<unknown>> = [];

  beforeAll(async () => {
    database = await createTemporaryPostgresDatabase();
    // Two pools stand in for two application processes; each has many connections.
    for (let i = 0; i < 2; i += 1) {
      instances.push(
        new Kysely<unknown>({
          dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 10 }) }),
        }),
      );
    }
    await migrateTenantContextSchema(instances[0]!);
  });

  afterAll(async () => {
    await Promise.all(instances.map((db) => db.destroy()));
    await database?.drop();
  });

  it(`admits exactly the limit under ${CONCURRENT_CONSUMES} concurrent consumes`, async () => {
    const stores = instances.map((db) => kyselyUsageCounterStore(db));
    await expectExactAdmission(stores, stores[0]!);
  });
});
