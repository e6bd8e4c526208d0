import { z } from 'zod';
import { maxPoints } from '../stores/limiter-spec-guards.js';

/**
 * The longest window, block or burst duration a limit accepts, in seconds: 24 days. The memory
 * store (and so every limiter's insurance) expires counters with a Node timer, and Node fires
 * a timer longer than 2^31 - 1 ms (about 24.8 days) after 1 ms: a longer window would never
 * limit in memory. Monthly allowances are quotas (tenant-context), not rate limits.
 *
 * @example
 * ```ts
 * maxLimitSeconds; // 2_073_600
 * ```
 */
export const maxLimitSeconds = 2_073_600;

/**
 * Points of a window or a burst bucket: a whole number from 1 to 2^31 - 1 (what every store
 * accepts as a charge).
 *
 * @example
 * ```ts
 * limitPointsSchema.parse(1000); // 1000
 * ```
 */
export const limitPointsSchema = z.int().min(1, 'must be a whole number >= 1').max(maxPoints, `must be at most ${maxPoints}`);

/**
 * A window or burst duration: whole seconds from 1 to {@link maxLimitSeconds}.
 *
 * @example
 * ```ts
 * windowSecondsSchema.parse(3600); // 3600
 * ```
 */
export const windowSecondsSchema = z.int().min(1, 'must be a whole number of seconds >= 1').max(maxLimitSeconds);

/**
 * A block duration: whole seconds from 0 (no block) to {@link maxLimitSeconds}.
 *
 * @example
 * ```ts
 * blockSecondsSchema.parse(0); // 0
 * ```
 */
export const blockSecondsSchema = z.int().min(0, 'must be a whole number of seconds >= 0').max(maxLimitSeconds);

/**
 * A burst bucket, `{ points, duration }`, both whole numbers >= 1.
 *
 * @example
 * ```ts
 * burstSchema.parse({ points: 20, duration: 10 });
 * ```
 */
export const burstSchema = z.strictObject({ points: limitPointsSchema, duration: windowSecondsSchema });
