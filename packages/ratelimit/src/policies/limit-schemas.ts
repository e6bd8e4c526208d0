import { z } from 'zod';

/**
 * The longest window, block or burst duration a limit accepts: ten years, in seconds. Longer
 * would push millisecond TTLs towards the end of exact integers.
 *
 * @example
 * ```ts
 * maxLimitSeconds; // 315_360_000
 * ```
 */
export const maxLimitSeconds = 315_360_000;

/**
 * Points of a window or a burst bucket: a whole number >= 1.
 *
 * @example
 * ```ts
 * limitPointsSchema.parse(1000); // 1000
 * ```
 */
export const limitPointsSchema = z.int().min(1, 'must be a whole number >= 1');

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
