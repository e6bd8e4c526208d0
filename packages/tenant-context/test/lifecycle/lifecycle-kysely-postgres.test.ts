import { createManualClock } from '@tenantkit/core';
import { kyselyTenantContextStores, migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
import { createTemporaryPostgresDatabase, describeWithService, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TenantContextError } from '../../src/errors.js';
import { createTenantEventBus } from '../../src/events.js';
import type { LifecycleRun } from '../../src/lifecycle/lifecycle-run.js';
import { createTenantLifecycle } from '../../src/lifecycle/tenant-lifecycle.js';
import { createMembershipService } from '../../src/memberships/membership-service.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import type { TenantContextStores } from '../../src/store.js';

const START = Date.UTC(2026, 0, 1);
const LEASE_MS = 60_000;

await describeWithService('postgres', 'tenant lifecycle on the Kysely stores (PostgreSQL)', () => {
  let database: TemporaryDatabase | undefined;
  let db: Kysely<any>;
  let stores: TenantContextStores;

  beforeAll(async () => {
    database = await createTemporaryPostgresDatabase();
    db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 10 }) }) });
    await migrateTenantContextSchema(db);
    stores = kyselyTenantContextStores(db);
  });

  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  function worker(workerId: string, clock = createManualClock(START), options: { failRunWrites?: (run: LifecycleRun) => boolean } = {}) {
    const events = createTenantEventBus({
      onListenerError: (error) => {
        throw error;
      },
    });
    const registry = createTenantRegistry({ store: stores.tenants, events, clock });
    const memberships = createMembershipService({ store: stores.memberships, registry, clock });
    const runs = {
      ...stores.lifecycleRuns,
      async updateRun(run: LifecycleRun, expectedVersion: number) {
        if (options.failRunWrites?.(run)) throw new TenantContextError('STORE_UNAVAILABLE', 'injected updateRun failure');
        return stores.lifecycleRuns.updateRun(run, expectedVersion);
      },
    };
    const lifecycle = createTenantLifecycle({
      registry,
      memberships,
      runs,
      usageCounters: stores.usageCounters,
      clock,
      workerId,
      leaseMs: LEASE_MS,
      retryDelayMs: 0,
    });
    let resumed = 0;
    events.on('lifecycle.resumed', () => {
      resumed += 1;
    });
    return { registry, memberships, lifecycle, clock, resumedEvents: () => resumed };
  }

  it('onboards a tenant and stores the completed run', async () => {
    const { lifecycle } = worker('pg-a');
    const seeded: string[] = [];
    lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run: ({ tenantId }) => void seeded.push(tenantId) });
    const { run, tenant } = await lifecycle.startOnboarding({ slug: 'pg-happy', name: 'Happy', adminUserId: 'usr_a' });
    expect(tenant.status).toBe('active');
    expect(seeded).toEqual([tenant.id]);
    expect(await stores.lifecycleRuns.getRun(run.id)).toEqual(run);
    expect(await stores.memberships.getMembership(tenant.id, 'usr_a')).toMatchObject({ status: 'active' });
  });

  it('rolls a failed onboarding back, leaving no tenant, membership or counter in the database', async () => {
    const { lifecycle, memberships } = worker('pg-a');
    const compensated: string[] = [];
    lifecycle.useOnboardingStep('provision-storage', {
      name: 'schema',
      run: () => undefined,
      compensate: () => void compensated.push('provision-storage:schema'),
    });
    lifecycle.useOnboardingStep('seed-defaults', {
      name: 'roles',
      run: async ({ tenantId }) => {
        if ((await memberships.getMembership(tenantId, 'usr_seeded')) === null) await memberships.addMember(tenantId, 'usr_seeded');
        await stores.usageCounters.set(tenantId, 'roles', 2);
        throw new Error('role template broken');
      },
    });
    let failure: unknown;
    await lifecycle.startOnboarding({ slug: 'pg-broken', name: 'Broken', adminUserId: 'usr_b' }).catch((error: unknown) => {
      failure = error;
    });
    expect(failure).toMatchObject({ code: 'LIFECYCLE_STEP_FAILED', details: expect.objectContaining({ state: 'rolled_back' }) });
    const { runId, tenantId } = (failure as TenantContextError).details as { runId: string; tenantId: string };
    expect(await stores.lifecycleRuns.getRun(runId)).toMatchObject({
      state: 'rolled_back',
      completedSteps: ['create-record', 'provision-storage:schema'],
      compensatedSteps: ['provision-storage:schema', 'create-record'],
      error: { step: 'seed-defaults:roles', message: 'role template broken' },
      leaseOwner: null,
    });
    expect(compensated).toEqual(['provision-storage:schema']);
    expect(await stores.tenants.getTenantById(tenantId)).toBeNull();
    expect(await stores.tenants.getTenantBySlug('pg-broken')).toBeNull();
    expect((await stores.memberships.listMembershipsByTenant(tenantId, { limit: 10 })).items).toEqual([]);
    expect(await stores.usageCounters.getAll(tenantId)).toEqual({});
  });

  it('resumes a crashed run once, however many workers race for it', async () => {
    const clock = createManualClock(START);
    const calls: string[] = [];
    const register = (lifecycle: ReturnType<typeof worker>['lifecycle']) =>
      lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run: () => void calls.push('roles') });
    const crashed = worker('pg-crash', clock, { failRunWrites: (run) => run.completedSteps.includes('seed-defaults:roles') });
    register(crashed.lifecycle);
    await expect(crashed.lifecycle.startOnboarding({ slug: 'pg-crash', name: 'Crash', adminUserId: 'usr_c' })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    const [run] = await stores.lifecycleRuns.listRuns({ state: ['running'], limit: 10 });
    expect(run).toMatchObject({ leaseOwner: 'pg-crash', completedSteps: ['create-record'] });

    clock.advance(LEASE_MS);
    const racers = Array.from({ length: 4 }, (_, index) => worker(`pg-racer-${index}`, clock));
    for (const racer of racers) register(racer.lifecycle);
    const outcomes = await Promise.allSettled(racers.map((racer) => racer.lifecycle.resumeRun(run!.id)));
    // Exactly one racer takes the run over. The others lose the compare-and-set, or (reading it
    // after the winner finished) get the completed run back without driving it.
    expect(racers.reduce((sum, racer) => sum + racer.resumedEvents(), 0)).toBe(1);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') expect(outcome.reason).toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
      else expect(outcome.value.run.state).toBe('completed');
    }
    expect(outcomes.some((outcome) => outcome.status === 'fulfilled')).toBe(true);
    expect(calls).toEqual(['roles', 'roles']);
    expect((await stores.tenants.getTenantById(run!.tenantId))?.status).toBe('active');
  });

  it('offboards a tenant to a soft delete', async () => {
    const { lifecycle, memberships } = worker('pg-a');
    const { tenant } = await lifecycle.startOnboarding({ slug: 'pg-leaving', name: 'Leaving', adminUserId: 'usr_d' });
    await memberships.addMember(tenant.id, 'usr_e', { status: 'active' });
    await stores.usageCounters.set(tenant.id, 'projects', 3);
    lifecycle.useOffboardingStep('export', { name: 'archive', run: () => ({ location: 's3://exports/pg-leaving.zip' }) });
    const { run, tenant: deleted } = await lifecycle.startOffboarding(tenant.id, { reason: 'contract ended' });
    expect(run.state).toBe('completed');
    expect(deleted.status).toBe('deleted');
    expect(await stores.lifecycleRuns.getRun(run.id)).toMatchObject({ state: 'completed', completedSteps: run.completedSteps });
    expect((await stores.memberships.listMembershipsByTenant(tenant.id, { limit: 10 })).items).toEqual([]);
    expect(await stores.usageCounters.getAll(tenant.id)).toEqual({});
  });

  it('keeps export artifacts when the run is read back, by an operator or by a worker resuming it', async () => {
    const clock = createManualClock(START + 10 * LEASE_MS);
    const seeding = worker('pg-seed', clock);
    const { tenant } = await seeding.lifecycle.startOnboarding({ slug: 'pg-exported', name: 'Exported', adminUserId: 'usr_f' });
    const register = (lifecycle: ReturnType<typeof worker>['lifecycle']) => {
      lifecycle.useOffboardingStep('export', {
        name: 'archive',
        run: ({ tenantId }) => ({ location: `s3://exports/${tenantId}.zip`, details: { bytes: 2048, parts: ['a', 'b'] } }),
      });
      lifecycle.useOffboardingStep('delete-data', { name: 'rows', run: () => undefined });
    };
    // Worker A dies right after the export, before recording the deletion.
    const crashed = worker('pg-export-a', clock, { failRunWrites: (run) => run.completedSteps.includes('delete-data:rows') });
    register(crashed.lifecycle);
    await expect(crashed.lifecycle.startOffboarding(tenant.id, { reason: 'contract ended' })).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    const exported = { step: 'export:archive', location: `s3://exports/${tenant.id}.zip`, details: { bytes: 2048, parts: ['a', 'b'] }, recordedAt: clock.now() };
    const [stuck] = await stores.lifecycleRuns.listRuns({ kind: 'offboarding', tenantId: tenant.id, limit: 10 });
    expect(stuck).toMatchObject({ state: 'running', leaseOwner: 'pg-export-a', artifacts: [exported] });

    // Worker B's sweep skips the run while A's lease lasts, then takes it over and keeps the export.
    const resuming = worker('pg-export-b', clock);
    register(resuming.lifecycle);
    expect(await resuming.lifecycle.resumeIncompleteRuns({ kind: 'offboarding' })).toEqual({ resumed: [], locked: [], errors: [] });
    clock.advance(LEASE_MS);
    const sweep = await resuming.lifecycle.resumeIncompleteRuns({ kind: 'offboarding' });
    expect(sweep.errors).toEqual([]);
    expect(sweep.resumed).toHaveLength(1);
    const [finished] = sweep.resumed;
    expect(finished).toMatchObject({ id: stuck?.id, state: 'completed', artifacts: [exported] });
    expect(await stores.lifecycleRuns.getRun(stuck?.id ?? '')).toEqual(finished);
    expect((await stores.tenants.getTenantById(tenant.id))?.status).toBe('deleted');
  });
});
