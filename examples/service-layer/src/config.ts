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
  /**
   * Proxies whose forwarding headers are believed (IPs or CIDRs): X-Forwarded-Host for tenant
   * resolution, X-Forwarded-For for the client IP the rate limits key by. Empty by default, so
   * a client cannot choose its own rate-limit key.
   */
  trustedProxies: string[];
  /** Secret of the admin routes (until @tenantkit/auth exists); random per start when unset. */
  adminToken: string;
  /** Creates the demo tenants on start when they do not exist. */
  seedDemoData: boolean;
  /** Request limits (see rate-limits.ts). The defaults suit production; tests lower them. */
  rateLimits: ExampleRateLimitConfig;
  /**
   * Bearer token of `GET /metrics` (Prometheus scrapes it with `authorization: { credentials }`).
   * Its own secret, not the admin token, so a scraper's credential cannot suspend tenants.
   * Random per start when unset.
   */
  metricsToken: string;
}

/** One fixed-window limit. */
export interface RateLimitWindow {
  /** Requests (points) per window, a whole number >= 1. */
  points: number;
  windowSeconds: number;
  /** How long a client that went over stays refused; 0 for no block. */
  blockSeconds: number;
}

/** The example's request limits; per-tenant budgets come from the plans (`rateLimits.requests`). */
export interface ExampleRateLimitConfig {
  /**
   * Replaces `rateLimits.requests.points` of the named plans, keeping their windows
   * (`RATE_LIMIT_PLAN_REQUESTS=free=5,pro=50`): for load tests and end-to-end tests, which
   * should not need a thousand requests to reach the free plan's limit.
   */
  planRequestPoints: Readonly<Record<string, number>>;
  /** Per user within a tenant, so one runaway script cannot spend its whole tenant's budget (`RATE_LIMIT_PER_USER=600/60`). */
  perUser: RateLimitWindow;
  /** Per client IP on every route, checked before the tenant is resolved (`RATE_LIMIT_PER_IP=1200/60`). */
  perIp: RateLimitWindow;
  /** Per client IP on sign-up, with a block (`RATE_LIMIT_SIGNUP=5/600/3600`: 5 per 10 minutes, then an hour out). */
  signUp: RateLimitWindow;
  /**
   * The HMAC key of the `pk` partition keys in the RateLimit headers (at least 16 characters,
   * `RATE_LIMIT_PARTITION_KEY_SECRET`). Unset: random per process, so a client talking to
   * several processes sees a different `pk` for one counter; set one secret for the fleet.
   */
  partitionKeySecret: string | undefined;
  /**
   * Processes sharing the Redis counters: while Redis is down each counts alone in memory,
   * with limits divided by this so the fleet still admits about the real limit
   * (`RATE_LIMIT_PROCESSES`, default 1).
   */
  processes: number;
}

const positiveInt = z.coerce.number().int().min(1).max(1_000_000_000);

/** `points/windowSeconds[/blockSeconds]`, e.g. `600/60` or `5/600/3600`. */
const windowSchema = z
  .string()
  .regex(/^\d+\/\d+(?:\/\d+)?$/, 'must be points/windowSeconds[/blockSeconds], e.g. 600/60')
  .transform((text, context): RateLimitWindow => {
    const [points, windowSeconds, blockSeconds = 0] = text.split('/').map(Number) as [number, number, number?];
    if (points < 1 || windowSeconds < 1) context.addIssue({ code: 'custom', message: 'points and windowSeconds must be >= 1' });
    return { points, windowSeconds, blockSeconds };
  });

/** `plan=points,plan=points`, e.g. `free=5,pro=50`. */
const planPointsSchema = z
  .string()
  .regex(/^(?:[a-z0-9][a-z0-9_-]*=\d+(?:,[a-z0-9][a-z0-9_-]*=\d+)*)?$/, 'must be plan=points,plan=points, e.g. free=5,pro=50')
  .transform((text, context) => {
    const entries = text === '' ? [] : text.split(',').map((entry) => entry.split('=') as [string, string]);
    const points = Object.fromEntries(entries.map(([plan, value]) => [plan, Number(value)]));
    if (Object.values(points).some((value) => value < 1)) context.addIssue({ code: 'custom', message: 'points must be >= 1' });
    return Object.freeze(points) as Readonly<Record<string, number>>;
  });

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
  RATE_LIMIT_PLAN_REQUESTS: planPointsSchema.prefault(''),
  RATE_LIMIT_PER_USER: windowSchema.prefault('600/60'),
  RATE_LIMIT_PER_IP: windowSchema.prefault('1200/60'),
  RATE_LIMIT_SIGNUP: windowSchema.prefault('5/600/3600'),
  RATE_LIMIT_PROCESSES: positiveInt.max(1_000).default(1),
  RATE_LIMIT_PARTITION_KEY_SECRET: z.string().min(16).optional(),
  METRICS_TOKEN: z.string().min(16).optional(),
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
    rateLimits: {
      planRequestPoints: parsed.RATE_LIMIT_PLAN_REQUESTS,
      perUser: parsed.RATE_LIMIT_PER_USER,
      perIp: parsed.RATE_LIMIT_PER_IP,
      signUp: parsed.RATE_LIMIT_SIGNUP,
      partitionKeySecret: parsed.RATE_LIMIT_PARTITION_KEY_SECRET,
      processes: parsed.RATE_LIMIT_PROCESSES,
    },
    metricsToken: parsed.METRICS_TOKEN ?? randomBytes(24).toString('base64url'),
  };
}
