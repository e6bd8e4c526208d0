import { runRedisCommand } from '../../adapters/redis/redis-errors.js';
import { TenantContextError } from '../../errors.js';

/**
 * Runs Redis commands for the isolation helpers: every driver failure becomes
 * `STORE_UNAVAILABLE` with the driver error as `cause` — an outage (connection refused, LOADING,
 * CLUSTERDOWN...) as well as a refused command (WRONGTYPE on a key someone else wrote, NOPERM
 * from an ACL), which the caller cannot fix by retrying differently either.
 *
 * @example
 * ```ts
 * const raw = await runIsolationCommand(() => redis.get(key));
 * ```
 */
export async function runIsolationCommand<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await runRedisCommand(command);
  } catch (error) {
    if (error instanceof TenantContextError) throw error;
    throw new TenantContextError('STORE_UNAVAILABLE', 'Redis refused the command', { cause: error });
  }
}
