import { type Clock, createId, isTenantkitError, systemClock } from '@tenantkit/core';
import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import type { TenantEventBus } from '../events.js';
import type { MembershipService } from '../memberships/membership-service.js';
import { tenantIdSchema } from '../registry/tenant-input-schemas.js';
import type { TenantRegistry } from '../registry/tenant-registry.js';
import { runAsSystem } from '../scope/tenant-scope.js';
import type { LifecycleRunStore, UsageCounterStore } from '../store.js';
import type { JsonValue, Tenant } from '../tenant.js';
import { hasMethods, parseOrThrow } from '../validation.js';
import {
  MAX_RUN_INPUT_JSON_LENGTH,
  offboardingOptionsSchema,
  onboardingInputSchema,
  runIdSchema,
  stepHookNameSchema,
} from './lifecycle-input-schemas.js';
import type { LifecycleRun, LifecycleRunKind, LifecycleRunState } from './lifecycle-run.js';
import type {
  OffboardingHookPhase,
  OffboardingRunInput,
  OffboardingStepHook,
  OnboardingHookPhase,
  OnboardingStepHook,
} from './lifecycle-steps.js';
import { offboardingStepNames, buildOffboardingPlan } from './offboarding-plan.js';
import { buildOnboardingPlan, onboardingStepNames } from './onboarding-plan.js';
import { type DriveOutcome, driveRun, type LifecyclePlan } from './run-driver.js';
import { acquireRunLease, isRunLeaseHeld, leaseOfInsertedRun, type RunLease, type RunLeaseSettings } from './run-lease.js';

/**
 * Options of {@link createTenantLifecycle}.
 *
 * @example
 * ```ts
 * const lifecycle = createTenantLifecycle({
 *   registry,
 *   memberships,
 *   runs: stores.lifecycleRuns,
 *   usageCounters: stores.usageCounters,
 *   workerId: `api-${process.pid}`,
 * });
 * ```
 */
export interface TenantLifecycleOptions<Settings = Record<string, JsonValue>> {
  registry: TenantRegistry<Settings>;
  memberships: MembershipService;
  runs: LifecycleRunStore;
  /** When given, rolled-back onboardings and offboardings remove the tenant's counters. */
  usageCounters?: UsageCounterStore;
  /** Default: the registry's bus, so every tenant event flows through one place. */
  events?: TenantEventBus;
  clock?: Clock;
  /** Who holds a run's lease (shown in `leaseOwner`); 1-255 printable characters. Default: a random id. */
  workerId?: string;
  /**
   * How long a run stays locked to its worker without a write (ms, at least 1000). A worker
   * that crashed loses its runs after this; a live one renews the lease with every step and
   * with a heartbeat. Default: 60 000.
   */
  leaseMs?: number;
  /** How often a long step renews the lease (real-time ms, below `leaseMs`). Default: `leaseMs / 3`. */
  heartbeatIntervalMs?: number;
  /** Tries per step (and per compensation) before giving up, 1 to 100. Default: 3. */
  maxStepAttempts?: number;
  /** Delay before the first retry, doubled for each further one up to 30 s. Default: 200. */
  retryDelayMs?: number;
  /** Id generator of onboarding runs. Default: `createId('run')`. */
  createRunId?: () => string;
  /** Id generator of onboarded tenants. Default: `createId('tnt')`. */
  createTenantId?: () => string;
}

/**
 * Input of {@link TenantLifecycle.startOnboarding}: the tenant's fields (checked by the
 * registry's rules), its first administrator, and JSON metadata for hooks.
 *
 * @example
 * ```ts
 * await lifecycle.startOnboarding({ slug: 'acme', name: 'Acme', plan: 'pro', adminUserId: 'usr_1', metadata: { locale: 'fr' } });
 * ```
 */
export interface OnboardingInput<Settings = Record<string, JsonValue>> {
  slug: string;
  name: string;
  plan?: string;
  /** Stored in the run, so it must be JSON; the registry's settings schema checks it in `create-record`. */
  settings?: Settings | Record<string, JsonValue>;
  features?: Record<string, boolean>;
  limits?: Record<string, number>;
  region?: string | null;
  /** Becomes an active member of the new tenant. */
  adminUserId: string;
  /** Anything hooks need (welcome-mail locale, signup source); JSON. */
  metadata?: Record<string, JsonValue>;
}

/**
 * Options of {@link TenantLifecycle.startOffboarding}.
 *
 * @example
 * ```ts
 * await lifecycle.startOffboarding(tenantId, { reason: 'contract ended', requestedBy: 'usr_ops' });
 * ```
 */
export interface OffboardingOptions {
  /** Kept as the tenant's status reason (1-500 characters). */
  reason: string;
  requestedBy?: string;
}

/**
 * A finished onboarding or offboarding: the run and the tenant as they ended.
 *
 * @example
 * ```ts
 * const { run, tenant } = await lifecycle.startOnboarding(input);
 * ```
 */
export interface LifecycleResult<Settings = Record<string, JsonValue>> {
  run: LifecycleRun;
  tenant: Tenant<Settings>;
}

/**
 * What {@link TenantLifecycle.resumeRun} ended with. `tenant` is `null` when the run rolled
 * back (the record was purged).
 *
 * @example
 * ```ts
 * const { run } = await lifecycle.resumeRun(runId);
 * if (run.state === 'failed') alertOperator(run.error);
 * ```
 */
export interface ResumedRun<Settings = Record<string, JsonValue>> {
  run: LifecycleRun;
  tenant: Tenant<Settings> | null;
}

/**
 * Options of {@link TenantLifecycle.resumeIncompleteRuns}.
 *
 * @example
 * ```ts
 * await lifecycle.resumeIncompleteRuns({ limit: 20, kind: 'onboarding' });
 * ```
 */
export interface ResumeIncompleteRunsOptions {
  /** How many unfinished runs nobody holds to take over, oldest first, 1 to 500. Default: 50. */
  limit?: number;
  kind?: LifecycleRunKind;
}

/**
 * What a sweep of {@link TenantLifecycle.resumeIncompleteRuns} did.
 *
 * @example
 * ```ts
 * const { resumed, locked, errors } = await lifecycle.resumeIncompleteRuns();
 * for (const { runId, error } of errors) log.error({ runId, err: error });
 * ```
 */
export interface ResumeIncompleteRunsResult {
  /** Runs this worker took over, as they ended (any final state, `failed` included). */
  resumed: LifecycleRun[];
  /**
   * Ids of runs another worker holds: those it took between the listing and this worker's
   * attempt, since the listing leaves out runs whose lease is held.
   */
  locked: string[];
  /** Runs that stopped with an error before reaching a final state (a store outage). */
  errors: { runId: string; error: Error }[];
}

/**
 * Onboarding and offboarding of tenants as persisted, resumable state machines.
 *
 * Every step is recorded in the run after it completes (compare-and-set on the run's version,
 * under a lease), so a crashed process loses nothing: {@link TenantLifecycle.resumeRun}
 * continues where the run stopped. Completed steps never run again; the step that was in
 * flight does, which is why **every step and every compensation must be idempotent**.
 *
 * Onboarding fails atomically: a step failing (after retries) before the tenant is activated
 * compensates, in reverse, every step that ran and purges the tenant record, its memberships
 * and counters, so the tenant is either active with every step done or gone. Offboarding only
 * moves forward.
 *
 * Every transition is announced on the bus: `lifecycle.started`, `step_completed`,
 * `step_failed`, `compensating`, `step_compensated`, `resumed`, `completed`, `rolled_back`,
 * `failed` (with `tenant.status_changed` from the registry).
 *
 * @example
 * ```ts
 * lifecycle.useOnboardingStep('seed-defaults', { name: 'roles', run: ({ tenantId }) => rbac.seedRoles(tenantId) });
 * lifecycle.useOnboardingStep('notify', { name: 'welcome', run: ({ input }) => mailer.sendWelcome(input.adminUserId) });
 * const { tenant } = await lifecycle.startOnboarding({ slug: 'acme', name: 'Acme', adminUserId: 'usr_1' });
 *
 * // in a worker, every minute:
 * await lifecycle.resumeIncompleteRuns();
 * ```
 */
export interface TenantLifecycle<Settings = Record<string, JsonValue>> {
  /** The `leaseOwner` of the runs this instance drives. */
  readonly workerId: string;
  /**
   * Adds a step to an onboarding phase, persisted as `${phase}:${name}` and run in
   * registration order within its phase. `notify` hooks run after activation and may not have
   * a `compensate`: a live tenant is never rolled back, a failed notification is retried by
   * `resumeRun` instead. Register the same hooks in every process that resumes runs: a
   * compensation can only run where its hook is registered.
   * @throws `CONFIGURATION_INVALID` for an unknown phase, a malformed hook or a duplicate name.
   */
  useOnboardingStep(phase: OnboardingHookPhase, hook: OnboardingStepHook<Settings>): void;
  /**
   * Adds a step to an offboarding phase (`export`, `delete-data`, `shred-keys`), persisted as
   * `${phase}:${name}`. A hook may return `{ location, details? }`, recorded in the run's
   * `artifacts` (where the export went).
   * @throws `CONFIGURATION_INVALID` for an unknown phase, a malformed hook or a duplicate name.
   */
  useOffboardingStep(phase: OffboardingHookPhase, hook: OffboardingStepHook<Settings>): void;
  /**
   * Creates a tenant through every onboarding step.
   * @throws `VALIDATION_FAILED`, `TENANT_IDENTIFIER_INVALID` (bad input, before anything is
   *   stored); `TENANT_ALREADY_EXISTS` (slug taken, before anything is stored);
   *   `LIFECYCLE_STEP_FAILED` when a step failed for good, with the step's error as `cause` and
   *   `details.state` saying what became of the run (`rolled_back`; `failed` when the rollback
   *   itself failed, or when a `notify` hook failed and the tenant is active);
   *   `LIFECYCLE_RUN_LOCKED` when another worker took the run over; a store error when the run
   *   could not be written (it is then left for `resumeRun`).
   */
  startOnboarding(input: OnboardingInput<Settings>): Promise<LifecycleResult<Settings>>;
  /**
   * Offboards a tenant: it stops serving requests at once (status `offboarding`), its data is
   * exported, deleted and its keys shredded by the hooks, its memberships, counters and domains
   * removed, and it ends soft-deleted. One run per tenant: calling again after success returns
   * the finished run.
   * @throws `TENANT_IDENTIFIER_INVALID`, `VALIDATION_FAILED`, `TENANT_NOT_FOUND`,
   *   `TENANT_STATUS_TRANSITION_INVALID` (a tenant still provisioning), `LIFECYCLE_RUN_LOCKED`
   *   (an offboarding of this tenant is unfinished: resume it), `LIFECYCLE_STEP_FAILED` (a step
   *   failed for good; the run is `failed` and `resumeRun` continues it).
   */
  startOffboarding(tenantId: string, options: OffboardingOptions): Promise<LifecycleResult<Settings>>;
  /**
   * Takes over a `running`, `compensating` or `failed` run nobody holds (its worker crashed or
   * gave up) and drives it to a final state: forward, or on with the rollback (a `failed`
   * onboarding that had not activated the tenant finishes rolling back). Resolves whatever
   * the final state is; a run already `completed` or `rolled_back` is returned as it is.
   * @throws `LIFECYCLE_RUN_NOT_FOUND`, `LIFECYCLE_RUN_LOCKED` (another worker holds or wins it),
   *   a store error.
   */
  resumeRun(runId: string): Promise<ResumedRun<Settings>>;
  /**
   * Resumes, one after the other, the oldest unfinished runs whose lease is free or expired:
   * what a periodic worker calls for crash recovery. `failed` runs are included, so a run that
   * keeps failing is retried (and reported in `resumed`, still `failed`) on every sweep. The
   * store lists only runs nobody holds (`leaseExpiredBefore`), so runs live workers are busy
   * with never take up the `limit` and hide a crashed run further back.
   * @throws `VALIDATION_FAILED` for bad options, a store error when the runs cannot be listed.
   */
  resumeIncompleteRuns(options?: ResumeIncompleteRunsOptions): Promise<ResumeIncompleteRunsResult>;
  /** The run, or `null`. */
  getRun(runId: string): Promise<LifecycleRun | null>;
}

const optionsSchema = z.object({
  registry: z.custom<TenantRegistry<unknown>>(
    (value) =>
      hasMethods(value, ['getTenant', 'getTenantOrThrow', 'getTenantBySlug', 'createTenant', 'setTenantStatus', 'purgeProvisioningTenant']) &&
      hasMethods((value as { store?: unknown }).store, ['listDomains', 'deleteDomain']),
    'must be a TenantRegistry',
  ),
  memberships: z.custom<MembershipService>(
    (value) => hasMethods(value, ['addMember', 'getMembership', 'setMemberStatus', 'removeMember', 'listMembers']),
    'must be a MembershipService',
  ),
  runs: z.custom<LifecycleRunStore>(
    (value) => hasMethods(value, ['insertRun', 'getRun', 'updateRun', 'listRuns']),
    'must be a LifecycleRunStore',
  ),
  usageCounters: z.custom<UsageCounterStore>((value) => hasMethods(value, ['deleteAll']), 'must be a UsageCounterStore').optional(),
  events: z.custom<TenantEventBus>((value) => hasMethods(value, ['on', 'emit']), 'must be a TenantEventBus').optional(),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
  workerId: z.string().regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 printable ASCII characters without spaces').optional(),
  leaseMs: z.number().int().min(1000).max(24 * 60 * 60 * 1000).optional(),
  heartbeatIntervalMs: z.number().int().min(10).optional(),
  maxStepAttempts: z.number().int().min(1).max(100).optional(),
  retryDelayMs: z.number().int().min(0).max(600_000).optional(),
  createRunId: z.custom<() => string>((value) => typeof value === 'function', 'must be a function').optional(),
  createTenantId: z.custom<() => string>((value) => typeof value === 'function', 'must be a function').optional(),
});

const onboardingPhases: readonly OnboardingHookPhase[] = ['provision-storage', 'seed-defaults', 'notify'];
const offboardingPhases: readonly OffboardingHookPhase[] = ['export', 'delete-data', 'shred-keys'];

const functionSchema = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function');
const onboardingHookSchema = z.object({ name: stepHookNameSchema, run: functionSchema, compensate: functionSchema.optional() });
const offboardingHookSchema = z.object({ name: stepHookNameSchema, run: functionSchema });

const resumeOptionsSchema = z.strictObject({
  limit: z.number().int().min(1).max(500).optional(),
  kind: z.enum(['onboarding', 'offboarding']).optional(),
});

const unfinishedStates: readonly LifecycleRunState[] = ['running', 'compensating', 'failed'];

/** One offboarding per tenant, ever (a deleted tenant never comes back): the store's unique id enforces it. */
function offboardingRunIdOf(tenantId: string): string {
  return `offboarding_${tenantId}`;
}

function deepFreeze<Value>(value: Value): Value {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}

/**
 * Creates the {@link TenantLifecycle}. Options are validated now.
 *
 * @example
 * ```ts
 * const stores = memoryTenantContextStores();
 * const registry = createTenantRegistry({ store: stores.tenants });
 * const memberships = createMembershipService({ store: stores.memberships, registry });
 * const lifecycle = createTenantLifecycle({ registry, memberships, runs: stores.lifecycleRuns, usageCounters: stores.usageCounters });
 * ```
 */
export function createTenantLifecycle<Settings = Record<string, JsonValue>>(
  options: TenantLifecycleOptions<Settings>,
): TenantLifecycle<Settings> {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'tenant lifecycle options');
  const registry = options.registry as unknown as TenantRegistry<unknown>;
  const { memberships, runs, usageCounters } = options;
  const events = options.events ?? registry.events;
  if (!hasMethods(events, ['on', 'emit'])) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'Pass events, or a registry that has an event bus');
  }
  const clock = options.clock ?? systemClock;
  const workerId = parsed.workerId ?? createId('worker');
  const leaseMs = parsed.leaseMs ?? 60_000;
  const heartbeatIntervalMs = parsed.heartbeatIntervalMs ?? Math.floor(leaseMs / 3);
  if (heartbeatIntervalMs >= leaseMs) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'heartbeatIntervalMs must be shorter than leaseMs');
  }
  const retry = { maxStepAttempts: parsed.maxStepAttempts ?? 3, retryDelayMs: parsed.retryDelayMs ?? 200 };
  const createRunId = options.createRunId ?? (() => createId('run'));
  const createTenantId = options.createTenantId ?? (() => createId('tnt'));
  const leaseSettings: RunLeaseSettings = { runs, clock, workerId, leaseMs, heartbeatIntervalMs };

  // Per instance, never module-level: two lifecycles in one process keep their own hooks.
  const onboardingHooks = new Map<OnboardingHookPhase, OnboardingStepHook<unknown>[]>();
  const offboardingHooks = new Map<OffboardingHookPhase, OffboardingStepHook<unknown>[]>();

  function addHook<Phase extends string, Hook extends { name: string }>(
    hooks: Map<Phase, Hook[]>,
    phases: readonly Phase[],
    phase: Phase,
    hook: Hook,
  ): void {
    if (!phases.includes(phase)) {
      throw new TenantContextError('CONFIGURATION_INVALID', `Unknown lifecycle phase "${String(phase)}"`, {
        details: { phases },
      });
    }
    const list = hooks.get(phase) ?? [];
    if (list.some((existing) => existing.name === hook.name)) {
      throw new TenantContextError('CONFIGURATION_INVALID', `A "${phase}" step named "${hook.name}" is already registered`);
    }
    hooks.set(phase, [...list, hook]);
  }

  function planOf(run: LifecycleRun): LifecyclePlan {
    if (run.kind === 'onboarding') {
      return buildOnboardingPlan({ registry, memberships, usageCounters }, run, onboardingHooks);
    }
    if (run.kind === 'offboarding') {
      return buildOffboardingPlan({ registry, memberships, usageCounters, events }, run, offboardingHooks);
    }
    throw new TenantContextError('VALIDATION_FAILED', `Unknown lifecycle run kind "${String(run.kind)}"`, {
      details: { runId: run.id },
    });
  }

  async function drive(lease: RunLease): Promise<DriveOutcome> {
    const run = lease.current;
    // Steps open the scope of the run's tenant; the system scope around them lets a caller
    // already in another tenant's scope (an admin request) onboard or offboard a tenant.
    return runAsSystem({ reason: `tenant-${run.kind}`, actor: workerId }, () =>
      driveRun(lease, planOf(run), { events, clock, retry }),
    );
  }

  function stepFailedError(outcome: DriveOutcome): TenantContextError {
    const { run } = outcome;
    const step = run.error?.step ?? 'unknown';
    const what = run.kind === 'onboarding' ? 'Onboarding' : 'Offboarding';
    let message: string;
    if (run.state === 'rolled_back') {
      message = `${what} failed at step "${step}" and was rolled back`;
    } else if (run.error?.compensation !== undefined) {
      message = `${what} failed at step "${step}", and undoing step "${run.error.compensation.step}" failed too; resumeRun retries the rollback`;
    } else if (run.kind === 'onboarding') {
      message = `The tenant is active, but step "${step}" failed; resumeRun retries it`;
    } else {
      message = `${what} stopped at step "${step}"; resumeRun continues it`;
    }
    return new TenantContextError('LIFECYCLE_STEP_FAILED', message, {
      cause: outcome.stepError,
      details: {
        runId: run.id,
        tenantId: run.tenantId,
        kind: run.kind,
        state: run.state,
        step,
        causeCode: run.error?.code ?? null,
      },
    });
  }

  async function tenantOrThrow(tenantId: string): Promise<Tenant<Settings>> {
    return (await registry.getTenantOrThrow(tenantId)) as Tenant<Settings>;
  }

  /** Where a resumed run continues: `failed` onboardings that never activated finish rolling back. */
  function resumedStateOf(run: LifecycleRun): LifecycleRunState {
    if (run.state !== 'failed') return run.state;
    if (run.kind === 'onboarding' && !run.completedSteps.includes(onboardingStepNames.activate)) return 'compensating';
    return 'running';
  }

  async function resumeRun(runId: string): Promise<ResumedRun<Settings>> {
    parseOrThrow(runIdSchema, runId, 'VALIDATION_FAILED', 'lifecycle run id');
    const stored = await runs.getRun(runId);
    if (stored === null) {
      throw new TenantContextError('LIFECYCLE_RUN_NOT_FOUND', 'Lifecycle run not found', { details: { runId } });
    }
    return resumeStoredRun(stored);
  }

  async function resumeStoredRun(stored: LifecycleRun): Promise<ResumedRun<Settings>> {
    if (!unfinishedStates.includes(stored.state)) {
      return { run: stored, tenant: (await registry.getTenant(stored.tenantId)) as Tenant<Settings> | null };
    }
    const lease = await acquireRunLease(leaseSettings, stored, { state: resumedStateOf(stored) });
    events.emit('lifecycle.resumed', { run: lease.current, previousState: stored.state, previousLeaseOwner: stored.leaseOwner });
    const { run } = await drive(lease);
    return { run, tenant: (await registry.getTenant(run.tenantId)) as Tenant<Settings> | null };
  }

  return {
    workerId,

    useOnboardingStep(phase, hook) {
      const checked = parseOrThrow(onboardingHookSchema, hook, 'CONFIGURATION_INVALID', `"${String(phase)}" onboarding step`);
      if (phase === 'notify' && checked.compensate !== undefined) {
        throw new TenantContextError(
          'CONFIGURATION_INVALID',
          'A notify step runs after the tenant is active and is never compensated; remove its compensate()',
        );
      }
      // The name is copied now, so renaming the hook object later cannot rename its persisted step.
      const { name } = checked;
      const registered: OnboardingStepHook<unknown> = {
        name,
        run: (context) => hook.run(context as never),
        ...(hook.compensate === undefined ? {} : { compensate: (context) => hook.compensate?.(context as never) }),
      };
      addHook(onboardingHooks, onboardingPhases, phase, registered);
    },

    useOffboardingStep(phase, hook) {
      const { name } = parseOrThrow(offboardingHookSchema, hook, 'CONFIGURATION_INVALID', `"${String(phase)}" offboarding step`);
      const registered: OffboardingStepHook<unknown> = { name, run: (context) => hook.run(context as never) };
      addHook(offboardingHooks, offboardingPhases, phase, registered);
    },

    async startOnboarding(input) {
      const data = parseOrThrow(onboardingInputSchema, input, 'VALIDATION_FAILED', 'onboarding input');
      const json = JSON.stringify(data);
      if (json.length > MAX_RUN_INPUT_JSON_LENGTH) {
        throw new TenantContextError('VALIDATION_FAILED', `The onboarding input exceeds ${MAX_RUN_INPUT_JSON_LENGTH} characters of JSON`);
      }
      // Refuses bad input (reserved slug, unknown plan, invalid settings, taken slug) before
      // anything is stored; the store's unique slug index still decides a race (the loser's
      // create-record fails and rolls back).
      const { slug, name, plan, settings, features, limits, region } = data;
      await registry.validateNewTenant({ slug, name, plan, settings, features, limits, region });
      const runId = parseOrThrow(runIdSchema, createRunId(), 'CONFIGURATION_INVALID', 'generated run id');
      const tenantId = parseOrThrow(tenantIdSchema, createTenantId(), 'CONFIGURATION_INVALID', 'generated tenant id');
      const now = clock.now();
      const run: LifecycleRun = {
        id: runId,
        kind: 'onboarding',
        tenantId,
        state: 'running',
        completedSteps: [],
        compensatedSteps: [],
        // A copy: zod may hand back the caller's own nested objects, which must stay theirs.
        input: deepFreeze(JSON.parse(json) as Record<string, JsonValue>),
        error: null,
        leaseOwner: workerId,
        leaseExpiresAt: now + leaseMs,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      await runs.insertRun(run);
      const lease = leaseOfInsertedRun(leaseSettings, run);
      events.emit('lifecycle.started', { run: lease.current });
      const outcome = await drive(lease);
      if (outcome.run.state !== 'completed') throw stepFailedError(outcome);
      return { run: outcome.run, tenant: await tenantOrThrow(tenantId) };
    },

    async startOffboarding(tenantId, offboardingOptions) {
      parseOrThrow(tenantIdSchema, tenantId, 'TENANT_IDENTIFIER_INVALID', 'tenant id');
      const data = parseOrThrow(offboardingOptionsSchema, offboardingOptions, 'VALIDATION_FAILED', 'offboarding options');
      const tenant = await registry.getTenant(tenantId);
      if (tenant === null) {
        throw new TenantContextError('TENANT_NOT_FOUND', 'Tenant not found', { details: { tenantId } });
      }
      if (tenant.status === 'provisioning') {
        throw new TenantContextError(
          'TENANT_STATUS_TRANSITION_INVALID',
          'A tenant still being onboarded cannot be offboarded; its onboarding rolls back or completes first',
          { details: { from: 'provisioning', to: 'offboarding' } },
        );
      }
      const runId = offboardingRunIdOf(tenantId);
      const existing = await runs.getRun(runId);
      if (existing !== null) {
        if (existing.state === 'completed') return { run: existing, tenant: tenant as Tenant<Settings> };
        throw new TenantContextError('LIFECYCLE_RUN_LOCKED', 'This tenant is already being offboarded; resume that run', {
          details: { runId, state: existing.state },
        });
      }
      const input: OffboardingRunInput = { reason: data.reason, requestedBy: data.requestedBy ?? null };
      const now = clock.now();
      const run: LifecycleRun = {
        id: runId,
        kind: 'offboarding',
        tenantId,
        state: 'running',
        completedSteps: [],
        compensatedSteps: [],
        input: deepFreeze({ ...input }),
        error: null,
        artifacts: [],
        leaseOwner: workerId,
        leaseExpiresAt: now + leaseMs,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      try {
        await runs.insertRun(run);
      } catch (error) {
        if (isTenantkitError(error, 'STORE_CONFLICT')) {
          throw new TenantContextError('LIFECYCLE_RUN_LOCKED', 'This tenant is already being offboarded; resume that run', {
            cause: error,
            details: { runId },
          });
        }
        throw error;
      }
      const lease = leaseOfInsertedRun(leaseSettings, run);
      events.emit('lifecycle.started', { run: lease.current });
      const outcome = await drive(lease);
      if (outcome.run.state !== 'completed') throw stepFailedError(outcome);
      return { run: outcome.run, tenant: await tenantOrThrow(tenantId) };
    },

    resumeRun,

    async resumeIncompleteRuns(resumeOptions = {}) {
      const checked = parseOrThrow(resumeOptionsSchema, resumeOptions, 'VALIDATION_FAILED', 'resume options');
      const candidates = await runs.listRuns({
        state: unfinishedStates,
        limit: checked.limit ?? 50,
        // "Before" is strict, and a lease ending exactly now is free (isRunLeaseHeld).
        leaseExpiredBefore: clock.now() + 1,
        ...(checked.kind === undefined ? {} : { kind: checked.kind }),
      });
      const result: ResumeIncompleteRunsResult = { resumed: [], locked: [], errors: [] };
      for (const candidate of candidates) {
        // A store written before `leaseExpiredBefore` existed ignores it; never take over a
        // run it listed although someone holds it.
        if (isRunLeaseHeld(candidate, clock.now())) {
          result.locked.push(candidate.id);
          continue;
        }
        try {
          result.resumed.push((await resumeStoredRun(candidate)).run);
        } catch (error) {
          if (isTenantkitError(error, 'LIFECYCLE_RUN_LOCKED')) result.locked.push(candidate.id);
          else
            result.errors.push({
              runId: candidate.id,
              error: error instanceof Error ? error : new TenantContextError('STORE_UNAVAILABLE', String(error)),
            });
        }
      }
      return result;
    },

    async getRun(runId) {
      parseOrThrow(runIdSchema, runId, 'VALIDATION_FAILED', 'lifecycle run id');
      return runs.getRun(runId);
    },
  };
}

/**
 * Names of the built-in steps, for code that inspects `completedSteps`.
 *
 * @example
 * ```ts
 * run.completedSteps.includes(lifecycleStepNames.onboarding.activate);
 * ```
 */
export const lifecycleStepNames = Object.freeze({ onboarding: onboardingStepNames, offboarding: offboardingStepNames });
