import { createManualClock, type ManualClock } from '@tenantkit/core';
import { describe, expect, it, vi } from 'vitest';
import { memoryTenantContextStores } from '../../src/adapters/memory.js';
import { TenantContextError } from '../../src/errors.js';
import { createTenantEventBus, type TenantEventMap, type TenantEventName } from '../../src/events.js';
import type { LifecycleRun } from '../../src/lifecycle/lifecycle-run.js';
import type { LifecycleStepContext, OnboardingRunInput, OnboardingStepHook } from '../../src/lifecycle/lifecycle-steps.js';
import { createTenantLifecycle, type TenantLifecycleOptions } from '../../src/lifecycle/tenant-lifecycle.js';
import { createMembershipService } from '../../src/memberships/membership-service.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import { currentTenant, currentTenantId, runWithTenant } from '../../src/scope/tenant-scope.js';
import type { LifecycleRunStore, TenantContextStores } from '../../src/store.js';
import type { Tenant } from '../../src/tenant.js';

const START = Date.UTC(2026, 0, 1);
const LEASE_MS = 60_000;
const ADMIN = 'usr_admin';
const SEEDED_MEMBER = 'usr_seeded';

type OnboardingContext = LifecycleStepContext<Tenant['settings'], OnboardingRunInput>;

type LifecycleEvent = { [Name in TenantEventName]: { name: Name; payload: TenantEventMap[Name] } }[TenantEventName];

interface FaultRule {
  when: (args: unknown[]) => boolean;
  /** Apply the real call first, then fail: the write happened but its acknowledgement was lost. */
  afterApplying: boolean;
  remaining: number;
}

/**
 * Wraps a store so chosen calls fail with STORE_UNAVAILABLE, as a database outage or a process
 * dying mid-write would make them.
 */
function faultyStore<Store extends object>(store: Store) {
  const rules = new Map<string, FaultRule>();
  const gates = new Map<string, () => Promise<void>>();
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await gates.get(String(property))?.();
        const rule = rules.get(String(property));
        if (rule === undefined || rule.remaining <= 0 || !rule.when(args)) return value.apply(target, args);
        rule.remaining -= 1;
        if (rule.afterApplying) await value.apply(target, args);
        throw new TenantContextError('STORE_UNAVAILABLE', `injected ${String(property)} failure`);
      };
    },
  });
  return {
    store: wrapped,
    fail(method: keyof Store & string, options: Partial<FaultRule> = {}) {
      rules.set(method, { when: () => true, afterApplying: false, remaining: Number.POSITIVE_INFINITY, ...options });
    },
    heal() {
      rules.clear();
    },
    /** Holds calls of `method` until `gate` resolves. */
    gate(method: keyof Store & string, gate: () => Promise<void>) {
      gates.set(method, gate);
    },
  };
}

function setup(overrides: Partial<TenantLifecycleOptions> = {}, shared?: { stores: TenantContextStores; clock: ManualClock }) {
  const clock = shared?.clock ?? createManualClock(START);
  const stores = shared?.stores ?? memoryTenantContextStores();
  const tenants = faultyStore(stores.tenants);
  const membershipStore = faultyStore(stores.memberships);
  const runStore = faultyStore(stores.lifecycleRuns);
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const emitted: LifecycleEvent[] = [];
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
    'tenant.purged',
  ];
  for (const name of recorded) events.on(name, (payload) => void emitted.push({ name, payload } as LifecycleEvent));
  const registry = createTenantRegistry({ store: tenants.store, events, clock, plans: ['free', 'pro'] });
  const memberships = createMembershipService({ store: membershipStore.store, registry, clock });
  const lifecycle = createTenantLifecycle({
    registry,
    memberships,
    runs: runStore.store,
    usageCounters: stores.usageCounters,
    clock,
    leaseMs: LEASE_MS,
    retryDelayMs: 0,
    ...overrides,
  });
  const lifecycleEvents = () => emitted.filter((event) => event.name.startsWith('lifecycle.'));
  return { clock, stores, tenants, membershipStore, runStore, events, emitted, lifecycleEvents, registry, memberships, lifecycle };
}

type Setup = ReturnType<typeof setup>;

/** A run's id and tenant from the coded error of a failed start. */
async function failureOf(promise: Promise<unknown>): Promise<TenantContextError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(TenantContextError);
  return error as TenantContextError;
}

async function onlyRun(context: Setup): Promise<LifecycleRun> {
  const runs = await context.stores.lifecycleRuns.listRuns({ limit: 10 });
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

async function expectNoTraceOfTenant(context: Setup, tenantId: string, slug: string) {
  const { stores } = context;
  expect(await stores.tenants.getTenantById(tenantId)).toBeNull();
  expect(await stores.tenants.getTenantBySlug(slug)).toBeNull();
  expect((await stores.memberships.listMembershipsByTenant(tenantId, { limit: 10 })).items).toEqual([]);
  expect(await stores.memberships.listMembershipsByUser(ADMIN)).toEqual([]);
  expect(await stores.memberships.listMembershipsByUser(SEEDED_MEMBER)).toEqual([]);
  expect(await stores.usageCounters.getAll(tenantId)).toEqual({});
}

const validInput = { slug: 'acme', name: 'Acme Inc.', plan: 'pro', adminUserId: ADMIN, metadata: { locale: 'fr' } };

describe('createTenantLifecycle options', () => {
  it.each([
    ['no options', undefined],
    ['a registry without methods', { registry: {} }],
    ['a leaseMs below one second', { leaseMs: 10 }],
    ['a heartbeat not shorter than the lease', { leaseMs: 1000, heartbeatIntervalMs: 1000 }],
    ['maxStepAttempts of 0', { maxStepAttempts: 0 }],
    ['a negative retry delay', { retryDelayMs: -1 }],
    ['a workerId with spaces', { workerId: 'worker one' }],
    ['a runs store without updateRun', { runs: { insertRun() {}, getRun() {}, listRuns() {} } }],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, overrides) => {
    const base = setup();
    const options =
      overrides === undefined
        ? undefined
        : { registry: base.registry, memberships: base.memberships, runs: base.stores.lifecycleRuns, ...overrides };
    expect(() => createTenantLifecycle(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('uses the given workerId as the lease owner', async () => {
    const { lifecycle } = setup({ workerId: 'api-1' });
    expect(lifecycle.workerId).toBe('api-1');
  });
});

describe('useOnboardingStep', () => {
  const run = async () => undefined;

  it.each([
    ['an unknown phase', 'activate', { name: 'x', run }],
    ['a name with a colon', 'seed-defaults', { name: 'a:b', run }],
    ['an upper-case name', 'seed-defaults', { name: 'Roles', run }],
    ['an empty name', 'seed-defaults', { name: '', run }],
    ['a hook without run', 'seed-defaults', { name: 'roles' }],
    ['a compensate that is not a function', 'seed-defaults', { name: 'roles', run, compensate: 'no' }],
    ['a notify hook with a compensation', 'notify', { name: 'welcome', run, compensate: run }],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, phase, hook) => {
    const { lifecycle } = setup();
    expect(() => lifecycle.useOnboardingStep(phase as never, hook as never)).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
  });

  it('refuses a second hook with the same name in a phase, but not in another phase', () => {
    const { lifecycle } = setup();
    lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run });
    expect(() => lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
    expect(() => lifecycle.useOnboardingStep('provision-storage', { name: 'roles', run })).not.toThrow();
  });
});

describe('startOnboarding: input', () => {
  it.each([
    ['an invalid slug', { ...validInput, slug: 'Not A Slug' }],
    ['a missing admin', { slug: 'acme', name: 'Acme' }],
    ['an invalid admin id', { ...validInput, adminUserId: 'usr 1' }],
    ['an unknown field', { ...validInput, owner: 'x' }],
    ['non-JSON settings', { ...validInput, settings: { at: new Date() } }],
    ['a __proto__ key in metadata', { ...validInput, metadata: JSON.parse('{"__proto__": {"admin": true}}') }],
    ['an oversized metadata object', { ...validInput, metadata: { blob: 'x'.repeat(300 * 1024) } }],
  ])('refuses %s with VALIDATION_FAILED and stores nothing', async (_label, input) => {
    const context = setup();
    await expect(context.lifecycle.startOnboarding(input as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await context.stores.lifecycleRuns.listRuns({ limit: 10 })).toEqual([]);
    expect((await context.registry.listTenants({ status: ['provisioning', 'active'] })).items).toEqual([]);
  });

  it('refuses a taken slug with TENANT_ALREADY_EXISTS before storing a run', async () => {
    const context = setup();
    await context.registry.createTenant({ slug: 'acme', name: 'The first Acme' });
    const hook = vi.fn();
    context.lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run: hook });
    await expect(context.lifecycle.startOnboarding(validInput)).rejects.toMatchObject({ code: 'TENANT_ALREADY_EXISTS' });
    expect(await context.stores.lifecycleRuns.listRuns({ limit: 10 })).toEqual([]);
    expect(hook).not.toHaveBeenCalled();
    expect(context.lifecycleEvents()).toEqual([]);
  });

  it('rolls back the loser of a slug race: the store, not the early check, decides', async () => {
    const context = setup();
    // Both pass the early slug check (each waits there for the other); only one record can be inserted.
    let arrived = 0;
    let bothArrived!: () => void;
    const barrier = new Promise<void>((resolve) => {
      bothArrived = resolve;
    });
    context.tenants.gate('getTenantBySlug', () => {
      arrived += 1;
      if (arrived === 2) bothArrived();
      return barrier;
    });
    const [first, second] = await Promise.allSettled([
      context.lifecycle.startOnboarding(validInput),
      context.lifecycle.startOnboarding({ ...validInput, adminUserId: 'usr_other' }),
    ]);
    const outcomes = [first, second];
    const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    const error = (rejected[0] as PromiseRejectedResult).reason as TenantContextError;
    expect(error).toMatchObject({
      code: 'LIFECYCLE_STEP_FAILED',
      details: expect.objectContaining({ step: 'create-record', state: 'rolled_back', causeCode: 'TENANT_ALREADY_EXISTS' }),
    });
    expect(error.cause).toMatchObject({ code: 'TENANT_ALREADY_EXISTS' });
    const winner = (fulfilled[0] as PromiseFulfilledResult<{ tenant: { id: string; status: string } }>).value.tenant;
    expect((await context.stores.tenants.getTenantBySlug('acme'))?.id).toBe(winner.id);
    expect(winner.status).toBe('active');
  });

  it.each([
    ['an unknown plan', { plan: 'enterprise' }, 'PLAN_NOT_FOUND'],
    ['a reserved slug', { slug: 'www' }, 'TENANT_IDENTIFIER_INVALID'],
  ])('refuses %s with the registry\'s own code before storing a run', async (_label, patch, code) => {
    const context = setup();
    const error = await failureOf(context.lifecycle.startOnboarding({ ...validInput, ...patch }));
    expect(error).toMatchObject({ code });
    expect(context.lifecycleEvents()).toEqual([]);
    await expect(context.stores.lifecycleRuns.listRuns({ limit: 10 })).resolves.toEqual([]);
  });
});

describe('startOnboarding: success', () => {
  it('runs built-in steps and hooks in order, each inside the new tenant scope, and activates the tenant', async () => {
    const context = setup();
    const calls: { step: string; scopedTenantId: string | undefined; scopedSlug: string | undefined; context: OnboardingContext }[] = [];
    const record = (step: string) => async (stepContext: OnboardingContext) => {
      calls.push({ step, scopedTenantId: currentTenantId(), scopedSlug: currentTenant()?.slug, context: stepContext });
    };
    context.lifecycle.useOnboardingStep('notify', { name: 'welcome', run: record('notify:welcome') });
    context.lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run: record('seed-defaults:roles') });
    context.lifecycle.useOnboardingStep('provision-storage', { name: 'schema', run: record('provision-storage:schema') });
    context.lifecycle.useOnboardingStep('seed-defaults', { name: 'plans', run: record('seed-defaults:plans') });

    const { run, tenant } = await context.lifecycle.startOnboarding(validInput);

    expect(run.completedSteps).toEqual([
      'create-record',
      'provision-storage:schema',
      'seed-defaults:roles',
      'seed-defaults:plans',
      'create-admin-membership',
      'activate',
      'notify:welcome',
    ]);
    expect(run).toMatchObject({ kind: 'onboarding', state: 'completed', error: null, leaseOwner: null, leaseExpiresAt: null });
    expect(tenant).toMatchObject({ id: run.tenantId, slug: 'acme', name: 'Acme Inc.', plan: 'pro', status: 'active' });
    expect(calls.map((call) => call.step)).toEqual([
      'provision-storage:schema',
      'seed-defaults:roles',
      'seed-defaults:plans',
      'notify:welcome',
    ]);
    for (const call of calls) {
      expect(call.scopedTenantId).toBe(tenant.id);
      expect(call.scopedSlug).toBe('acme');
      expect(call.context).toMatchObject({ kind: 'onboarding', runId: run.id, tenantId: tenant.id, step: call.step, attempt: 1 });
      expect(call.context.signal.aborted).toBe(false);
      const input: Readonly<OnboardingRunInput> = call.context.input;
      expect(input).toEqual({ ...validInput });
    }
    // Hooks before activation see the provisioning tenant; notify sees it active.
    expect(calls[0]!.context.tenant.status).toBe('provisioning');
    expect(calls[3]!.context.tenant.status).toBe('active');
    expect(await context.memberships.getMembership(tenant.id, ADMIN)).toMatchObject({ status: 'active' });
    expect(await context.lifecycle.getRun(run.id)).toEqual(run);
  });

  it('stores a frozen copy of the input and leaves the caller objects alone', async () => {
    const context = setup();
    const settings = { theme: 'dark', branding: { color: '#000000' } };
    const seen: unknown[] = [];
    context.lifecycle.useOnboardingStep('seed-defaults', { name: 'theme', run: ({ input }) => void seen.push(input.settings) });
    const { run, tenant } = await context.lifecycle.startOnboarding({ ...validInput, settings });
    settings.branding.color = '#ffffff';
    expect(Object.isFrozen(settings.branding)).toBe(false);
    expect(seen).toEqual([{ theme: 'dark', branding: { color: '#000000' } }]);
    expect(Object.isFrozen((seen[0] as { branding: object }).branding)).toBe(true);
    expect(run.input.settings).toEqual({ theme: 'dark', branding: { color: '#000000' } });
    expect(tenant.settings).toEqual({ theme: 'dark', branding: { color: '#000000' } });
  });

  it('opens the new tenant scope even when called from inside another tenant scope', async () => {
    const context = setup();
    const seen: (string | undefined)[] = [];
    context.lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run: () => void seen.push(currentTenantId()) });
    const { tenant } = await runWithTenant('tnt_admin_console', () => context.lifecycle.startOnboarding(validInput));
    expect(seen).toEqual([tenant.id]);
  });

  it('announces every transition with the run as it was stored', async () => {
    const context = setup({ workerId: 'worker-a' });
    context.lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run: async () => undefined });
    const { run } = await context.lifecycle.startOnboarding(validInput);

    const events = context.emitted;
    expect(events.map((event) => event.name)).toEqual([
      'lifecycle.started',
      'lifecycle.step_completed',
      'lifecycle.step_completed',
      'lifecycle.step_completed',
      'tenant.status_changed',
      'lifecycle.step_completed',
      'lifecycle.completed',
    ]);
    const [started, ...rest] = events;
    expect(started).toMatchObject({
      name: 'lifecycle.started',
      payload: { run: { id: run.id, state: 'running', version: 1, completedSteps: [], leaseOwner: 'worker-a' } },
    });
    const stepEvents = rest.filter((event) => event.name === 'lifecycle.step_completed');
    expect(stepEvents.map((event) => event.payload.step)).toEqual([
      'create-record',
      'seed-defaults:roles',
      'create-admin-membership',
      'activate',
    ]);
    stepEvents.forEach((event, index) => {
      expect(event.payload.run.completedSteps).toHaveLength(index + 1);
      expect(event.payload.run.leaseOwner).toBe('worker-a');
    });
    expect(rest.find((event) => event.name === 'tenant.status_changed')?.payload).toMatchObject({
      from: 'provisioning',
      to: 'active',
    });
    expect(events.at(-1)).toEqual({ name: 'lifecycle.completed', payload: { run } });
  });

  it('retries a failing step and records the attempt numbers', async () => {
    const context = setup();
    const attempts: number[] = [];
    context.lifecycle.useOnboardingStep('provision-storage', {
      name: 'schema',
      run: ({ attempt }) => {
        attempts.push(attempt);
        if (attempt < 3) throw new Error(`transient ${attempt}`);
      },
    });
    const { run } = await context.lifecycle.startOnboarding(validInput);
    expect(run.state).toBe('completed');
    expect(attempts).toEqual([1, 2, 3]);
    const failures = context.emitted.filter((event) => event.name === 'lifecycle.step_failed');
    expect(failures.map((event) => [event.payload.step, event.payload.willRetry, (event.payload.error as Error).message])).toEqual([
      ['provision-storage:schema', true, 'transient 1'],
      ['provision-storage:schema', true, 'transient 2'],
    ]);
  });

  it('retries built-in steps on store outages', async () => {
    const context = setup();
    context.tenants.fail('insertTenant', { remaining: 2 });
    const { run, tenant } = await context.lifecycle.startOnboarding(validInput);
    expect(run.state).toBe('completed');
    expect(tenant.status).toBe('active');
  });

  it('treats an activation whose acknowledgement was lost as done instead of rolling back a live tenant', async () => {
    const context = setup({ maxStepAttempts: 1 });
    context.tenants.fail('updateTenant', { afterApplying: true, remaining: 1 });
    const { run, tenant } = await context.lifecycle.startOnboarding(validInput);
    expect(run.state).toBe('completed');
    expect(tenant.status).toBe('active');
  });
});

describe('startOnboarding: a failure at any step leaves nothing behind', () => {
  const steps = [
    'create-record',
    'provision-storage:schema',
    'provision-storage:bucket',
    'seed-defaults:roles',
    'seed-defaults:plans',
    'create-admin-membership',
    'activate',
  ] as const;
  type Step = (typeof steps)[number];
  const compensable = new Set<Step>([
    'create-record',
    'provision-storage:schema',
    'seed-defaults:roles',
    'seed-defaults:plans',
    'create-admin-membership',
  ]);
  const hookNames = new Set<Step>(['provision-storage:schema', 'provision-storage:bucket', 'seed-defaults:roles', 'seed-defaults:plans']);

  function arrange(failAt: Step) {
    const context = setup();
    const compensated: string[] = [];
    const ran: Step[] = [];
    const hook = (step: Step, options: { compensate: boolean; seed?: boolean }): OnboardingStepHook => ({
      name: step.split(':')[1]!,
      run: async ({ tenantId }) => {
        ran.push(step);
        if (options.seed) {
          // Leaves data that only the create-record compensation cleans up; idempotent, as
          // every step must be (it runs again on retry).
          if ((await context.memberships.getMembership(tenantId, SEEDED_MEMBER)) === null) {
            await context.memberships.addMember(tenantId, SEEDED_MEMBER, { status: 'invited' });
          }
          await context.stores.usageCounters.set(tenantId, 'roles', 3);
        }
        if (failAt === step) throw new Error(`${step} broke`);
      },
      ...(options.compensate ? { compensate: () => void compensated.push(step) } : {}),
    });
    context.lifecycle.useOnboardingStep('provision-storage', hook('provision-storage:schema', { compensate: true }));
    context.lifecycle.useOnboardingStep('provision-storage', hook('provision-storage:bucket', { compensate: false }));
    context.lifecycle.useOnboardingStep('seed-defaults', hook('seed-defaults:roles', { compensate: true, seed: true }));
    context.lifecycle.useOnboardingStep('seed-defaults', hook('seed-defaults:plans', { compensate: true }));
    const notify = vi.fn();
    context.lifecycle.useOnboardingStep('notify', { name: 'welcome', run: notify });
    if (failAt === 'create-record') context.tenants.fail('insertTenant');
    if (failAt === 'create-admin-membership') {
      context.membershipStore.fail('insertMembership', { when: ([membership]) => (membership as { userId: string }).userId === ADMIN });
    }
    if (failAt === 'activate') {
      context.tenants.fail('updateTenant', { when: ([tenant]) => (tenant as { status: string }).status === 'active' });
    }
    return { context, compensated, ran, notify };
  }

  it.each(steps)('failing at %s', async (failAt) => {
    const { context, compensated, ran, notify } = arrange(failAt);
    const error = await failureOf(context.lifecycle.startOnboarding(validInput));

    const run = await onlyRun(context);
    expect(error).toMatchObject({
      code: 'LIFECYCLE_STEP_FAILED',
      details: { runId: run.id, tenantId: run.tenantId, kind: 'onboarding', state: 'rolled_back', step: failAt },
    });
    expect(error.cause).toBeInstanceOf(Error);
    await expectNoTraceOfTenant(context, run.tenantId, 'acme');

    const failedIndex = steps.indexOf(failAt);
    const completed = steps.slice(0, failedIndex);
    expect(run).toMatchObject({ state: 'rolled_back', completedSteps: completed, leaseOwner: null });
    expect(run.error).toMatchObject({ step: failAt });
    expect(run.error?.compensation).toBeUndefined();
    // The failed step (it may have half run) then every completed one, in reverse.
    const expectedCompensations = [failAt, ...[...completed].reverse()].filter((step) => compensable.has(step));
    expect(run.compensatedSteps).toEqual(expectedCompensations);
    expect(compensated).toEqual(expectedCompensations.filter((step) => hookNames.has(step)));
    // Every attempt of a failing hook ran; no hook after it did.
    expect(ran.filter((step) => step === failAt)).toHaveLength(hookNames.has(failAt) ? 3 : 0);
    expect(ran.some((step) => steps.indexOf(step) > failedIndex)).toBe(false);
    expect(notify).not.toHaveBeenCalled();

    const names = context.lifecycleEvents().map((event) => event.name);
    expect(names.filter((name) => name === 'lifecycle.step_failed')).toHaveLength(3);
    expect(names.slice(-1)).toEqual(['lifecycle.rolled_back']);
    expect(names).toContain('lifecycle.compensating');
    expect(names.filter((name) => name === 'lifecycle.step_compensated')).toHaveLength(expectedCompensations.length);
    expect(names).not.toContain('lifecycle.completed');
    const purged = context.emitted.some((event) => event.name === 'tenant.purged');
    expect(purged).toBe(failAt !== 'create-record');
  });
});

describe('notify failures after activation', () => {
  it('keeps the active tenant, leaves the run failed, and resumeRun retries the notification', async () => {
    const context = setup();
    let mailerUp = false;
    const welcome = vi.fn(() => {
      if (!mailerUp) throw new Error('smtp down');
    });
    context.lifecycle.useOnboardingStep('notify', { name: 'welcome', run: welcome });
    const error = await failureOf(context.lifecycle.startOnboarding(validInput));
    expect(error).toMatchObject({
      code: 'LIFECYCLE_STEP_FAILED',
      details: expect.objectContaining({ state: 'failed', step: 'notify:welcome' }),
    });
    const failed = await onlyRun(context);
    expect(failed).toMatchObject({ state: 'failed', leaseOwner: null, error: { step: 'notify:welcome', code: 'INTERNAL_ERROR' } });
    expect((await context.registry.getTenant(failed.tenantId))?.status).toBe('active');
    expect(context.lifecycleEvents().at(-1)).toMatchObject({ name: 'lifecycle.failed', payload: { run: failed } });

    mailerUp = true;
    const resumed = await context.lifecycle.resumeRun(failed.id);
    expect(resumed.run).toMatchObject({ state: 'completed', error: null });
    expect(resumed.tenant?.status).toBe('active');
    expect(welcome).toHaveBeenCalledTimes(4);
  });
});

describe('crash recovery', () => {
  /** Kills worker A right after the roles hook ran, before its completion is recorded. */
  async function crashAfterRolesHook() {
    const stores = memoryTenantContextStores();
    const clock = createManualClock(START);
    const calls: Record<string, number> = {};
    const hooks = (lifecycle: Setup['lifecycle']) => {
      for (const [phase, name] of [
        ['provision-storage', 'schema'],
        ['seed-defaults', 'roles'],
        ['notify', 'welcome'],
      ] as const) {
        lifecycle.useOnboardingStep(phase, {
          name,
          run: () => {
            calls[`${phase}:${name}`] = (calls[`${phase}:${name}`] ?? 0) + 1;
          },
        });
      }
    };
    const workerA = setup({ workerId: 'worker-a' }, { stores, clock });
    hooks(workerA.lifecycle);
    workerA.runStore.fail('updateRun', {
      when: ([run]) => (run as LifecycleRun).completedSteps.includes('seed-defaults:roles'),
    });
    await expect(workerA.lifecycle.startOnboarding(validInput)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const workerB = setup({ workerId: 'worker-b' }, { stores, clock });
    hooks(workerB.lifecycle);
    const workerC = setup({ workerId: 'worker-c' }, { stores, clock });
    hooks(workerC.lifecycle);
    return { stores, clock, calls, workerA, workerB, workerC, run: await onlyRun(workerB) };
  }

  it('leaves a crashed run as it was: running, leased, half done, nothing compensated', async () => {
    const { run, stores, calls } = await crashAfterRolesHook();
    expect(run).toMatchObject({
      state: 'running',
      leaseOwner: 'worker-a',
      completedSteps: ['create-record', 'provision-storage:schema'],
      compensatedSteps: [],
    });
    expect((await stores.tenants.getTenantById(run.tenantId))?.status).toBe('provisioning');
    expect(calls).toEqual({ 'provision-storage:schema': 1, 'seed-defaults:roles': 1 });
  });

  it('resumes after the lease expired, re-running only the step in flight', async () => {
    const { run, clock, calls, workerB, stores } = await crashAfterRolesHook();

    // While worker A's lease lasts, the sweep does not even list the run.
    const early = await workerB.lifecycle.resumeIncompleteRuns();
    expect(early).toEqual({ resumed: [], locked: [], errors: [] });
    await expect(workerB.lifecycle.resumeRun(run.id)).rejects.toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });

    clock.advance(LEASE_MS);
    const sweep = await workerB.lifecycle.resumeIncompleteRuns({ limit: 10 });
    expect(sweep.locked).toEqual([]);
    expect(sweep.errors).toEqual([]);
    expect(sweep.resumed).toHaveLength(1);
    expect(sweep.resumed[0]).toMatchObject({
      id: run.id,
      state: 'completed',
      leaseOwner: null,
      completedSteps: [
        'create-record',
        'provision-storage:schema',
        'seed-defaults:roles',
        'create-admin-membership',
        'activate',
        'notify:welcome',
      ],
    });
    expect(calls).toEqual({ 'provision-storage:schema': 1, 'seed-defaults:roles': 2, 'notify:welcome': 1 });
    expect((await stores.tenants.getTenantById(run.tenantId))?.status).toBe('active');
    const resumed = workerB.emitted.find((event) => event.name === 'lifecycle.resumed');
    expect(resumed?.payload).toMatchObject({ previousState: 'running', previousLeaseOwner: 'worker-a', run: { leaseOwner: 'worker-b' } });
    // A second sweep finds nothing left to do.
    expect(await workerB.lifecycle.resumeIncompleteRuns()).toEqual({ resumed: [], locked: [], errors: [] });
  });

  /** Runs older than the crashed one that a live worker holds for ten more leases. */
  async function insertBusyRuns(stores: TenantContextStores, count: number, leaseExpiresAt: number): Promise<string[]> {
    const ids = Array.from({ length: count }, (_, index) => `run_busy_${index}`);
    for (const [index, id] of ids.entries()) {
      await stores.lifecycleRuns.insertRun({
        id,
        kind: 'onboarding',
        tenantId: `tnt_busy_${index}`,
        state: 'running',
        completedSteps: ['create-record'],
        compensatedSteps: [],
        input: {},
        error: null,
        leaseOwner: 'worker-live',
        leaseExpiresAt,
        createdAt: START - 1_000 + index,
        updatedAt: START,
        version: 1,
      });
    }
    return ids;
  }

  it('resumes a crashed run behind more older runs held by live workers than the limit', async () => {
    const { run, clock, stores, workerB } = await crashAfterRolesHook();
    clock.advance(LEASE_MS);
    const busy = await insertBusyRuns(stores, 5, clock.now() + 10 * LEASE_MS);

    const sweep = await workerB.lifecycle.resumeIncompleteRuns({ limit: 1 });
    expect(sweep.locked).toEqual([]);
    expect(sweep.errors).toEqual([]);
    expect(sweep.resumed.map((resumed) => [resumed.id, resumed.state])).toEqual([[run.id, 'completed']]);
    for (const id of busy) expect(await stores.lifecycleRuns.getRun(id)).toMatchObject({ leaseOwner: 'worker-live', version: 1 });
  });

  it('leaves runs held by live workers alone, reporting them as locked, when the store ignores leaseExpiredBefore', async () => {
    const { run, clock, stores } = await crashAfterRolesHook();
    clock.advance(LEASE_MS);
    const busy = await insertBusyRuns(stores, 2, clock.now() + 10 * LEASE_MS);
    // A store written before the filter existed lists every unfinished run.
    const legacyRuns: LifecycleRunStore = {
      ...stores.lifecycleRuns,
      listRuns: ({ leaseExpiredBefore, ...query }) => stores.lifecycleRuns.listRuns(query),
    };
    const workerD = setup({ workerId: 'worker-d', runs: legacyRuns }, { stores, clock });
    workerD.lifecycle.useOnboardingStep('provision-storage', { name: 'schema', run: () => undefined });
    workerD.lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run: () => undefined });
    workerD.lifecycle.useOnboardingStep('notify', { name: 'welcome', run: () => undefined });

    const sweep = await workerD.lifecycle.resumeIncompleteRuns({ limit: 10 });
    expect(sweep.locked).toEqual(busy);
    expect(sweep.resumed.map((resumed) => [resumed.id, resumed.state])).toEqual([[run.id, 'completed']]);
    for (const id of busy) expect(await stores.lifecycleRuns.getRun(id)).toMatchObject({ leaseOwner: 'worker-live', version: 1 });
  });

  it('lets exactly one of two workers resuming the same run proceed', async () => {
    const { run, clock, calls, workerB, workerC } = await crashAfterRolesHook();
    clock.advance(LEASE_MS + 1);
    const outcomes = await Promise.allSettled([workerB.lifecycle.resumeRun(run.id), workerC.lifecycle.resumeRun(run.id)]);
    const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
    expect((fulfilled[0] as PromiseFulfilledResult<{ run: LifecycleRun }>).value.run.state).toBe('completed');
    expect(calls['seed-defaults:roles']).toBe(2);
    expect(calls['notify:welcome']).toBe(1);
  });

  it('stops a worker whose lease was taken over mid-step with LIFECYCLE_RUN_LOCKED', async () => {
    const stores = memoryTenantContextStores();
    const clock = createManualClock(START);
    const workerA = setup({ workerId: 'worker-a' }, { stores, clock });
    const workerB = setup({ workerId: 'worker-b' }, { stores, clock });
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    const signals: AbortSignal[] = [];
    let entered!: () => void;
    const inStep = new Promise<void>((resolve) => {
      entered = resolve;
    });
    workerA.lifecycle.useOnboardingStep('provision-storage', {
      name: 'schema',
      run: async ({ signal }) => {
        signals.push(signal);
        entered();
        await stalled;
      },
    });
    const schemaRunsOfB = vi.fn();
    workerB.lifecycle.useOnboardingStep('provision-storage', { name: 'schema', run: schemaRunsOfB });

    const outcomeOfA = workerA.lifecycle.startOnboarding(validInput).then(
      () => 'completed',
      (error: unknown) => error,
    );
    await inStep;
    clock.advance(LEASE_MS);
    const run = await onlyRun(workerB);
    const resumed = await workerB.lifecycle.resumeRun(run.id);
    expect(resumed.run.state).toBe('completed');
    expect(schemaRunsOfB).toHaveBeenCalledTimes(1);

    release();
    expect(await outcomeOfA).toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
    expect(signals[0]?.aborted).toBe(true);
    const final = await workerB.lifecycle.getRun(run.id);
    expect(final).toEqual(resumed.run);
  });

  it('keeps the lease of a long step alive with heartbeats', async () => {
    const stores = memoryTenantContextStores();
    const clock = createManualClock(START);
    const workerA = setup({ workerId: 'worker-a', leaseMs: 1000, heartbeatIntervalMs: 10 }, { stores, clock });
    const workerB = setup({ workerId: 'worker-b', leaseMs: 1000 }, { stores, clock });
    let release!: () => void;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    workerA.lifecycle.useOnboardingStep('provision-storage', { name: 'export', run: () => stalled });
    const done = workerA.lifecycle.startOnboarding(validInput);

    // Generous timeouts: the heartbeat runs on real timers, and CI machines stall.
    const patiently = { timeout: 10_000, interval: 5 };
    await vi.waitFor(async () => expect((await onlyRun(workerB)).completedSteps).toEqual(['create-record']), patiently);
    clock.advance(900);
    // A renewal after the clock moved pushes the expiry beyond where the old lease ended.
    await vi.waitFor(async () => expect((await onlyRun(workerB)).leaseExpiresAt).toBe(START + 1900), patiently);
    clock.advance(900);
    const run = await onlyRun(workerB);
    await expect(workerB.lifecycle.resumeRun(run.id)).rejects.toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });

    release();
    await expect(done).resolves.toMatchObject({ run: { state: 'completed', leaseOwner: null } });
  });

  it('returns a finished run as it is and rejects unknown run ids', async () => {
    const context = setup();
    const { run } = await context.lifecycle.startOnboarding(validInput);
    const resumed = await context.lifecycle.resumeRun(run.id);
    expect(resumed.run).toEqual(run);
    expect(resumed.tenant?.id).toBe(run.tenantId);
    await expect(context.lifecycle.resumeRun('run_missing')).rejects.toMatchObject({ code: 'LIFECYCLE_RUN_NOT_FOUND' });
    await expect(context.lifecycle.resumeRun('../etc')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('compensation failures', () => {
  it('leaves the run failed when undoing a step fails, and resumeRun finishes the rollback', async () => {
    const context = setup({ maxStepAttempts: 2 });
    let storageApiUp = false;
    const compensations: string[] = [];
    context.lifecycle.useOnboardingStep('provision-storage', {
      name: 'schema',
      run: () => undefined,
      compensate: () => {
        if (!storageApiUp) throw new Error('cannot drop schema');
        compensations.push('provision-storage:schema');
      },
    });
    context.lifecycle.useOnboardingStep('seed-defaults', {
      name: 'roles',
      run: () => {
        throw new TenantContextError('VALIDATION_FAILED', 'bad role template');
      },
      compensate: () => void compensations.push('seed-defaults:roles'),
    });

    const error = await failureOf(context.lifecycle.startOnboarding(validInput));
    expect(error).toMatchObject({
      code: 'LIFECYCLE_STEP_FAILED',
      details: expect.objectContaining({ state: 'failed', step: 'seed-defaults:roles', causeCode: 'VALIDATION_FAILED' }),
    });
    expect(error.cause).toMatchObject({ message: 'bad role template' });
    const failed = await onlyRun(context);
    expect(failed).toMatchObject({
      state: 'failed',
      leaseOwner: null,
      compensatedSteps: ['seed-defaults:roles'],
      error: {
        step: 'seed-defaults:roles',
        code: 'VALIDATION_FAILED',
        compensation: { step: 'provision-storage:schema', code: 'INTERNAL_ERROR', message: 'cannot drop schema' },
      },
    });
    // Not purged yet: the schema still exists, and the record says which tenant it belongs to.
    expect((await context.registry.getTenant(failed.tenantId))?.status).toBe('provisioning');
    const failedEvent = context.emitted.at(-1);
    expect(failedEvent).toMatchObject({ name: 'lifecycle.failed', payload: { run: failed, error: { message: 'cannot drop schema' } } });

    storageApiUp = true;
    const sweep = await context.lifecycle.resumeIncompleteRuns();
    expect(sweep.resumed).toHaveLength(1);
    const rolledBack = sweep.resumed[0]!;
    expect(rolledBack).toMatchObject({
      state: 'rolled_back',
      compensatedSteps: ['seed-defaults:roles', 'provision-storage:schema', 'create-record'],
      error: { step: 'seed-defaults:roles', code: 'VALIDATION_FAILED', message: 'bad role template' },
    });
    expect(rolledBack.error?.compensation).toBeUndefined();
    expect(compensations).toEqual(['seed-defaults:roles', 'provision-storage:schema']);
    await expectNoTraceOfTenant(context, failed.tenantId, 'acme');
    expect(context.emitted.find((event) => event.name === 'lifecycle.resumed')?.payload).toMatchObject({ previousState: 'failed' });
  });

  it('refuses to purge the tenant in a process where a completed step is not registered', async () => {
    const stores = memoryTenantContextStores();
    const clock = createManualClock(START);
    const workerA = setup({ workerId: 'worker-a' }, { stores, clock });
    workerA.lifecycle.useOnboardingStep('provision-storage', { name: 'schema', run: () => undefined, compensate: () => undefined });
    workerA.runStore.fail('updateRun', { when: ([run]) => (run as LifecycleRun).state === 'compensating' });
    workerA.tenants.fail('updateTenant');
    await expect(workerA.lifecycle.startOnboarding(validInput)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    clock.advance(LEASE_MS);

    // Worker B lacks the schema hook: it can resume, but must not purge around an undone schema.
    const workerB = setup({ workerId: 'worker-b' }, { stores, clock });
    workerB.tenants.fail('updateTenant');
    const run = await onlyRun(workerB);
    expect(run.state).toBe('running');
    const resumed = await workerB.lifecycle.resumeRun(run.id);
    expect(resumed.run).toMatchObject({
      state: 'failed',
      error: { step: 'activate', compensation: { step: 'provision-storage:schema', code: 'CONFIGURATION_INVALID' } },
    });
    expect(resumed.tenant?.status).toBe('provisioning');
  });
});
