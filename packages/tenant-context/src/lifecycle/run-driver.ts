import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '@tenantkit/core';
import { TenantContextError } from '../errors.js';
import type { TenantEventBus } from '../events.js';
import { runWithTenant } from '../scope/tenant-scope.js';
import type { JsonValue, Tenant } from '../tenant.js';
import { parseOrThrow } from '../validation.js';
import { artifactReferenceSchema } from './lifecycle-input-schemas.js';
import type { LifecycleArtifact, LifecycleRun, LifecycleRunError } from './lifecycle-run.js';
import type { LifecycleArtifactReference } from './lifecycle-steps.js';
import type { RunLease } from './run-lease.js';
import { describeStepError, isRetryableStepError } from './step-errors.js';

/** Backoff between attempts doubles from `retryDelayMs`, up to this. */
const MAX_RETRY_DELAY_MS = 30_000;

/**
 * What a step sees while the driver runs it (hooks get the same object, typed as
 * `LifecycleStepContext` or `LifecycleCompensationContext`).
 *
 * @example
 * ```ts
 * const run = async (context: DriverStepContext) => registry.setTenantStatus(context.tenantId, 'active');
 * ```
 */
export interface DriverStepContext {
  readonly kind: LifecycleRun['kind'];
  readonly runId: string;
  readonly step: string;
  readonly tenantId: string;
  readonly tenant: Tenant<unknown> | null;
  readonly input: Readonly<Record<string, JsonValue>>;
  readonly attempt: number;
  readonly signal: AbortSignal;
}

/**
 * One persisted step of a plan.
 *
 * @example
 * ```ts
 * const step: LifecycleStepDefinition = { name: 'activate', run: (context) => activate(context.tenantId) };
 * ```
 */
export interface LifecycleStepDefinition {
  readonly name: string;
  /** May report an artifact (offboarding hooks); anything else returned is ignored. */
  run(context: DriverStepContext): Promise<unknown>;
  compensate?(context: DriverStepContext): Promise<void>;
}

/**
 * The steps of one run and the rules that differ between onboarding and offboarding.
 *
 * @example
 * ```ts
 * const plan: LifecyclePlan = { steps, compensatesFailureOf: () => false, loadTenant: () => registry.getTenant(id) };
 * ```
 */
export interface LifecyclePlan {
  readonly steps: readonly LifecycleStepDefinition[];
  /**
   * Whether a step failing for good makes the run undo what it did (`compensating`) rather
   * than stop as `failed` to be resumed forward.
   */
  compensatesFailureOf(run: LifecycleRun, step: string): boolean;
  /**
   * Asked once a step failed for good, before the run gives up on it: whether its effect is in
   * fact in place (a write whose acknowledgement was lost), so the run continues instead.
   */
  confirmsFailedStep?(step: string): Promise<boolean>;
  /** Whether what steps return is recorded as artifacts (offboarding); onboarding steps report none. */
  readonly recordsArtifacts: boolean;
  loadTenant(): Promise<Tenant<unknown> | null>;
}

/**
 * How the driver retries.
 *
 * @example
 * ```ts
 * const policy: RetryPolicy = { maxStepAttempts: 3, retryDelayMs: 200 };
 * ```
 */
export interface RetryPolicy {
  maxStepAttempts: number;
  retryDelayMs: number;
}

/**
 * How a drive ended. `stepError` and `compensationError` are the live errors of this process
 * (the run only stores their code and message).
 *
 * @example
 * ```ts
 * const { run, stepError } = await driveRun(lease, plan, deps);
 * if (run.state !== 'completed') console.error(stepError);
 * ```
 */
export interface DriveOutcome {
  run: LifecycleRun;
  stepError?: unknown;
  compensationError?: unknown;
}

/**
 * What the driver needs from the lifecycle.
 *
 * @example
 * ```ts
 * const dependencies: DriverDependencies = { events, clock, retry: { maxStepAttempts: 3, retryDelayMs: 0 } };
 * ```
 */
export interface DriverDependencies {
  events: TenantEventBus;
  clock: Clock;
  retry: RetryPolicy;
}

interface StepFailure {
  step: string;
  error: unknown;
}

function runErrorOf(failure: StepFailure): LifecycleRunError {
  return { step: failure.step, ...describeStepError(failure.error) };
}

/**
 * The lease's loss reason when it is lost (its compare-and-set failed, or it ran out while
 * renewals failed), so a step failing because of it is not blamed, and no step starts that
 * another worker may be running too.
 */
function throwIfLeaseLost(lease: RunLease): void {
  lease.throwIfLost();
}

async function waitBeforeRetry(lease: RunLease, retry: RetryPolicy, attempt: number): Promise<void> {
  const delay = Math.min(retry.retryDelayMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
  if (delay === 0) return;
  try {
    // Referenced: a script awaiting an onboarding must not exit in the middle of a backoff.
    await sleep(delay, undefined, { signal: lease.signal });
  } catch {
    throwIfLeaseLost(lease);
  }
}

/**
 * Calls `operation` in the tenant's scope until it succeeds, fails with an error retrying
 * cannot fix, or runs out of attempts. Each failed attempt is announced as `step_failed`.
 */
async function attempt<Result>(
  lease: RunLease,
  plan: LifecyclePlan,
  dependencies: DriverDependencies,
  step: string,
  operation: (context: DriverStepContext) => Promise<Result>,
): Promise<{ ok: true; value: Result } | { ok: false; error: unknown }> {
  const { events, retry } = dependencies;
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    throwIfLeaseLost(lease);
    const run = lease.current;
    try {
      const tenant = await plan.loadTenant();
      const context: DriverStepContext = {
        kind: run.kind,
        runId: run.id,
        step,
        tenantId: run.tenantId,
        tenant,
        input: run.input,
        attempt: attemptNumber,
        signal: lease.signal,
      };
      // Loading the tenant took time the lease may not have had left.
      throwIfLeaseLost(lease);
      const value = await runWithTenant(tenant ?? run.tenantId, () => operation(context));
      return { ok: true, value };
    } catch (error) {
      throwIfLeaseLost(lease);
      const willRetry = attemptNumber < retry.maxStepAttempts && isRetryableStepError(error);
      events.emit('lifecycle.step_failed', { run: lease.current, step, error, willRetry });
      if (!willRetry) return { ok: false, error };
      await waitBeforeRetry(lease, retry, attemptNumber);
    }
  }
}

function artifactOf(step: string, value: unknown, recordedAt: number): LifecycleArtifact | undefined {
  if (value === undefined || value === null) return undefined;
  const reference: LifecycleArtifactReference = parseOrThrow(
    artifactReferenceSchema,
    value,
    'VALIDATION_FAILED',
    `artifact reference returned by step "${step}"`,
  );
  return {
    step,
    location: reference.location,
    ...(reference.details === undefined ? {} : { details: reference.details }),
    recordedAt,
  };
}

/** Runs the steps not completed yet, in plan order. @returns the failure that stopped it, if any. */
async function runForward(
  lease: RunLease,
  plan: LifecyclePlan,
  dependencies: DriverDependencies,
): Promise<StepFailure | undefined> {
  for (const step of plan.steps) {
    if (lease.current.completedSteps.includes(step.name)) continue;
    const result = await attempt(lease, plan, dependencies, step.name, async (context) => {
      const value = await step.run(context);
      // Checked inside the attempt so a malformed reference fails the step like any error.
      return plan.recordsArtifacts ? artifactOf(step.name, value, dependencies.clock.now()) : undefined;
    });
    if (!result.ok && !(await confirmFailedStep(plan, step.name))) return { step: step.name, error: result.error };
    const artifact = result.ok ? result.value : undefined;
    const current = lease.current;
    const artifacts =
      artifact === undefined ? current.artifacts : [...(current.artifacts ?? []).filter((item) => item.step !== step.name), artifact];
    const run = await lease.write({
      completedSteps: [...current.completedSteps, step.name],
      ...(artifacts === undefined ? {} : { artifacts }),
    });
    dependencies.events.emit('lifecycle.step_completed', { run, step: step.name });
  }
  return undefined;
}

async function confirmFailedStep(plan: LifecyclePlan, step: string): Promise<boolean> {
  if (plan.confirmsFailedStep === undefined) return false;
  try {
    return await plan.confirmsFailedStep(step);
  } catch {
    // Cannot tell: treat the step as failed, which is the safe reading.
    return false;
  }
}

/**
 * Undoes, in reverse order, the step that failed (it may have half run) and every completed
 * step, skipping those already undone (so compensation resumes too) and those with nothing to
 * undo. @returns the compensation failure that stopped it, if any.
 */
async function runCompensation(
  lease: RunLease,
  plan: LifecyclePlan,
  dependencies: DriverDependencies,
): Promise<StepFailure | undefined> {
  const run = lease.current;
  const failedStep = run.error?.step;
  const order = [
    ...(failedStep !== undefined && !run.completedSteps.includes(failedStep) ? [failedStep] : []),
    ...[...run.completedSteps].reverse(),
  ];
  for (const name of order) {
    if (lease.current.compensatedSteps.includes(name)) continue;
    const step = plan.steps.find((candidate) => candidate.name === name);
    if (step === undefined) {
      // Rolling back without it could leave the tenant's resources behind; an operator must
      // register the step again (or finish by hand) before the tenant is purged.
      const error = new TenantContextError(
        'CONFIGURATION_INVALID',
        `Step "${name}" of this run is not registered in this process, so it cannot be compensated`,
        { details: { runId: run.id, step: name } },
      );
      return { step: name, error };
    }
    const compensate = step.compensate;
    if (compensate === undefined) continue;
    const result = await attempt(lease, plan, dependencies, name, (context) => compensate(context));
    if (!result.ok) return { step: name, error: result.error };
    const written = await lease.write({ compensatedSteps: [...lease.current.compensatedSteps, name] });
    dependencies.events.emit('lifecycle.step_compensated', { run: written, step: name });
  }
  return undefined;
}

/**
 * Drives a leased run to a final state: forward through its steps, then `completed`; or, when
 * a step fails for good, through compensation to `rolled_back` (onboarding before activation)
 * or to `failed` (offboarding, steps after activation, failing compensations), releasing the
 * lease at the end. Losing the lease (a lost compare-and-set, or a lease that ran out while
 * renewals failed; checked before every step attempt and every write) or failing to write the
 * run stops the drive at once with that error, leaving the run for `resumeRun` by whoever
 * holds the lease next; nothing is compensated then, since this worker can no longer record
 * what it undoes.
 *
 * @example
 * ```ts
 * const lease = await acquireRunLease(settings, run, {});
 * const { run: final } = await driveRun(lease, plan, { events, clock, retry });
 * ```
 */
export async function driveRun(
  lease: RunLease,
  plan: LifecyclePlan,
  dependencies: DriverDependencies,
): Promise<DriveOutcome> {
  const { events } = dependencies;
  lease.startHeartbeat();
  try {
    let stepError: unknown;
    for (;;) {
      throwIfLeaseLost(lease);
      const current = lease.current;
      if (current.state === 'running') {
        const failure = await runForward(lease, plan, dependencies);
        if (failure === undefined) {
          const run = await lease.write({ state: 'completed', error: null }, { release: true });
          events.emit('lifecycle.completed', { run });
          return { run };
        }
        stepError = failure.error;
        if (plan.compensatesFailureOf(lease.current, failure.step)) {
          const run = await lease.write({ state: 'compensating', error: runErrorOf(failure) });
          events.emit('lifecycle.compensating', { run, step: failure.step, error: failure.error });
          continue;
        }
        const run = await lease.write({ state: 'failed', error: runErrorOf(failure) }, { release: true });
        events.emit('lifecycle.failed', { run, error: failure.error });
        return { run, stepError };
      }
      if (current.state === 'compensating') {
        const failure = await runCompensation(lease, plan, dependencies);
        const original = current.error;
        if (failure === undefined) {
          // The compensation failure of an earlier attempt no longer describes the run.
          const error = original === null ? null : { step: original.step, code: original.code, message: original.message };
          const run = await lease.write({ state: 'rolled_back', error }, { release: true });
          events.emit('lifecycle.rolled_back', { run });
          return { run, stepError };
        }
        const error: LifecycleRunError = {
          ...(original ?? { step: failure.step, code: 'INTERNAL_ERROR', message: 'unknown failure' }),
          compensation: runErrorOf(failure),
        };
        const run = await lease.write({ state: 'failed', error }, { release: true });
        events.emit('lifecycle.failed', { run, error: failure.error });
        return { run, stepError, compensationError: failure.error };
      }
      // Final states: nothing left to drive.
      return { run: current };
    }
  } finally {
    lease.stopHeartbeat();
  }
}
