import { AuthError } from '../../errors.js';
import type { RevocationStore } from '../../store.js';
import type { RedisAuthStoreContext } from './redis-auth-store-context.js';
import { runAuthLuaScript } from './lua-script.js';
import { timeArgument, ttlMs } from './redis-record-fields.js';
import { corruptRedisData, runRedisStoreCommand } from './redis-store-errors.js';
import { raiseEpochScript, revokeUntilScript } from './revocation-scripts.js';

function storedTime(raw: string | null, what: string): number | null {
  if (raw === null) return null;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw corruptRedisData(what, 'it is not a number');
  return value;
}

/**
 * The {@link RevocationStore} of {@link redisAuthStores}.
 *
 * Layout: `{rj:<jti>}` and `{rs:<session>}` hold the entry's `until` with PX until then
 * (measured from the store's clock, since these methods take no `now`), so Redis forgets an
 * entry once it cannot matter; `{eu:<user>}` and `{et:<tenant>}` hold the epochs, without TTL
 * (an epoch must outlive every credential issued before it). Writes are one small script each
 * (a later `until` or a higher epoch wins, never the reverse).
 *
 * `check` reads the up to four keys at once: one MGET (one round trip) on a single node. On a
 * Cluster the keys hash to different slots, so it sends one GET per key, all at once: the cost
 * is one round trip per node involved, in parallel.
 *
 * @example
 * ```ts
 * const revocations = redisRevocationStore({ client, keys: createRedisAuthKeyspace('tk:auth:'), clock: systemClock });
 * ```
 */
export function redisRevocationStore(context: RedisAuthStoreContext): RevocationStore {
  const { client, keys, clock } = context;
  const run = <T>(command: () => Promise<T>) => runRedisStoreCommand(command);

  async function revokeUntil(key: string, until: number): Promise<void> {
    const untilText = timeArgument(until, 'until');
    await run(() => runAuthLuaScript(client, revokeUntilScript, [key], [untilText, ttlMs(until, clock.now())]));
  }

  async function readAll(readKeys: readonly string[]): Promise<(string | null)[]> {
    if (!client.isCluster) return run(() => client.mget(...readKeys));
    return run(() => Promise.all(readKeys.map((key) => client.get(key))));
  }

  return {
    async revokeToken(jti, until) {
      await revokeUntil(keys.revokedJti(jti), until);
    },

    async revokeSession(sessionId, until) {
      await revokeUntil(keys.revokedSession(sessionId), until);
    },

    async raiseEpoch(kind, id, epochMs) {
      if (kind !== 'user' && kind !== 'tenant') throw new AuthError('VALIDATION_FAILED', "kind must be 'user' or 'tenant'", { details: { field: 'kind' } });
      const epochText = timeArgument(epochMs, 'epochMs');
      const reply = await run(() => runAuthLuaScript(client, raiseEpochScript, [keys.epoch(kind, id)], [epochText]));
      const stored = storedTime(typeof reply === 'string' ? reply : null, `${kind} epoch`);
      if (stored === null) throw corruptRedisData(`${kind} epoch`, 'the script replied no epoch');
      return stored;
    },

    async check(query, now) {
      if (typeof query !== 'object' || query === null) throw new AuthError('VALIDATION_FAILED', 'check() takes a RevocationQuery');
      timeArgument(now, 'now');
      const readKeys = [keys.revokedJti(query.jti), keys.epoch('user', query.userId)];
      if (query.sessionId !== null) readKeys.push(keys.revokedSession(query.sessionId));
      if (query.tenantId !== null) readKeys.push(keys.epoch('tenant', query.tenantId));
      const values = await readAll(readKeys);
      const [jtiUntil, userEpoch] = [storedTime(values[0] ?? null, 'jti revocation'), storedTime(values[1] ?? null, 'user epoch')];
      let next = 2;
      const sessionUntil = query.sessionId === null ? null : storedTime(values[next++] ?? null, 'session revocation');
      const tenantEpoch = query.tenantId === null ? null : storedTime(values[next] ?? null, 'tenant epoch');
      return {
        jtiRevoked: jtiUntil !== null && jtiUntil > now,
        sessionRevoked: sessionUntil !== null && sessionUntil > now,
        userEpoch: userEpoch ?? 0,
        tenantEpoch: tenantEpoch ?? 0,
      };
    },
  };
}
