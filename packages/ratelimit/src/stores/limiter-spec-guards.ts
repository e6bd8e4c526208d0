import { RateLimitError } from '../errors.js';
import type { LimiterSpec, StoreConsumeEntry } from './rate-limit-store.js';

function invalid(message: string, field: string): RateLimitError {
  return new RateLimitError('VALIDATION_FAILED', message, { details: { field } });
}

/**
 * The largest cost, points or penalty a limiter takes: 2^31 - 1. Counters then stay far from the
 * end of exact integers in Lua (doubles) and JavaScript even after a block and a charge on top.
 *
 * @example
 * ```ts
 * maxPoints; // 2_147_483_647
 * ```
 */
export const maxPoints = 2_147_483_647;

function isWholeNumber(value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/**
 * Throws unless `spec` is a limit a store can count: a prefix without hash-tag braces, whole
 * `points` from 1 to {@link maxPoints}, `duration >= 1`, `blockDuration >= 0` and a burst of
 * whole numbers >= 1 (its points up to {@link maxPoints}).
 * Stores call it once per distinct spec (they memoise), so it stays off the hot path.
 *
 * @throws RateLimitError `VALIDATION_FAILED` naming the field.
 * @example
 * ```ts
 * assertLimiterSpec({ keyPrefix: 'tk:rl:api', points: 100, duration: 60, blockDuration: 0 });
 * ```
 */
export function assertLimiterSpec(spec: LimiterSpec): void {
  if (typeof spec !== 'object' || spec === null) throw invalid('A limiter spec must be an object', 'spec');
  const { keyPrefix, points, duration, blockDuration, burst } = spec;
  if (typeof keyPrefix !== 'string' || keyPrefix.length === 0 || /[{}]/.test(keyPrefix)) {
    // A brace in the prefix would become the hash tag and put every tenant in one slot.
    throw invalid('spec.keyPrefix must be a non-empty string without "{" or "}"', 'spec.keyPrefix');
  }
  if (!isWholeNumber(points, 1, maxPoints)) throw invalid(`spec.points must be a whole number from 1 to ${maxPoints}`, 'spec.points');
  if (!isWholeNumber(duration, 1)) throw invalid('spec.duration must be a whole number of seconds >= 1', 'spec.duration');
  if (!isWholeNumber(blockDuration, 0)) {
    throw invalid('spec.blockDuration must be a whole number of seconds >= 0', 'spec.blockDuration');
  }
  if (burst !== undefined) {
    if (typeof burst !== 'object' || burst === null) throw invalid('spec.burst must be an object', 'spec.burst');
    if (!isWholeNumber(burst.points, 1, maxPoints)) {
      throw invalid(`spec.burst.points must be a whole number from 1 to ${maxPoints}`, 'spec.burst.points');
    }
    if (!isWholeNumber(burst.duration, 1)) {
      throw invalid('spec.burst.duration must be a whole number of seconds >= 1', 'spec.burst.duration');
    }
  }
}

/**
 * The identity stores memoise limiters by: two specs with equal fields share one limiter.
 *
 * @example
 * ```ts
 * limiterSpecId({ keyPrefix: 'tk:rl:api', points: 100, duration: 60, blockDuration: 0 }); // 'tk:rl:api\n100\n60\n0\n\n'
 * ```
 */
export function limiterSpecId(spec: LimiterSpec): string {
  return `${spec.keyPrefix}\n${spec.points}\n${spec.duration}\n${spec.blockDuration}\n${spec.burst?.points ?? ''}\n${spec.burst?.duration ?? ''}`;
}

/**
 * Throws unless `entries` is a list of entries with a non-empty key and whole points from 1 to
 * {@link maxPoints}.
 * The specs are checked where the store memoises them.
 *
 * @throws RateLimitError `VALIDATION_FAILED` naming the entry.
 * @example
 * ```ts
 * assertConsumeEntries([{ spec, key: '{acme}', points: 1 }]);
 * ```
 */
export function assertConsumeEntries(entries: readonly StoreConsumeEntry[]): void {
  if (!Array.isArray(entries)) throw invalid('consumeAll takes a list of entries', 'entries');
  for (let index = 0; index < entries.length; index += 1) {
    const entry = entries[index] as StoreConsumeEntry | undefined;
    if (typeof entry !== 'object' || entry === null) throw invalid(`entries[${index}] must be an object`, `entries[${index}]`);
    if (typeof entry.key !== 'string' || entry.key.length === 0) {
      throw invalid(`entries[${index}].key must be a non-empty string`, `entries[${index}].key`);
    }
    if (!isWholeNumber(entry.points, 1, maxPoints)) {
      throw invalid(`entries[${index}].points must be a whole number from 1 to ${maxPoints}`, `entries[${index}].points`);
    }
  }
}
