import type { JsonValue } from '../tenant.js';

/**
 * Which lifecycle process a run belongs to.
 *
 * @example
 * ```ts
 * const kind: LifecycleRunKind = 'onboarding';
 * ```
 */
export type LifecycleRunKind = 'onboarding' | 'offboarding';

/**
 * Where a run is:
 * - `running`: steps are being applied (or the process crashed and the run awaits `resume`).
 * - `compensating`: a step failed for good; completed steps are being undone in reverse.
 * - `completed`: every step succeeded.
 * - `rolled_back`: compensation finished; nothing of the tenant remains.
 * - `failed`: compensation itself failed; needs an operator (`resume` retries it).
 *
 * @example
 * ```ts
 * const state: LifecycleRunState = 'compensating';
 * ```
 */
export type LifecycleRunState = 'running' | 'compensating' | 'completed' | 'rolled_back' | 'failed';

/**
 * A persisted onboarding or offboarding run: the state machine's memory, so a crashed process
 * can resume exactly where it stopped.
 *
 * @example
 * ```ts
 * const run = await lifecycle.getRun(runId);
 * run.completedSteps; // ['create-record', 'provision-storage:schema']
 * ```
 */
export interface LifecycleRun {
  readonly id: string;
  readonly kind: LifecycleRunKind;
  readonly tenantId: string;
  readonly state: LifecycleRunState;
  /** Names of the steps that finished, in order. */
  readonly completedSteps: readonly string[];
  /** Names of the steps whose compensation finished, in order. */
  readonly compensatedSteps: readonly string[];
  /** The input the run was started with (JSON); steps read it, never the caller's live objects. */
  readonly input: Readonly<Record<string, JsonValue>>;
  /** The failure that stopped the run, if any. */
  readonly error: { readonly step: string; readonly code: string; readonly message: string } | null;
  /** Who holds the run right now, and until when (epoch ms); `null` when nobody does. */
  readonly leaseOwner: string | null;
  readonly leaseExpiresAt: number | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds. */
  readonly updatedAt: number;
  /** Optimistic-concurrency version; starts at 1. */
  readonly version: number;
}
