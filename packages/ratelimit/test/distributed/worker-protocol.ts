import type { RateLimitPolicyDefinition, RateLimitSubject } from '../../src/policies/rate-limit-policy.js';

/**
 * Where a worker's limiter keeps its counters.
 *
 * @example
 * ```ts
 * const target: WorkerRedisTarget = { kind: 'redis', url: 'redis://127.0.0.1:6379' };
 * ```
 */
export type WorkerRedisTarget =
  | { readonly kind: 'redis'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly { readonly host: string; readonly port: number }[] };

/**
 * One check a worker fires; `tag` groups the results (e.g. by user).
 *
 * @example
 * ```ts
 * const request: WorkerRequest = { subject: { tenantId: 'acme', userId: 'u1' }, cost: 2, tag: 'u1' };
 * ```
 */
export interface WorkerRequest {
  readonly subject: RateLimitSubject;
  readonly cost?: number;
  readonly tag: string;
}

/**
 * Parent → worker: build a limiter and warm up (`prepare`, answered by `ready`), fire every
 * request at `startAt` (`fire`, answered by `result`), or quit.
 *
 * @example
 * ```ts
 * const command: WorkerCommand = { type: 'fire', id: 1, startAt: Date.now() + 150 };
 * ```
 */
export type WorkerCommand =
  | {
      readonly type: 'prepare';
      readonly id: number;
      readonly target: WorkerRedisTarget;
      readonly keyPrefix: string;
      readonly policies: readonly RateLimitPolicyDefinition[];
      /** Checked once before the barrier (connects, loads the scripts); must not share keys with `requests`. */
      readonly warmup: readonly RateLimitSubject[];
      readonly requests: readonly WorkerRequest[];
    }
  | { readonly type: 'fire'; readonly id: number; readonly startAt: number }
  | { readonly type: 'exit' };

/**
 * Per tag: how many checks were admitted and refused, and the points admitted.
 *
 * @example
 * ```ts
 * const counts: WorkerTagCounts = { admitted: 30, refused: 210, admittedPoints: 120 };
 * ```
 */
export interface WorkerTagCounts {
  admitted: number;
  refused: number;
  admittedPoints: number;
}

/**
 * Worker → parent.
 *
 * @example
 * ```ts
 * const report: WorkerReport = { type: 'ready', id: 1 };
 * ```
 */
export type WorkerReport =
  | { readonly type: 'ready'; readonly id: number }
  | {
      readonly type: 'result';
      readonly id: number;
      readonly byTag: Readonly<Record<string, WorkerTagCounts>>;
      /** `code: message` of every check that threw (a healthy run has none). */
      readonly errors: readonly string[];
      /** Outcomes the failure policy answered (a healthy run has none). */
      readonly degraded: number;
      readonly storeFailures: number;
      /** From the barrier to the last check settling. */
      readonly elapsedMs: number;
    }
  | { readonly type: 'failed'; readonly id: number; readonly error: string };
