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
 * Why a run stopped: the step that failed, with its error's code and message.
 *
 * @example
 * ```ts
 * const error: LifecycleRunError = { step: 'seed-defaults:roles', code: 'STORE_UNAVAILABLE', message: 'db down' };
 * ```
 */
export interface LifecycleRunError {
  readonly step: string;
  readonly code: string;
  readonly message: string;
  /**
   * Set while an onboarding run is `failed` because undoing one of its steps failed: which
   * compensation failed and why. `step`, `code` and `message` above still name the failure
   * that started the rollback, so a later `resumeRun` knows what it is rolling back.
   */
  readonly compensation?: { readonly step: string; readonly code: string; readonly message: string };
}

/**
 * Where an offboarding step left something the operator needs afterwards, typically the
 * location of a tenant's data export.
 *
 * @example
 * ```ts
 * const artifact: LifecycleArtifact = {
 *   step: 'export:s3',
 *   location: 's3://exports/tnt_1/2026-01-01.zip',
 *   recordedAt: Date.now(),
 * };
 * ```
 */
export interface LifecycleArtifact {
  /** The step that produced it, e.g. `'export:s3'`. */
  readonly step: string;
  /** Where it is: a URL, an object key, a ticket id. */
  readonly location: string;
  /** Anything else the hook reported (checksum, size, expiry). */
  readonly details?: Readonly<Record<string, JsonValue>>;
  /** Epoch milliseconds. */
  readonly recordedAt: number;
}

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
  readonly error: LifecycleRunError | null;
  /**
   * What offboarding steps reported (export locations), one per step. Optional so records
   * written before it existed still type-check; absent means none.
   */
  readonly artifacts?: readonly LifecycleArtifact[];
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
