import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type DatabaseTarget, databaseTargetFromUrl } from './database.js';

/** Everything the example apps read from the environment; every value has a no-server default. */
export interface ExampleConfig {
  host: string;
  port: number;
  database: DatabaseTarget;
  /**
   * With Redis: usage counters and the per-tenant project-list cache live there, and
   * offboarding purges the tenant's keys. Without: counters live in the SQL database, and
   * nothing is cached.
   */
  redisUrl: string | undefined;
  /**
   * What every Redis key of the example starts with, ending in `:` (keys are
   * `<prefix>{<tenantId>}:...`): words of `A-Z a-z 0-9 _ -` joined by `:`.
   */
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
  // The part before the last ':' is the tenant keyspace prefix, so a bare 'myapp' means 'myapp:'.
  REDIS_KEY_PREFIX: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_-]+(?::[A-Za-z0-9_-]+)*:?$/)
    .transform((prefix) => (prefix.endsWith(':') ? prefix : `${prefix}:`))
    .default('tk-example:'),
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
