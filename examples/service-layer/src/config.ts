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
  /** Secret of the operator's cross-tenant admin routes (not a tenant user's credential); random per start when unset. */
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
  /**
   * Where the app is reached from outside (`PUBLIC_BASE_URL`, default `http://localhost:<PORT>`):
   * the base of password-reset, verification and invitation links (never the request's Host
   * or X-Forwarded-Host), and the default token issuer. `https:`, or `http:` on localhost only.
   */
  publicBaseUrl: string;
  /** `NODE_ENV=production`: the mail log then names recipients only, never links. */
  production: boolean;
  /** Sign-in, tokens, sessions and API keys (see authentication.ts). */
  auth: ExampleAuthConfig;
}

/**
 * The example's @tenantkit/auth settings. Every value has a default that suits production, but
 * for the secrets: without `JWT_SIGNING_KEY` a key is generated per start (tokens die with the
 * process), without `API_KEY_PEPPER` a pepper is (API keys do too).
 */
export interface ExampleAuthConfig {
  /** `iss` of access tokens (`AUTH_ISSUER`, default the public base URL). */
  issuer: string;
  /** `aud` of access tokens (`AUTH_AUDIENCE`, default `<public base URL>/api`). */
  audience: string;
  /**
   * The token signing key (`JWT_SIGNING_KEY`: a private JWK as JSON, or a PKCS#8 PEM;
   * `JWT_SIGNING_KEY_ID`, `JWT_SIGNING_ALG` EdDSA | ES256 | RS256). `undefined`: generated at start.
   */
  signingKey: { kid: string; alg: 'EdDSA' | 'ES256' | 'RS256'; privateKey: string | Record<string, unknown> } | undefined;
  /** The pepper API keys are hashed with (`API_KEY_PEPPER`, at least 32 bytes; `API_KEY_PEPPER_ID`). */
  apiKeyHashKey: { id: string; secret: string };
  /** Whether `apiKeyHashKey` was generated for this process (no `API_KEY_PEPPER`). */
  apiKeyHashKeyGenerated: boolean;
  /**
   * The key of device tokens (`AUTH_DEVICE_TOKEN_SECRET`, at least 32 bytes, the same in every
   * process): a device that signed in before is exempt from the account-wide lockout an
   * attacker can trigger. `undefined`: auth draws one per process, so a restart forgets every device.
   */
  deviceTokenSecret: string | undefined;
  /** scrypt N (`AUTH_SCRYPT_COST`, a power of two; default 2^17). Tests lower it to stay fast. */
  scryptCost: number;
  /** Access-token lifetime (`AUTH_ACCESS_TOKEN_TTL_SECONDS`, default 900). */
  accessTokenTtlSeconds: number;
  /**
   * How long a rotated refresh token still returns the same new pair, for concurrent refreshes
   * (`AUTH_REFRESH_GRACE_SECONDS`, 0 to 60, default 10); after it a reuse revokes the family.
   */
  refreshGraceSeconds: number;
  /** Whether repeated failed sign-ins are answered ever more slowly (`AUTH_LOGIN_PROGRESSIVE_DELAY`, default true). */
  loginProgressiveDelay: boolean;
  /** The session cookie's `Secure` attribute: on unless the public base URL is plain http (localhost). */
  secureCookies: boolean;
  /** Log a line per mail the outbox holds (`MAIL_LOG`, default true); links only outside production. */
  mailLog: boolean;
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
  NODE_ENV: z.string().optional(),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  AUTH_ISSUER: z.string().min(1).max(2048).optional(),
  AUTH_AUDIENCE: z.string().min(1).max(2048).optional(),
  JWT_SIGNING_KEY: z.string().min(1).optional(),
  JWT_SIGNING_KEY_ID: z.string().regex(/^[\x21-\x7e]{1,128}$/).optional(),
  JWT_SIGNING_ALG: z.enum(['EdDSA', 'ES256', 'RS256']).optional(),
  API_KEY_PEPPER: z.string().refine((value) => Buffer.byteLength(value) >= 32, 'must be at least 32 bytes').optional(),
  API_KEY_PEPPER_ID: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).default('v1'),
  AUTH_DEVICE_TOKEN_SECRET: z.string().refine((value) => Buffer.byteLength(value) >= 32, 'must be at least 32 bytes').optional(),
  AUTH_SCRYPT_COST: z.coerce
    .number()
    .int()
    .min(2 ** 10)
    .max(2 ** 20)
    .refine((cost) => (cost & (cost - 1)) === 0, 'must be a power of two')
    .default(2 ** 17),
  AUTH_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  AUTH_REFRESH_GRACE_SECONDS: z.coerce.number().int().min(0).max(60).default(10),
  AUTH_LOGIN_PROGRESSIVE_DELAY: z.enum(['true', 'false']).default('true'),
  MAIL_LOG: z.enum(['true', 'false']).default('true'),
});

const KEY_TYPE_ALGORITHMS: Readonly<Record<string, 'EdDSA' | 'ES256' | 'RS256'>> = { OKP: 'EdDSA', EC: 'ES256', RSA: 'RS256' };

/** JWT_SIGNING_KEY: a private JWK (JSON) or a PEM; its algorithm from JWT_SIGNING_ALG, else the JWK. */
function signingKeyFrom(parsed: z.output<typeof envSchema>): ExampleAuthConfig['signingKey'] {
  const text = parsed.JWT_SIGNING_KEY;
  if (text === undefined) return undefined;
  if (!text.trimStart().startsWith('{')) {
    return { kid: parsed.JWT_SIGNING_KEY_ID ?? 'example-1', alg: parsed.JWT_SIGNING_ALG ?? 'EdDSA', privateKey: text };
  }
  let jwk: Record<string, unknown>;
  try {
    jwk = z.looseObject({ kty: z.string() }).parse(JSON.parse(text));
  } catch {
    throw new Error('JWT_SIGNING_KEY must be a private JWK (JSON) or a PEM');
  }
  const kid = parsed.JWT_SIGNING_KEY_ID ?? (typeof jwk.kid === 'string' ? jwk.kid : 'example-1');
  const alg = parsed.JWT_SIGNING_ALG ?? KEY_TYPE_ALGORITHMS[String(jwk.kty)] ?? 'EdDSA';
  return { kid, alg, privateKey: jwk };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ExampleConfig {
  const parsed = envSchema.parse(env);
  const publicBaseUrl = (parsed.PUBLIC_BASE_URL ?? `http://localhost:${parsed.PORT}`).replace(/\/+$/, '');
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
    publicBaseUrl,
    production: parsed.NODE_ENV === 'production',
    auth: {
      issuer: parsed.AUTH_ISSUER ?? publicBaseUrl,
      audience: parsed.AUTH_AUDIENCE ?? `${publicBaseUrl}/api`,
      signingKey: signingKeyFrom(parsed),
      apiKeyHashKey: { id: parsed.API_KEY_PEPPER_ID, secret: parsed.API_KEY_PEPPER ?? randomBytes(32).toString('base64url') },
      apiKeyHashKeyGenerated: parsed.API_KEY_PEPPER === undefined,
      deviceTokenSecret: parsed.AUTH_DEVICE_TOKEN_SECRET,
      scryptCost: parsed.AUTH_SCRYPT_COST,
      accessTokenTtlSeconds: parsed.AUTH_ACCESS_TOKEN_TTL_SECONDS,
      refreshGraceSeconds: parsed.AUTH_REFRESH_GRACE_SECONDS,
      loginProgressiveDelay: parsed.AUTH_LOGIN_PROGRESSIVE_DELAY === 'true',
      // Browsers drop Secure cookies on plain http; the links service allows http on localhost only.
      secureCookies: new URL(publicBaseUrl).protocol === 'https:',
      mailLog: parsed.MAIL_LOG === 'true',
    },
  };
}
