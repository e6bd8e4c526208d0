/*
 * The SQL stores keep no timers: expired rows are deleted by a sweep that every so many writes
 * of a store instance run after their own statement. A sweep is housekeeping, not part of the
 * write's outcome, so its failure (a deadlock with a concurrent writer on InnoDB, a busy SQLite)
 * is dropped: the write already succeeded, and the next sweep deletes what this one left.
 */

/** Writes between two sweeps of one store instance. */
const WRITES_PER_SWEEP = 64;

/**
 * A function to call after each write: every 64th call it runs `sweep`, ignoring its failure.
 *
 * @example
 * ```ts
 * const sweepSometimes = createExpiredRowSweeper(() => db.deleteFrom(revocations).where('revoked_until', '<=', clock.now()).execute());
 * await sweepSometimes();
 * ```
 */
export function createExpiredRowSweeper(sweep: () => Promise<unknown>): () => Promise<void> {
  let writesSinceSweep = 0;
  return async () => {
    writesSinceSweep += 1;
    if (writesSinceSweep < WRITES_PER_SWEEP) return;
    writesSinceSweep = 0;
    try {
      await sweep();
    } catch {
      // Housekeeping only (see above).
    }
  };
}
