import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type DatabaseTarget, databaseTargetFromUrl } from './database.js';

/** Everything the example apps read from the environment; every value has a no-server default. */
export interface ExampleConfig {
  host: string;
  port: number;
  database: DatabaseTarget;
  /** Usage counters live in Redis when set, else in the SQL database. */
  redisUrl: string | undefined;
  /** Prefix of the example's Redis keys. */
  redisKeyPrefix: string;
  /** Tenants are also reachable as `<slug>.<baseDomain>`; it cannot be claimed as a custom domain. */
  baseDomain: string;
  /** Proxies whose X-Forwarded-Host is believed (IPs or CIDRs). */
  trustedProxies: string[];
  /** Secret of the admin routes (until @tenantkit/auth exists); random per start when unset. */
  adminToken: string;
  /** Creates the demo tenants on start when they do not exist. */
  seedDemoData: boolean;
}

const envSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  DATABASE_URL: z.string().optional(),
  PGLITE_DATA_DIR: z.string().optional(),
  REDIS_URL: z.string().optional(),
  REDIS_KEY_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]{1,64}$/).default('tk-example:'),
  BASE_DOMAIN: z.string().default('tenantkit.localhost'),
  TRUSTED_PROXIES: z.string().default(''),
  ADMIN_TOKEN: z.string().min(16).optional(),
  SEED_DEMO_DATA: z.enum(['true', 'false']).default('true'),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const parsed = envSchema.parse(env);
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    database: databaseTargetFromUrl(parsed.DATABASE_URL, parsed.PGLITE_DATA_DIR),
    redisUrl: parsed.REDIS_URL === '' ? undefined : parsed.REDIS_URL,
    redisKeyPrefix: parsed.REDIS_KEY_PREFIX,
    baseDomain: parsed.BASE_DOMAIN,
    trustedProxies: parsed.TRUSTED_PROXIES.split(',').map((entry) => entry.trim()).filter(Boolean),
    adminToken: parsed.ADMIN_TOKEN ?? randomBytes(24).toString('base64url'),
    seedDemoData: parsed.SEED_DEMO_DATA === 'true',
  };
}
