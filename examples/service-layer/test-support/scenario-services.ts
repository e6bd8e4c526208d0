import { createId } from '@tenantkit/core';
import type { TxtResolver } from '@tenantkit/tenant-context';
import { createTemporaryMariadbDatabase, createTemporaryPostgresDatabase, testServices, type TemporaryDatabase } from '@tenantkit/test-utils';
import type { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { createExampleServices, type ExampleServices } from '../src/services.js';

/**
 * What the services run on: the embedded default, or real servers (a temporary database each run).
 *
 * @example
 * ```ts
 * const backing: ScenarioBacking = 'postgres+redis';
 * ```
 */
export type ScenarioBacking = 'embedded' | 'postgres+redis' | 'mariadb';

/**
 * The example's services on one backing, for one suite of scenarios, and how to take them down.
 *
 * @example
 * ```ts
 * const running: ScenarioServices = await startScenarioServices('mariadb', { ADMIN_TOKEN });
 * await running.dispose();
 * ```
 */
export interface ScenarioServices {
  services: ExampleServices;
  /** Deletes what the suite wrote to Redis (its own key prefix only), closes the services, drops the database. */
  dispose(): Promise<void>;
}

/**
 * Raw SCAN (not the library's own scan) of the Redis keys that match a pattern.
 *
 * @example
 * ```ts
 * const keys = await scanRedisKeys(redis, 'tk-e2e-abc:*');
 * ```
 */
export async function scanRedisKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys.sort();
}

/**
 * The auth settings of every scenario suite, under the suite's own environment: a cheap scrypt
 * cost (hashing at the production cost would make each sign-in take a tenth of a second), no
 * grace window for rotated refresh tokens (a reuse is a reuse at once, so no scenario waits),
 * no progressive delay on failed sign-ins (the throttle's 429 is what the scenarios check), an
 * https public URL (Secure cookies, reset links on it), and no mail log.
 *
 * @example
 * ```ts
 * loadConfig({ ...scenarioAuthEnv, ADMIN_TOKEN });
 * ```
 */
export const scenarioAuthEnv: Readonly<Record<string, string>> = Object.freeze({
  PUBLIC_BASE_URL: 'https://app.saas.test',
  AUTH_SCRYPT_COST: String(2 ** 12),
  AUTH_REFRESH_GRACE_SECONDS: '0',
  AUTH_LOGIN_PROGRESSIVE_DELAY: 'false',
  MAIL_LOG: 'false',
});

/**
 * Starts the example's services from an environment, as `loadConfig` reads it, on the chosen
 * backing: a temporary database per suite, and with Redis a key prefix of its own, so suites
 * running in parallel never share state. {@link scenarioAuthEnv} applies unless `env` says otherwise.
 *
 * @example
 * ```ts
 * const { services, dispose } = await startScenarioServices('embedded', { RATE_LIMIT_PLAN_REQUESTS: 'free=5' });
 * ```
 */
export async function startScenarioServices(
  backing: ScenarioBacking,
  env: Record<string, string>,
  overrides: { dns?: TxtResolver } = {},
): Promise<ScenarioServices> {
  let database: TemporaryDatabase | undefined;
  const fullEnv = { ...scenarioAuthEnv, ...env };
  if (backing === 'postgres+redis') {
    database = await createTemporaryPostgresDatabase();
    Object.assign(fullEnv, { DATABASE_URL: database.url, REDIS_URL: testServices.redis.url, REDIS_KEY_PREFIX: `tk-e2e-${createId()}:` });
  } else if (backing === 'mariadb') {
    database = await createTemporaryMariadbDatabase();
    fullEnv.DATABASE_URL = database.url;
  }
  let services: ExampleServices;
  try {
    services = await createExampleServices(loadConfig(fullEnv), overrides);
    // Connected before the first request: the rate-limit store counts in memory (insurance)
    // while the client is not ready, which would blur the exact counts the scenarios check.
    await services.redis?.ping();
  } catch (error) {
    await database?.drop();
    throw error;
  }
  return {
    services,
    async dispose() {
      // This run's Redis prefix is unique to it: remove what it wrote, nothing else.
      if (services.redis !== undefined) {
        const keys = await scanRedisKeys(services.redis, `${services.config.redisKeyPrefix}*`);
        if (keys.length > 0) await services.redis.unlink(...keys);
      }
      await services.close();
      await database?.drop();
    },
  };
}
