import { createManualClock, type ManualClock } from '@tenantkit/core';
import { describe, expect, it, vi } from 'vitest';
import { memoryTenantContextStores } from '../../src/adapters/memory.js';
import { TenantContextError } from '../../src/errors.js';
import { createTenantEventBus } from '../../src/events.js';
import type { LifecycleRun } from '../../src/lifecycle/lifecycle-run.js';
import {
  leaseOfInsertedRun,
  runLeaseSafetyMarginMs,
  type RunLeaseSettings,
} from '../../src/lifecycle/run-lease.js';
import { createTenantLifecycle } from '../../src/lifecycle/tenant-lifecycle.js';
import { createMembershipService } from '../../src/memberships/membership-service.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import type { LifecycleRunStore, TenantContextStores } from '../../src/store.js';

const START = Date.UTC(2026, 0, 1);
const LEASE_MS = 1000;
// Generous timeouts: heartbeats and the expiry watch run on real timers, and CI machines stall.
const patiently = { timeout: 10_000, interval: 5 };
const validInput = { slug: 'acme', name: 'Acme Inc.', plan: 'pro', adminUserId: 'usr_admin' };

/**
 * A run store whose `updateRun` can be made to fail with STORE_UNAVAILABLE (a database outage
 * that only this worker sees), recording every call that reaches it.
 */
function outageProneRuns(inner: LifecycleRunStore) {
  let down = false;
  const updateCalls: LifecycleRun[] = [];
  const store: LifecycleRunStore = {
    insertRun: (run) => inner.insertRun(run),
    getRun: (id) => inner.getRun(id),
    listRuns: (query) => inner.listRuns(query),
    async updateRun(run, expectedVersion) {
      updateCalls.push(run);
      if (down) throw new TenantContextError('STORE_UNAVAILABLE', 'injected updateRun outage');
      return inner.updateRun(run, expectedVersion);
    },
  };
  return {
    store,
    updateCalls,
    goDown() {
      down = true;
    },
  };
}

function worker(workerId: string, stores: TenantContextStores, clock: ManualClock) {
  const runs = outageProneRuns(stores.lifecycleRuns);
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const registry = createTenantRegistry({ store: stores.tenants, events, clock, plans: ['free', 'pro'] });
  const memberships = createMembershipService({ store: stores.memberships, registry, clock });
  const lifecycle = createTenantLifecycle({
    registry,
    memberships,
    runs: runs.store,
    usageCounters: stores.usageCounters,
    clock,
    workerId,
    leaseMs: LEASE_MS,
    heartbeatIntervalMs: 10,
    retryDelayMs: 0,
  });
  return { runs, lifecycle };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

async function onlyRun(stores: TenantContextStores): Promise<LifecycleRun> {
  const runs = await stores.lifecycleRuns.listRuns({ limit: 10 });
  expect(runs).toHaveLength(1);
  return runs[0]!;
}

/** Settles to the error a promise rejected with, failing the test when it fulfils. */
function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the promise to reject');
    },
    (reason: unknown) => reason,
  );
}

describe('runLeaseSafetyMarginMs', () => {
  it('is a twentieth of the lease, but leaves a healthy worker time to renew between heartbeats', () => {
    expect(runLeaseSafetyMarginMs({ leaseMs: 60_000, heartbeatIntervalMs: 20_000 })).toBe(3000);
    expect(runLeaseSafetyMarginMs({ leaseMs: 1000, heartbeatIntervalMs: 10 })).toBe(50);
    expect(runLeaseSafetyMarginMs({ leaseMs: 1000, heartbeatIntervalMs: 960 })).toBe(20);
    expect(runLeaseSafetyMarginMs({ leaseMs: 1000, heartbeatIntervalMs: 999 })).toBe(0);
  });
});

describe('RunLease expiry', () => {
  async function leasedRun() {
    const stores = memoryTenantContextStores();
    const clock = createManualClock(START);
    const runs = outageProneRuns(stores.lifecycleRuns);
    const settings: RunLeaseSettings = { runs: runs.store, clock, workerId: 'worker-a', leaseMs: LEASE_MS, heartbeatIntervalMs: 100 };
    const run: LifecycleRun = {
      id: 'run_lease_expiry',
      kind: 'onboarding',
      tenantId: 'tnt_lease_expiry',
      state: 'running',
      completedSteps: [],
      compensatedSteps: [],
      input: {},
      error: null,
      leaseOwner: 'worker-a',
      leaseExpiresAt: START + LEASE_MS,
      createdAt: START,
      updatedAt: START,
      version: 1,
    };
    await stores.lifecycleRuns.insertRun(run);
    const margin = runLeaseSafetyMarginMs(settings);
    return { stores, clock, runs, lease: leaseOfInsertedRun(settings, run), margin };
  }

  it('keeps a lease that successful writes renew', async () => {
    const { clock, lease, margin } = await leasedRun();
    clock.advance(LEASE_MS - margin - 1);
    await lease.write({ completedSteps: ['create-record'] });
    clock.advance(LEASE_MS - margin - 1);
    expect(() => lease.throwIfLost()).not.toThrow();
    await expect(lease.write({ completedSteps: ['create-record', 'activate'] })).resolves.toMatchObject({ version: 3 });
    expect(lease.signal.aborted).toBe(false);
  });

  it('gives the lease up once the last successful write is about to expire, without writing again', async () => {
    const { stores, clock, runs, lease, margin } = await leasedRun();
    runs.goDown();
    clock.advance(LEASE_MS / 2);
    // A failed renewal does not move the expiry.
    await expect(lease.write({})).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(lease.signal.aborted).toBe(false);
    clock.set(START + LEASE_MS - margin);
    const callsBefore = runs.updateCalls.length;

    expect(() => lease.throwIfLost()).toThrow(expect.objectContaining({ code: 'LIFECYCLE_RUN_LOCKED' }) as Error);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.signal.reason).toBeInstanceOf(TenantContextError);
    expect(lease.signal.reason).toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED', details: { runId: 'run_lease_expiry' } });
    await expect(lease.write({ state: 'failed' }, { release: true })).rejects.toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
    expect(runs.updateCalls).toHaveLength(callsBefore);
    expect(await stores.lifecycleRuns.getRun('run_lease_expiry')).toMatchObject({ version: 1, leaseOwner: 'worker-a' });
  });

  it('checks the expiry before every write, even when nothing asked before', async () => {
    const { clock, runs, lease } = await leasedRun();
    clock.advance(LEASE_MS);
    await expect(lease.write({ completedSteps: ['create-record'] })).rejects.toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
    expect(runs.updateCalls).toHaveLength(0);
    expect(lease.signal.aborted).toBe(true);
  });

  it('aborts the signal of a long step from the heartbeat once renewals failed until the lease ran out', async () => {
    const { clock, runs, lease, margin } = await leasedRun();
    lease.startHeartbeat();
    try {
      runs.goDown();
      clock.advance(LEASE_MS - margin - 1);
      await vi.waitFor(() => expect(runs.updateCalls.length).toBeGreaterThan(0), patiently);
      expect(lease.signal.aborted).toBe(false);
      clock.advance(1);
      await vi.waitFor(() => expect(lease.signal.aborted).toBe(true), patiently);
      expect(lease.signal.reason).toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
    } finally {
      lease.stopHeartbeat();
    }
  });

  it('does not abort a released lease', async () => {
    const { clock, lease } = await leasedRun();
    await lease.write({ state: 'completed' }, { release: true });
    clock.advance(10 * LEASE_MS);
    expect(() => lease.throwIfLost()).not.toThrow();
    expect(lease.signal.aborted).toBe(false);
  });
});

describe('a worker whose lease runs out while its store is unavailable', () => {
  /**
   * Worker A runs a long `provision-storage` hook while its `updateRun` fails; worker B resumes
   * the run once A's lease expired. Both share one hook body that records concurrency.
   */
  async function stalledWorker(options: { honoursSignal: boolean }) {
    const stores = memoryTenantContextStores();
    const clock = createManualClock(START);
    const workerA = worker('worker-a', stores, clock);
    const workerB = worker('worker-b', stores, clock);
    let running = 0;
    let maxRunning = 0;
    const entered = deferred();
    const releaseA = deferred();
    const signalsOfA: AbortSignal[] = [];
    const seenByB: { signalOfAAborted: boolean; runningBeside: number }[] = [];

    workerA.lifecycle.useOnboardingStep('provision-storage', {
      name: 'export',
      run: async ({ signal }) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        signalsOfA.push(signal);
        entered.resolve();
        try {
          if (options.honoursSignal) {
            await new Promise<void>((_, reject) => {
              signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
            });
          } else {
            await releaseA.promise;
          }
        } finally {
          running -= 1;
        }
      },
    });
    workerB.lifecycle.useOnboardingStep('provision-storage', {
      name: 'export',
      run: async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        seenByB.push({ signalOfAAborted: signalsOfA[0]?.aborted ?? false, runningBeside: running - 1 });
        await Promise.resolve();
        running -= 1;
      },
    });

    const outcomeOfA = rejectionOf(workerA.lifecycle.startOnboarding(validInput));
    await entered.promise;
    workerA.runs.goDown();
    return {
      stores,
      clock,
      workerA,
      workerB,
      outcomeOfA,
      releaseA,
      signalsOfA,
      seenByB,
      maxRunning: () => maxRunning,
    };
  }

  it('aborts the step before the lease expires, so the worker resuming it never overlaps', async () => {
    const { stores, clock, workerA, workerB, outcomeOfA, signalsOfA, seenByB, maxRunning } = await stalledWorker({
      honoursSignal: true,
    });
    const run = await onlyRun(stores);
    expect(run).toMatchObject({ leaseOwner: 'worker-a', completedSteps: ['create-record'] });
    const expiresAt = run.leaseExpiresAt!;

    // One millisecond before the expiry, A has given up (heartbeats kept failing), while the
    // lease still keeps B out.
    clock.set(expiresAt - 1);
    await vi.waitFor(() => expect(signalsOfA[0]?.aborted).toBe(true), patiently);
    expect(signalsOfA[0]?.reason).toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
    expect(await outcomeOfA).toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
    const writesOfA = workerA.runs.updateCalls.length;
    await expect(workerB.lifecycle.resumeRun(run.id)).rejects.toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });

    clock.set(expiresAt);
    const sweep = await workerB.lifecycle.resumeIncompleteRuns();
    expect(sweep.errors).toEqual([]);
    expect(sweep.resumed.map((resumed) => [resumed.id, resumed.state])).toEqual([[run.id, 'completed']]);
    expect(seenByB).toEqual([{ signalOfAAborted: true, runningBeside: 0 }]);
    expect(maxRunning()).toBe(1);

    // A stopped for good: no write (not even a heartbeat) reached its store afterwards, and
    // nothing was compensated.
    expect(workerA.runs.updateCalls).toHaveLength(writesOfA);
    expect(workerA.runs.updateCalls.every((written) => written.state === 'running')).toBe(true);
    expect(await stores.lifecycleRuns.getRun(run.id)).toEqual(sweep.resumed[0]);
    expect((await stores.tenants.getTenantById(run.tenantId))?.status).toBe('active');
  });

  it('refuses the writes of a step that ignored its signal and finished after another worker took over', async () => {
    const { stores, clock, workerA, workerB, outcomeOfA, releaseA, signalsOfA, seenByB } = await stalledWorker({
      honoursSignal: false,
    });
    const run = await onlyRun(stores);
    clock.set(run.leaseExpiresAt!);
    await vi.waitFor(() => expect(signalsOfA[0]?.aborted).toBe(true), patiently);
    const writesOfA = workerA.runs.updateCalls.length;

    const resumed = await workerB.lifecycle.resumeRun(run.id);
    expect(resumed.run.state).toBe('completed');
    expect(seenByB).toEqual([{ signalOfAAborted: true, runningBeside: 1 }]);

    releaseA.resolve();
    expect(await outcomeOfA).toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
    expect(workerA.runs.updateCalls).toHaveLength(writesOfA);
    expect(await stores.lifecycleRuns.getRun(run.id)).toEqual(resumed.run);
  });

  it('does not start another attempt of a step once the lease ran out, and compensates nothing', async () => {
    const stores = memoryTenantContextStores();
    const clock = createManualClock(START);
    const workerA = worker('worker-a', stores, clock);
    const attempts: number[] = [];
    const compensate = vi.fn();
    workerA.lifecycle.useOnboardingStep('provision-storage', {
      name: 'schema',
      run: ({ attempt }) => {
        attempts.push(attempt);
        workerA.runs.goDown();
        clock.advance(LEASE_MS);
        // Retryable: only the lease check keeps a second attempt from starting.
        throw new TenantContextError('STORE_UNAVAILABLE', 'storage API down');
      },
      compensate,
    });

    await expect(workerA.lifecycle.startOnboarding(validInput)).rejects.toMatchObject({ code: 'LIFECYCLE_RUN_LOCKED' });
    expect(attempts).toEqual([1]);
    expect(compensate).not.toHaveBeenCalled();
    const run = await onlyRun(stores);
    expect(run).toMatchObject({ state: 'running', leaseOwner: 'worker-a', completedSteps: ['create-record'], compensatedSteps: [] });
  });
});
