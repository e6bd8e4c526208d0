import { AuthError } from '../../errors.js';

/**
 * Runs Redis commands for a store method: an `AuthError` the method threw passes through, and
 * anything ioredis rejects with (connection lost, cluster down, a server error) becomes
 * `STORE_UNAVAILABLE` with the driver error as `cause`, as the store contract requires.
 *
 * @example
 * ```ts
 * const raw = await runRedisStoreCommand(() => client.get(key));
 * ```
 */
export async function runRedisStoreCommand<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof AuthError) throw error;
    throw new AuthError('STORE_UNAVAILABLE', 'Redis is unavailable', { cause: error });
  }
}

/**
 * The error for a reply or a stored value of a shape only something other than these stores
 * can have written (a hand edit, another program sharing the key prefix).
 *
 * @example
 * ```ts
 * throw corruptRedisData('session', 'expiresAt is not a number');
 * ```
 */
export function corruptRedisData(what: string, problem: string): AuthError {
  return new AuthError('STORE_CONFLICT', `Redis holds a ${what} this store cannot read: ${problem}`);
}
