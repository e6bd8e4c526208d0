import type { Clock } from '@tenantkit/core';
import type { Cluster, Redis } from 'ioredis';
import type { RedisAuthKeyspace } from './redis-auth-keyspace.js';
import { releaseLookupKeyScript } from './lookup-claim-scripts.js';
import { runAuthLuaScript } from './lua-script.js';
import { corruptRedisData } from './redis-store-errors.js';

/**
 * What every Redis auth store is built from.
 *
 * @example
 * ```ts
 * const context: RedisAuthStoreContext = { client, keys: createRedisAuthKeyspace('tk:auth:'), clock: systemClock };
 * ```
 */
export interface RedisAuthStoreContext {
  readonly client: Redis | Cluster;
  readonly keys: RedisAuthKeyspace;
  /** Measures the TTL of entries whose method takes no `now` (`revokeToken`, `revokeSession`). */
  readonly clock: Clock;
}

/**
 * Releases a lookup claim without failing the method that already did its work: a claim left
 * behind (Redis went away in between) points at a record that no longer exists, which every
 * reader re-checks, and it expires with its TTL.
 *
 * @example
 * ```ts
 * await releaseClaim(context, keys.sessionIdClaim(id), `${encodedUserId} `, 'prefix');
 * ```
 */
export async function releaseClaim(context: RedisAuthStoreContext, key: string, value: string, mode: 'exact' | 'prefix'): Promise<void> {
  try {
    await runAuthLuaScript(context.client, releaseLookupKeyScript, [key], [value, mode]);
  } catch {
    // Best effort, see above.
  }
}

/**
 * The decoded parts of a space-separated claim value (`<encoded> <encoded> ... <nonce>`), the
 * nonce left out.
 *
 * @throws AuthError `STORE_CONFLICT` for a value these stores cannot have written.
 * @example
 * ```ts
 * const [userId] = claimParts(raw, 1, 'session id claim');
 * ```
 */
export function claimParts(value: string, count: number, what: string): string[] {
  const parts = value.split(' ');
  if (parts.length !== count + 1) throw corruptRedisData(what, 'it has another shape');
  try {
    return parts.slice(0, count).map((part) => decodeURIComponent(part));
  } catch {
    throw corruptRedisData(what, 'a part is not percent-encoded');
  }
}
