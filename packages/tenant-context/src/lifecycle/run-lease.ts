import type { Clock } from '@tenantkit/core';
import { TenantContextError } from '../errors.js';
import type { LifecycleRunStore } from '../store.js';
import type { LifecycleRun } from './lifecycle-run.js';

/**
 * The fields of a run a worker may change; the lease, `updatedAt` and `version` are managed by
 * {@link RunLease.write}.
 *
 * @example
 * ```ts
 * const changes: RunChanges = { state: 'compensating' };
 * ```
 */
export type RunChanges = Partial<Pick<LifecycleRun, 'state' | 'completedSteps' | 'compensatedSteps' | 'error' | 'artifacts'>>;

/**
 * How leases are taken and kept.
 *
 * @example
 * ```ts
 * const settings: RunLeaseSettings = { runs, clock, workerId: 'worker-1', leaseMs: 60_000, heartbeatIntervalMs: 20_000 };
 * ```
 */
export interface RunLeaseSettings {
  runs: LifecycleRunStore;
  clock: Clock;
  workerId: string;
  leaseMs: number;
  /** Real-time interval of lease renewals while a long step runs. */
  heartbeatIntervalMs: number;
}

/**
 * One worker's hold on a run. Every write is a compare-and-set on the run's `version` that
 * also renews the lease; losing a compare-and-set means another worker took the run over after
 * this worker's lease expired, so the write fails with `LIFECYCLE_RUN_LOCKED` and `signal`
 * aborts. The lease is also given up, the same way, once the expiry of the last successful
 * write is about to pass (see {@link runLeaseSafetyMarginMs}): when renewals keep failing for
 * another reason (a store outage), another worker may take the run over at that expiry, and
 * this worker must have stopped by then. Writes (the worker's and the heartbeat's) are
 * serialised, so they never race each other.
 *
 * @example
 * ```ts
 * const lease = await acquireRunLease(settings, run, {});
 * try {
 *   lease.startHeartbeat();
 *   await lease.write({ completedSteps: [...lease.current.completedSteps, 'create-record'] });
 *   await lease.write({ state: 'completed' }, { release: true });
 * } finally {
 *   lease.stopHeartbeat();
 * }
 * ```
 */
export interface RunLease {
  /** The run as last written by this worker. */
  readonly current: LifecycleRun;
  /**
   * Aborted (with a `LIFECYCLE_RUN_LOCKED` reason) once the lease is lost: a compare-and-set
   * failed, or the last successful write's expiry (less the safety margin) passed.
   */
  readonly signal: AbortSignal;
  /**
   * Throws the loss reason (`LIFECYCLE_RUN_LOCKED`) when the lease is lost, first aborting
   * `signal` when the lease has just run out; call it before work another worker must not
   * overlap with.
   */
  throwIfLost(): void;
  /**
   * Writes `changes`, renewing the lease, or giving it up with `release` (final states).
   * @throws TenantContextError `LIFECYCLE_RUN_LOCKED` when another worker owns the run; a
   *   store error as the store threw it.
   */
  write(changes: RunChanges, options?: { release?: boolean }): Promise<LifecycleRun>;
  /**
   * Renews the lease every `heartbeatIntervalMs` until {@link RunLease.stopHeartbeat}, and
   * aborts `signal` as soon as the lease runs out while a long step runs.
   */
  startHeartbeat(): void;
  stopHeartbeat(): void;
}

function runLockedError(runId: string): TenantContextError {
  return new TenantContextError('LIFECYCLE_RUN_LOCKED', 'Another worker owns this lifecycle run', { details: { runId } });
}

function leaseExpiredError(runId: string, leaseExpiresAt: number): TenantContextError {
  return new TenantContextError(
    'LIFECYCLE_RUN_LOCKED',
    'The lease on this lifecycle run ran out before it could be renewed, so another worker may own the run',
    { details: { runId, leaseExpiresAt } },
  );
}

/**
 * How long before its lease expires a worker gives a run up when renewals keep failing: a
 * twentieth of the lease, so clock skew between workers and a slow step reacting to its signal
 * still leave the run alone before another worker may take it, but never so much that a
 * healthy worker, renewing every `heartbeatIntervalMs`, gives up between two renewals.
 *
 * @example
 * ```ts
 * runLeaseSafetyMarginMs({ leaseMs: 60_000, heartbeatIntervalMs: 20_000 }); // 3000
 * ```
 */
export function runLeaseSafetyMarginMs(settings: Pick<RunLeaseSettings, 'leaseMs' | 'heartbeatIntervalMs'>): number {
  const { leaseMs, heartbeatIntervalMs } = settings;
  return Math.max(0, Math.min(Math.floor(leaseMs / 20), Math.floor((leaseMs - heartbeatIntervalMs) / 2)));
}

/**
 * Freezes what event listeners and callers receive, so nobody holding a run changes the
 * worker's view of it by accident.
 */
function freezeRun(run: LifecycleRun): LifecycleRun {
  return Object.freeze({
    ...run,
    completedSteps: Object.freeze([...run.completedSteps]),
    compensatedSteps: Object.freeze([...run.compensatedSteps]),
    ...(run.artifacts === undefined ? {} : { artifacts: Object.freeze([...run.artifacts]) }),
  });
}

/**
 * Whether someone holds the run's lease at `now`.
 *
 * @example
 * ```ts
 * if (isRunLeaseHeld(run, clock.now())) return; // a worker is on it
 * ```
 */
export function isRunLeaseHeld(run: LifecycleRun, now: number): boolean {
  return run.leaseOwner !== null && run.leaseExpiresAt !== null && run.leaseExpiresAt > now;
}

/**
 * The lease over a run this worker has just inserted with itself as `leaseOwner`.
 *
 * @example
 * ```ts
 * await runs.insertRun(run);
 * const lease = leaseOfInsertedRun(settings, run);
 * ```
 */
export function leaseOfInsertedRun(settings: RunLeaseSettings, run: LifecycleRun): RunLease {
  return createRunLease(settings, freezeRun(run));
}

/**
 * Takes a run over when nobody holds its lease, applying `changes` in the same
 * compare-and-set (a resumed `failed` run becomes `running` or `compensating` here).
 *
 * @throws TenantContextError `LIFECYCLE_RUN_LOCKED` when another worker holds the lease or wins
 *   the race for it.
 * @example
 * ```ts
 * const lease = await acquireRunLease(settings, stuckRun, { state: 'compensating' });
 * ```
 */
export async function acquireRunLease(settings: RunLeaseSettings, run: LifecycleRun, changes: RunChanges): Promise<RunLease> {
  const now = settings.clock.now();
  if (isRunLeaseHeld(run, now)) throw runLockedError(run.id);
  const next = freezeRun({
    ...run,
    ...changes,
    leaseOwner: settings.workerId,
    leaseExpiresAt: now + settings.leaseMs,
    updatedAt: now,
    version: run.version + 1,
  });
  if (!(await settings.runs.updateRun(next, run.version))) throw runLockedError(run.id);
  return createRunLease(settings, next);
}

function createRunLease(settings: RunLeaseSettings, acquired: LifecycleRun): RunLease {
  const { runs, clock, workerId, leaseMs, heartbeatIntervalMs } = settings;
  const controller = new AbortController();
  let current = acquired;
  let released = false;
  let queue: Promise<unknown> = Promise.resolve();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let expiryWatch: ReturnType<typeof setTimeout> | undefined;
  const marginMs = runLeaseSafetyMarginMs(settings);

  /**
   * Aborts `signal` once the expiry of the last successful write, less the margin, has come:
   * writes that keep failing for another reason than a lost compare-and-set must not leave
   * this worker running a step after another worker may have taken the run over.
   */
  function abortIfExpired(): void {
    if (controller.signal.aborted || released) return;
    const expiresAt = current.leaseExpiresAt;
    if (expiresAt !== null && clock.now() >= expiresAt - marginMs) controller.abort(leaseExpiredError(current.id, expiresAt));
  }

  function throwIfLost(): void {
    abortIfExpired();
    if (controller.signal.aborted) throw controller.signal.reason;
  }

  /**
   * Wakes up when the lease would run out (in real time, as far as the clock says), so a step
   * is told even between two heartbeats; when a renewal moved the expiry, or the clock is a
   * manual one, it just waits again.
   */
  function watchExpiry(): void {
    abortIfExpired();
    const expiresAt = current.leaseExpiresAt;
    if (controller.signal.aborted || released || expiresAt === null) return;
    expiryWatch = setTimeout(watchExpiry, Math.max(1, expiresAt - marginMs - clock.now()));
    expiryWatch.unref();
  }

  function write(changes: RunChanges, options: { release?: boolean } = {}): Promise<LifecycleRun> {
    const task = queue.then(async () => {
      if (released) throw runLockedError(current.id);
      throwIfLost();
      const now = clock.now();
      const next = freezeRun({
        ...current,
        ...changes,
        leaseOwner: options.release ? null : workerId,
        leaseExpiresAt: options.release ? null : now + leaseMs,
        updatedAt: now,
        version: current.version + 1,
      });
      if (!(await runs.updateRun(next, current.version))) {
        const lost = runLockedError(current.id);
        controller.abort(lost);
        throw lost;
      }
      current = next;
      if (options.release) released = true;
      return next;
    });
    queue = task.catch(() => undefined);
    return task;
  }

  function stopHeartbeat(): void {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
    if (expiryWatch !== undefined) clearTimeout(expiryWatch);
    expiryWatch = undefined;
  }

  return {
    get current() {
      return current;
    },
    signal: controller.signal,
    throwIfLost,
    write,
    startHeartbeat() {
      if (heartbeat !== undefined) return;
      heartbeat = setInterval(() => {
        // A failed renewal either lost the lease (the signal now says so) or met a store
        // hiccup the next renewal or step write will meet again, until the lease runs out
        // and the expiry check aborts the signal; nothing to do here.
        write({}).catch(() => undefined);
      }, heartbeatIntervalMs);
      // Neither timer may keep a process alive on its own.
      heartbeat.unref();
      watchExpiry();
    },
    stopHeartbeat,
  };
}
