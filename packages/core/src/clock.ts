/**
 * A source of the current time in epoch milliseconds. Inject one wherever time matters so
 * tests can be deterministic.
 *
 * @example
 * ```ts
 * const clock: Clock = { now: () => Date.now() };
 * ```
 */
export interface Clock {
  /** The current time in epoch milliseconds. */
  now(): number;
}

/**
 * The real wall clock.
 *
 * @example
 * ```ts
 * createTenantRegistry({ store, clock: systemClock });
 * ```
 */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/**
 * A clock that only moves when told to; for tests.
 *
 * @example
 * ```ts
 * const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
 * clock.advance(60_000);
 * ```
 */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Sets the clock to an absolute epoch-millisecond time. */
  set(epochMs: number): void;
}

/**
 * Creates a {@link ManualClock} starting at `startMs` (default: 2026-01-01T00:00:00Z).
 *
 * @example
 * ```ts
 * const clock = createManualClock();
 * clock.advance(1000);
 * clock.now(); // 1767225601000
 * ```
 */
export function createManualClock(startMs = Date.UTC(2026, 0, 1)): ManualClock {
  let current = startMs;
  return {
    now: () => current,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance() takes a finite, non-negative number');
      current += ms;
    },
    set(epochMs) {
      if (!Number.isFinite(epochMs)) throw new RangeError('set() takes a finite number');
      current = epochMs;
    },
  };
}
