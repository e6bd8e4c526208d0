import { Socket } from 'node:net';
import { describe, it } from 'vitest';

/**
 * The real services integration tests talk to, with their addresses. Override with
 * `TENANTKIT_POSTGRES_URL`, `TENANTKIT_MARIADB_URL`, `TENANTKIT_REDIS_URL`; MongoDB runs only
 * when `MONGODB_URL` is set.
 *
 * @example
 * ```ts
 * new pg.Pool({ connectionString: testServices.postgres.url });
 * ```
 */
export const testServices = {
  postgres: {
    url: process.env.TENANTKIT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  },
  mariadb: {
    url: process.env.TENANTKIT_MARIADB_URL ?? 'mysql://root@127.0.0.1:3306/test',
  },
  redis: {
    url: process.env.TENANTKIT_REDIS_URL ?? 'redis://127.0.0.1:6379',
  },
  mongodb: {
    url: process.env.MONGODB_URL,
  },
} as const;

/**
 * A service an integration test needs.
 *
 * @example
 * ```ts
 * const name: TestServiceName = 'redis';
 * ```
 */
export type TestServiceName = keyof typeof testServices;

function probeTcp(url: string, timeoutMs = 1500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.connect(Number(port), hostname.replace(/^\[|\]$/g, ''), () => finish(true));
  });
}

/**
 * Whether a service accepts TCP connections (MongoDB: whether `MONGODB_URL` is set and
 * reachable).
 *
 * @example
 * ```ts
 * if (await isServiceAvailable('postgres')) { ... }
 * ```
 */
export async function isServiceAvailable(name: TestServiceName): Promise<boolean> {
  const url = testServices[name].url;
  if (url === undefined) return false;
  return probeTcp(url);
}

/**
 * `describe` for tests that need a real service. When the service is missing:
 * - with `CI=true` the suite registers one failing test (CI must never pass silently);
 * - otherwise the suite is skipped and a loud warning is printed.
 * MongoDB is optional by design: without `MONGODB_URL` its suites are skipped, with a warning.
 *
 * @example
 * ```ts
 * await describeWithService('postgres', 'kysely tenant store on Postgres', () => {
 *   it('inserts', async () => { ... });
 * });
 * ```
 */
export async function describeWithService(
  name: TestServiceName,
  title: string,
  body: () => void,
): Promise<void> {
  if (await isServiceAvailable(name)) {
    describe(title, body);
    return;
  }
  const optional = name === 'mongodb' && testServices.mongodb.url === undefined;
  const reason = optional
    ? `${name}: MONGODB_URL is not set`
    : `${name} is not reachable at ${testServices[name].url ?? '(unset)'}`;
  if (process.env.CI === 'true' && !optional) {
    describe(title, () => {
      it(`needs ${name}`, () => {
        throw new Error(`Integration service missing in CI: ${reason}`);
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPED "${title}": ${reason}. These integration tests did not run.\n`);
  describe.skip(title, body);
}
