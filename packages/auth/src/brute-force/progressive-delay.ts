/**
 * How a login slows down before the block: no delay for the first `afterFailures` failures,
 * then `baseMs`, doubling with every further failure, never above `maxMs`.
 *
 * @example
 * ```ts
 * const delay: ProgressiveDelay = { afterFailures: 2, baseMs: 250, maxMs: 4000 };
 * ```
 */
export interface ProgressiveDelay {
  /** Failures answered without delay; 0–1000, default 2. */
  readonly afterFailures?: number;
  /** The first delay in ms; 1–60,000, default 250. */
  readonly baseMs?: number;
  /** The longest delay in ms; `baseMs`–60,000, default 4000. */
  readonly maxMs?: number;
}

/**
 * The delay before answering an attempt that follows `failures` failures (of one account
 * from one IP): `0` while `failures < afterFailures`, else
 * `min(maxMs, baseMs · 2^(failures − afterFailures))`.
 *
 * @example
 * ```ts
 * const settings = { afterFailures: 2, baseMs: 250, maxMs: 4000 };
 * [0, 1, 2, 3, 4, 5, 6, 9].map((failures) => progressiveDelayMs(failures, settings)); // [0, 0, 250, 500, 1000, 2000, 4000, 4000]
 * ```
 */
export function progressiveDelayMs(failures: number, settings: Required<ProgressiveDelay>): number {
  if (failures < settings.afterFailures) return 0;
  // The exponent is clamped so a huge counter cannot overflow to Infinity before the min.
  const doublings = Math.min(failures - settings.afterFailures, 32);
  return Math.min(settings.maxMs, settings.baseMs * 2 ** doublings);
}
