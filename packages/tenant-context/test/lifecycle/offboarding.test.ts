import { createManualClock, type ManualClock } from '@tenantkit/core';
import { describe, expect, it, vi } from 'vitest';
import { memoryTenantContextStores } from '../../src/adapters/memory.js';
import { TenantContextError } from '../../src/errors.js';
import { createTenantEventBus, type TenantEventMap, type TenantEventName } from '../../src/events.js';
import type { LifecycleRun } from '../../src/lifecycle/lifecycle-run.js';
import type { LifecycleStepContext, OffboardingRunInput } from '../../src/lifecycle/lifecycle-steps.js';
import { createTenantLifecycle, type TenantLifecycleOptions } from '../../src/lifecycle/tenant-lifecycle.js';
import { createMembershipService } from '../../src/memberships/membership-service.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import { currentTenantId } from '../../src/scope/tenant-scope.js';
import type { TenantContextStores } from '../../src/store.js';
import type { Tenant } from '../../src/tenant.js';

const START = Date.UTC(2026, 0, 1);
const LEASE_MS = 60_000;
const ADMIN = 'usr_admin';

type RecordedEvent = { [Name in TenantEventName]: { name: Name; payload: TenantEventMap[Name] } }[TenantEventName];

function setup(overrides: Partial<TenantLifecycleOptions> = {}, shared?: { stores: TenantContextStores; clock: ManualClock }) {
  const clock = shared?.clock ?? createManualClock(START);
  const stores = shared?.stores ?? memoryTenantContextStores();
  let failRunWrites: ((run: LifecycleRun) => boolean) | undefined;
  const runs = {
    ...stores.lifecycleRuns,
    // The process "dies" at this write: it never reaches the store.
    async updateRun(run: LifecycleRun, expectedVersion: number) {
      if (failRunWrites?.(run)) throw new TenantContextError('STORE_UNAVAILABLE', 'injected updateRun failure');
      return stores.lifecycleRuns.updateRun(run, expectedVersion);
    },
  };
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const emitted: RecordedEvent[] = [];
  const recorded: TenantEventName[] = [
    'lifecycle.started',
    'lifecycle.step_completed',
    'lifecycle.step_failed',
    'lifecycle.compensating',
    'lifecycle.step_compensated',
    'lifecycle.resumed',
    'lifecycle.completed',
    'lifecycle.rolled_back',
    'lifecycle.failed',
    'tenant.status_changed',
    'membership.removed',
    'domain.removed',
  ];
  for (const name of recorded) events.on(name, (payload) => void emitted.push({ name, payload } as RecordedEvent));
  const registry = createTenantRegistry({ store: stores.tenants, events, clock });
  const memberships = createMembershipService({ store: stores.memberships, registry, clock });
  const lifecycle = createTenantLifecycle({
    registry,
    memberships,
    runs,
    usageCounters: stores.usageCounters,
    clock,
    leaseMs: LEASE_MS,
    retryDelayMs: 0,
    ...overrides,
  });
  return {
    clock,
    stores,
    events,
    emitted,
    registry,
    memberships,
    lifecycle,
    failRunWrites(predicate: ((run: LifecycleRun) => boolean) | undefined) {
      failRunWrites = predicate;
    },
  };
}

type Setup = ReturnType<typeof setup>;

/** An active tenant with two members, usage counters and a custom domain. */
async function populatedTenant(context: Setup, slug = 'acme') {
  const { lifecycle, memberships, stores } = context;
  const { tenant } = await lifecycle.startOnboarding({ slug, name: 'Acme', adminUserId: ADMIN });
  await memberships.addMember(tenant.id, 'usr_two', { status: 'active' });
  await stores.usageCounters.set(tenant.id, 'projects', 4);
  await stores.tenants.insertDomain({
    hostname: `${slug}.example.com`,
    tenantId: tenant.id,
    status: 'verified',
    verificationToken: 'token',
    createdAt: START,
    verifiedAt: START,
  });
  context.emitted.length = 0;
  return tenant;
}

async function expectTenantGone(context: Setup, tenantId: string) {
  const { stores } = context;
  const tenant = await stores.tenants.getTenantById(tenantId);
  expect(tenant).toMatchObject({ status: 'deleted', statusReason: 'contract ended' });
  expect(tenant?.deletedAt).not.toBeNull();
  expect((await stores.memberships.listMembershipsByTenant(tenantId, { limit: 10 })).items).toEqual([]);
  expect(await stores.usageCounters.getAll(tenantId)).toEqual({});
  expect(await stores.tenants.listDomains(tenantId)).toEqual([]);
}

const reason = { reason: 'contract ended', requestedBy: 'usr_ops' };

describe('useOffboardingStep', () => {
  it.each([
    ['an onboarding phase', 'seed-defaults', { name: 'x', run: () => undefined }],
    ['a name with a colon', 'export', { name: 'a:b', run: () => undefined }],
    ['a hook without run', 'export', { name: 'archive' }],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, phase, hook) => {
    const { lifecycle } = setup();
    expect(() => lifecycle.useOffboardingStep(phase as never, hook as never)).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
  });
});

describe('startOffboarding', () => {
  it('stops serving the tenant first, runs the hooks in phase order, cleans up and soft-deletes', async () => {
    const context = setup();
    const tenant = await populatedTenant(context);
    const calls: { step: string; status: string | undefined; scoped: string | undefined; context: LifecycleStepContext<Tenant['settings'], OffboardingRunInput> }[] = [];
    const record = (step: string) => async (stepContext: LifecycleStepContext<Tenant['settings'], OffboardingRunInput>) => {
      calls.push({
        step,
        status: (await context.registry.getTenant(tenant.id))?.status,
        scoped: currentTenantId(),
        context: stepContext,
      });
    };
    context.lifecycle.useOffboardingStep('shred-keys', { name: 'crypto', run: record('shred-keys:crypto') });
    context.lifecycle.useOffboardingStep('delete-data', { name: 'projects', run: record('delete-data:projects') });
    context.lifecycle.useOffboardingStep('export', {
      name: 'archive',
      run: async (stepContext) => {
        await record('export:archive')(stepContext);
        return { location: `s3://exports/${stepContext.tenantId}.zip`, details: { bytes: 2048 } };
      },
    });
    context.lifecycle.useOffboardingStep('delete-data', { name: 'files', run: record('delete-data:files') });

    const { run, tenant: final } = await context.lifecycle.startOffboarding(tenant.id, reason);

    expect(calls.map((call) => call.step)).toEqual(['export:archive', 'delete-data:projects', 'delete-data:files', 'shred-keys:crypto']);
    for (const call of calls) {
      expect(call.status).toBe('offboarding');
      expect(call.scoped).toBe(tenant.id);
      expect(call.context).toMatchObject({ kind: 'offboarding', runId: run.id, tenantId: tenant.id, attempt: 1 });
      expect(call.context.tenant.status).toBe('offboarding');
      const input: Readonly<OffboardingRunInput> = call.context.input;
      expect(input).toEqual({ reason: 'contract ended', requestedBy: 'usr_ops' });
    }
    expect(run).toMatchObject({
      kind: 'offboarding',
      tenantId: tenant.id,
      state: 'completed',
      error: null,
      leaseOwner: null,
      compensatedSteps: [],
      completedSteps: [
        'mark-offboarding',
        'export:archive',
        'delete-data:projects',
        'delete-data:files',
        'shred-keys:crypto',
        'cleanup:memberships',
        'cleanup:usage-counters',
        'cleanup:domains',
        'mark-deleted',
      ],
      artifacts: [{ step: 'export:archive', location: `s3://exports/${tenant.id}.zip`, details: { bytes: 2048 }, recordedAt: START }],
    });
    expect(final).toMatchObject({ id: tenant.id, status: 'deleted', statusReason: 'contract ended', deletedAt: START });
    await expectTenantGone(context, tenant.id);
    expect(await context.lifecycle.getRun(run.id)).toEqual(run);
  });

  it('announces the transitions, each membership and domain removal', async () => {
    const context = setup();
    const tenant = await populatedTenant(context);
    const { run } = await context.lifecycle.startOffboarding(tenant.id, reason);
    const names = context.emitted.map((event) => event.name);
    expect(names).toEqual([
      'lifecycle.started',
      'tenant.status_changed',
      'lifecycle.step_completed',
      'membership.removed',
      'membership.removed',
      'lifecycle.step_completed',
      'lifecycle.step_completed',
      'domain.removed',
      'lifecycle.step_completed',
      'tenant.status_changed',
      'lifecycle.step_completed',
      'lifecycle.completed',
    ]);
    const statusChanges = context.emitted.filter((event) => event.name === 'tenant.status_changed');
    expect(statusChanges.map((event) => [event.payload.from, event.payload.to, event.payload.reason])).toEqual([
      ['active', 'offboarding', 'contract ended'],
      ['offboarding', 'deleted', 'contract ended'],
    ]);
    expect(context.emitted[0]).toMatchObject({ name: 'lifecycle.started', payload: { run: { id: run.id, state: 'running', version: 1 } } });
    expect(context.emitted.at(-1)).toEqual({ name: 'lifecycle.completed', payload: { run } });
  });

  it('offboards a suspended tenant, and keeps an already deleted tenant deleted while erasing its data', async () => {
    const context = setup();
    const suspended = await populatedTenant(context, 'suspended-co');
    await context.registry.suspendTenant(suspended.id, 'unpaid');
    await expect(context.lifecycle.startOffboarding(suspended.id, reason)).resolves.toMatchObject({ tenant: { status: 'deleted' } });

    const deleted = await populatedTenant(context, 'deleted-co');
    context.clock.advance(1000);
    await context.registry.deleteTenant(deleted.id, 'contract ended');
    const erase = vi.fn();
    context.lifecycle.useOffboardingStep('delete-data', { name: 'rows', run: erase });
    const { tenant } = await context.lifecycle.startOffboarding(deleted.id, reason);
    expect(erase).toHaveBeenCalledTimes(1);
    expect(tenant.deletedAt).toBe(START + 1000);
    await expectTenantGone(context, deleted.id);
  });

  it.each([
    ['an invalid tenant id', '../x', reason, 'TENANT_IDENTIFIER_INVALID'],
    ['an unknown tenant', 'tnt_missing', reason, 'TENANT_NOT_FOUND'],
    ['a missing reason', 'tnt_missing', {}, 'VALIDATION_FAILED'],
    ['a blank reason', 'tnt_missing', { reason: '   ' }, 'VALIDATION_FAILED'],
    ['an invalid requestedBy', 'tnt_missing', { reason: 'r', requestedBy: 'a b' }, 'VALIDATION_FAILED'],
  ])('refuses %s with %s', async (_label, tenantId, options, code) => {
    const context = setup();
    await expect(context.lifecycle.startOffboarding(tenantId, options as never)).rejects.toMatchObject({ code });
    expect(await context.stores.lifecycleRuns.listRuns({ kind: 'offboarding', limit: 10 })).toEqual([]);
  });

  it('refuses a tenant still being onboarded', async () => {
    const context = setup();
    const tenant = await context.registry.createTenant({ slug: 'half', name: 'Half', status: 'provisioning' });
    await expect(context.lifecycle.startOffboarding(tenant.id, reason)).rejects.toMatchObject({
      code: 'TENANT_STATUS_TRANSITION_INVALID',
    });
    expect((await context.registry.getTenant(tenant.id))?.status).toBe('provisioning');
  });

  it('returns the finished run when called again, and never runs a hook twice', async () => {
    const context = setup();
    const tenant = await populatedTenant(context);
    const archive = vi.fn();
    context.lifecycle.useOffboardingStep('export', { name: 'archive', run: archive });
    const first = await context.lifecycle.startOffboarding(tenant.id, reason);
    const second = await context.lifecycle.startOffboarding(tenant.id, { reason: 'again' });
    expect(second.run).toEqual(first.run);
    expect(archive).toHaveBeenCalledTimes(1);
  });
});

describe('offboarding failures', () => {
  it('only moves forward: a failing hook leaves the run failed, and resumeRun continues without re-running completed steps', async () => {
    const context = setup();
    const tenant = await populatedTenant(context);
    let keyServiceUp = false;
    const archive = vi.fn(() => ({ location: 's3://exports/acme.zip' }));
    const shred = vi.fn(() => {
      if (!keyServiceUp) throw new Error('kms unreachable');
    });
    context.lifecycle.useOffboardingStep('export', { name: 'archive', run: archive });
    context.lifecycle.useOffboardingStep('shred-keys', { name: 'kms', run: shred });

    await expect(context.lifecycle.startOffboarding(tenant.id, reason)).rejects.toMatchObject({
      code: 'LIFECYCLE_STEP_FAILED',
      details: expect.objectContaining({ kind: 'offboarding', state: 'failed', step: 'shred-keys:kms' }),
      cause: expect.objectContaining({ message: 'kms unreachable' }),
    });
    const failed = (await context.stores.lifecycleRuns.listRuns({ kind: 'offboarding', limit: 10 }))[0]!;
    expect(failed).toMatchObject({
      state: 'failed',
      leaseOwner: null,
      completedSteps: ['mark-offboarding', 'export:archive'],
      compensatedSteps: [],
      error: { step: 'shred-keys:kms', code: 'INTERNAL_ERROR', message: 'kms unreachable' },
      artifacts: [{ step: 'export:archive', location: 's3://exports/acme.zip' }],
    });
    expect(shred).toHaveBeenCalledTimes(3);
    // Still refused by resolution, still holding its members until the run finishes.
    expect((await context.registry.getTenant(tenant.id))?.status).toBe('offboarding');
    const names = context.emitted.map((event) => event.name);
    expect(names).not.toContain('lifecycle.compensating');
    expect(names).not.toContain('lifecycle.step_compensated');
    expect(names.at(-1)).toBe('lifecycle.failed');

    await expect(context.lifecycle.startOffboarding(tenant.id, reason)).rejects.toMatchObject({
      code: 'LIFECYCLE_RUN_LOCKED',
      details: expect.objectContaining({ runId: failed.id, state: 'failed' }),
    });

    keyServiceUp = true;
    const resumed = await context.lifecycle.resumeRun(failed.id);
    expect(resumed.run).toMatchObject({ state: 'completed', error: null, artifacts: [{ location: 's3://exports/acme.zip' }] });
    expect(resumed.tenant?.status).toBe('deleted');
    expect(archive).toHaveBeenCalledTimes(1);
    expect(shred).toHaveBeenCalledTimes(4);
    await expectTenantGone(context, tenant.id);
  });

  it('fails a hook that reports a malformed artifact without retrying it', async () => {
    const context = setup();
    const tenant = await populatedTenant(context);
    const archive = vi.fn(() => ({ location: '' }));
    context.lifecycle.useOffboardingStep('export', { name: 'archive', run: archive });
    await expect(context.lifecycle.startOffboarding(tenant.id, reason)).rejects.toMatchObject({
      code: 'LIFECYCLE_STEP_FAILED',
      details: expect.objectContaining({ step: 'export:archive', causeCode: 'VALIDATION_FAILED' }),
    });
    expect(archive).toHaveBeenCalledTimes(1);
  });

  it('resumes a crashed offboarding after its lease expired', async () => {
    const stores = memoryTenantContextStores();
    const clock = createManualClock(START);
    const workerA = setup({ workerId: 'worker-a' }, { stores, clock });
    const tenant = await populatedTenant(workerA);
    const calls: string[] = [];
    const register = (lifecycle: Setup['lifecycle']) => {
      lifecycle.useOffboardingStep('export', { name: 'archive', run: () => void calls.push('export:archive') });
      lifecycle.useOffboardingStep('delete-data', { name: 'rows', run: () => void calls.push('delete-data:rows') });
    };
    register(workerA.lifecycle);
    workerA.failRunWrites((run) => run.completedSteps.includes('delete-data:rows'));
    await expect(workerA.lifecycle.startOffboarding(tenant.id, reason)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });

    const workerB = setup({ workerId: 'worker-b' }, { stores, clock });
    register(workerB.lifecycle);
    // Worker A's lease still holds: the sweep does not even list the run.
    expect(await workerB.lifecycle.resumeIncompleteRuns({ kind: 'offboarding' })).toEqual({ resumed: [], locked: [], errors: [] });
    clock.advance(LEASE_MS);
    const onboardingOnly = await workerB.lifecycle.resumeIncompleteRuns({ kind: 'onboarding' });
    expect(onboardingOnly.resumed).toEqual([]);
    const sweep = await workerB.lifecycle.resumeIncompleteRuns({ kind: 'offboarding' });
    expect(sweep.resumed).toHaveLength(1);
    expect(sweep.resumed[0]).toMatchObject({ state: 'completed', leaseOwner: null });
    // The step in flight at the crash ran again; the one recorded before it did not.
    expect(calls).toEqual(['export:archive', 'delete-data:rows', 'delete-data:rows']);
    await expectTenantGone(workerB, tenant.id);
  });

  it('reports a run it could not finish because the store failed, and carries on with the next one', async () => {
    const stores = memoryTenantContextStores();
    const clock = createManualClock(START);
    const seeding = setup({ workerId: 'seed' }, { stores, clock });
    const first = await populatedTenant(seeding, 'first');
    const second = await populatedTenant(seeding, 'second');
    // Leave two crashed offboardings behind.
    seeding.failRunWrites((run) => run.completedSteps.includes('mark-offboarding'));
    await expect(seeding.lifecycle.startOffboarding(first.id, reason)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    clock.advance(1);
    await expect(seeding.lifecycle.startOffboarding(second.id, reason)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    clock.advance(LEASE_MS);

    const worker = setup({ workerId: 'worker' }, { stores, clock });
    worker.failRunWrites((run) => run.tenantId === first.id && run.completedSteps.includes('cleanup:memberships'));
    const sweep = await worker.lifecycle.resumeIncompleteRuns();
    expect(sweep.errors.map(({ runId, error }) => [runId, (error as TenantContextError).code])).toEqual([
      [`offboarding_${first.id}`, 'STORE_UNAVAILABLE'],
    ]);
    expect(sweep.resumed.map((run) => [run.tenantId, run.state])).toEqual([[second.id, 'completed']]);
  });
});
