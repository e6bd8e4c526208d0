import {
  createAuth,
  createScryptHasher,
  createSigningKeySet,
  generateSigningKey,
  type ApiKeyScopeChecker,
  type AuthMemberships,
  type AuthStores,
  type RevocationChannel,
  type SigningKeyInput,
} from '@tenantkit/auth';
import { kyselyAuthStores, migrateAuthSchema } from '@tenantkit/auth/kysely';
import { redisAuthStores, redisRevocationChannel } from '@tenantkit/auth/redis';
import { createId } from '@tenantkit/core';
import type { RateLimitStore } from '@tenantkit/ratelimit';
import type { TenantLifecycle } from '@tenantkit/tenant-context';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { ExampleConfig } from './config.js';
import { createMailOutbox } from './mail-outbox.js';

/** How long a device stays trusted after a sign-in (auth's default, repeated for the cookie's Max-Age). */
const DEVICE_TOKEN_TTL_SECONDS = 90 * 86_400;

/** What {@link createExampleAuth} wires @tenantkit/auth to. */
export interface ExampleAuthOptions {
  config: ExampleConfig;
  /** The plain (plugin-free) handle: the auth stores name their tenants themselves. */
  db: Kysely<any>;
  /** With Redis: sessions, refresh families, revocations and one-time tokens live there, and revocations reach every process at once. */
  redis: Redis | undefined;
  /** tenant-context's membership service: sign-ins, refreshes and tenant switches are checked against it. */
  memberships: AuthMemberships;
  /** Checks that an API key's scopes are permissions its creator holds (rbac). */
  permissions: ApiKeyScopeChecker;
  /** The rate limits' store: the sign-in and reset throttles count there too (in Redis when configured). */
  rateLimitStore: RateLimitStore;
  lifecycle: TenantLifecycle<any>;
  /** Where notices go (the mail outbox's lines); default `console.info`. */
  log?: (line: string) => void;
}

/**
 * @tenantkit/auth on the example's database: accounts and API keys in SQL (migrated next to the
 * other tables); with Redis, sessions, refresh families, revocations and one-time tokens in Redis
 * and revocations announced over Redis pub/sub, so every process drops a revoked credential at
 * once. Offboarding deletes the tenant's API keys and revokes every token bound to the tenant.
 *
 * Secrets come from the config; when the signing key or the API-key pepper is not configured
 * one is generated for this process (`signingKey.generated`, `config.auth.apiKeyHashKeyGenerated`),
 * and everything issued with it dies with the process — fine for the quick start, never for
 * a deployment.
 *
 * @example
 * ```ts
 * const authentication = await createExampleAuth({ config, db, redis, memberships, permissions: rbac, rateLimitStore, lifecycle });
 * await authentication.auth.login({ email: 'alice@acme.example', password, tenantId }, { ip: '203.0.113.7' });
 * ```
 */
export async function createExampleAuth(options: ExampleAuthOptions) {
  const { config, db, redis, memberships, permissions, rateLimitStore, lifecycle } = options;
  const settings = config.auth;
  const log = options.log ?? ((line: string) => console.info(line));

  await migrateAuthSchema(db);
  const sqlStores = kyselyAuthStores(db);
  const redisKeyPrefix = `${config.redisKeyPrefix}auth:`;
  const stores: AuthStores = redis === undefined ? sqlStores : { ...sqlStores, ...redisAuthStores(redis, { keyPrefix: redisKeyPrefix }) };

  // A subscribed connection can run nothing else: the channel listens on a connection of its own.
  const subscriber = redis?.duplicate();
  const revocationChannel: RevocationChannel | undefined =
    redis === undefined || subscriber === undefined
      ? undefined
      : redisRevocationChannel({
          publisher: redis,
          subscriber,
          channelName: `${redisKeyPrefix}revocation`,
          onError: (error) => console.warn('auth revocation channel:', error),
        });

  const generated = settings.signingKey === undefined;
  const signingKey: SigningKeyInput = generated ? await generateSigningKey({ kid: `generated-${createId()}` }) : { ...settings.signingKey! };
  const keys = await createSigningKeySet({ keys: [signingKey] });

  const cookieName = (name: string) => (settings.secureCookies ? `__Host-${name}` : name);
  // Counter keys `<redisKeyPrefix>auth:login...` and `...auth:password-reset...`, next to the rate limits'.
  const throttlePrefix = `${config.redisKeyPrefix}auth`;
  const auth = createAuth({
    stores,
    keys,
    issuer: settings.issuer,
    audience: settings.audience,
    memberships,
    // Reset, verification and invitation links: from the configured URL, never from the request's Host.
    links: { baseUrl: config.publicBaseUrl },
    apiKeys: { hashKeys: [settings.apiKeyHashKey], prefix: 'tkex', permissions },
    hasher: createScryptHasher({ cost: settings.scryptCost }),
    throttle: {
      store: rateLimitStore,
      keyPrefix: `${throttlePrefix}:login`,
      ...(settings.loginProgressiveDelay ? {} : { progressiveDelay: false }),
    },
    resetThrottle: { store: rateLimitStore, keyPrefix: `${throttlePrefix}:password-reset`, progressiveDelay: false },
    signUpThrottle: { store: rateLimitStore, keyPrefix: `${throttlePrefix}:sign-up`, progressiveDelay: false },
    ...(settings.deviceTokenSecret === undefined ? {} : { deviceTokenSecret: settings.deviceTokenSecret }),
    deviceTokenTtlSeconds: DEVICE_TOKEN_TTL_SECONDS,
    accessTokenTtlSeconds: settings.accessTokenTtlSeconds,
    refresh: { graceSeconds: settings.refreshGraceSeconds },
    ...(revocationChannel === undefined ? {} : { revocationChannel }),
    // `__Host-` makes browsers refuse the cookie unless it is Secure, Path=/ and host-only.
    authenticator: { sessionCookieName: cookieName('tk_session') },
  });

  const outbox = createMailOutbox({
    events: auth.events,
    logLinks: !config.production,
    ...(settings.mailLog ? { log } : {}),
  });

  lifecycle.useOffboardingStep('delete-data', {
    name: 'auth',
    async run({ tenantId }) {
      // Tokens and sessions bound to the tenant stop working everywhere (tenant epoch), its keys go.
      await auth.revocation.revokeTenant(tenantId);
      const removed = await stores.apiKeys.deleteByTenant(tenantId);
      return { location: 'sql:tenantkit_auth_api_keys', details: { removedApiKeys: removed } };
    },
  });

  async function close(): Promise<void> {
    outbox.close();
    // Flushes API-key usage (a SQL write) and stops the channel's listeners: before the database and Redis close.
    await auth.close();
    await revocationChannel?.close();
    await subscriber?.quit();
  }

  return {
    auth,
    /** The stores themselves, for seeding accounts with fixed ids and for tests that check what is stored. */
    stores,
    /** The mails auth asked for (reset, verification, invitation links): the example has no mailer. */
    outbox,
    /** The device-token cookie: proof of an earlier sign-in from this device (not a credential), 90 days. */
    deviceCookie: { name: cookieName('tk_device'), maxAgeSeconds: DEVICE_TOKEN_TTL_SECONDS },
    /** The active signing key's id, and whether it was generated at start (tokens then die with the process). */
    signingKey: { kid: signingKey.kid, generated },
    close,
  };
}

export type ExampleAuth = Awaited<ReturnType<typeof createExampleAuth>>;
