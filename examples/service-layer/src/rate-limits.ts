import { isTenantkitError } from '@tenantkit/core';
import {
  UNKNOWN_CLIENT_IP,
  createClientIpResolver,
  createRateLimiter,
  memoryRateLimitStore,
  rateLimitHeaders,
  rateLimitResponseForDecision,
  rateLimitResponseForError,
  type RateLimitEvent,
  type RateLimiter,
  type RateLimitRefusal,
  type RateLimitStore,
} from '@tenantkit/ratelimit';
import { redisRateLimitStore } from '@tenantkit/ratelimit/redis';
import type { PlanCatalog } from '@tenantkit/tenant-context';
import type { Redis } from 'ioredis';
import type { ExampleConfig } from './config.js';

/**
 * The example's policy names. They are part of the store keys, of the `RateLimit-Policy` /
 * `RateLimit` headers and of the 429 body, so they stay stable.
 *
 * @example
 * ```ts
 * await limits.edge.check({ ip }, { policies: [exampleRateLimitPolicies.signUp] });
 * ```
 */
export const exampleRateLimitPolicies = {
  /** Per client IP, every route, before the tenant is resolved. */
  ip: 'ip',
  /** Per client IP, sign-up only, with a block; fails closed. */
  signUp: 'signup',
  /** Per tenant, from its plan (`rateLimits.requests`). */
  tenant: 'tenant',
  /** Per user within a tenant. */
  user: 'user',
} as const;

/**
 * What the edge check of one request answers: the headers to send, and a refusal to send
 * instead of going on (429 with `Retry-After`, or 503 when the sign-up policy's store is down).
 *
 * @example
 * ```ts
 * const { headers, refusal } = await limits.limitAtEdge({ remoteAddress: '203.0.113.7', forwardedFor: undefined });
 * ```
 */
export interface EdgeLimitResult {
  readonly headers: Readonly<Record<string, string>>;
  readonly refusal?: RateLimitRefusal;
}

/** What {@link createExampleRateLimits} wires the limiters to. */
export interface ExampleRateLimitsOptions {
  config: ExampleConfig;
  /** The catalog the `tenant` policy reads its budget from (the same one quotas use). */
  plans: PlanCatalog;
  /** With Redis, every process of the app shares the counters. */
  redis: Redis | undefined;
  /** Store outages and recoveries; default: a warning on the console. */
  onStoreEvent?: (limiter: 'edge' | 'tenant', event: Exclude<RateLimitEvent, { type: 'decision' }>) => void;
}

/**
 * The example's request limits, as two limiters at two points of the request flow:
 *
 * - `edge`, before tenant resolution: `ip` on every request, `signup` on `POST /signup`. Per
 *   IP *before* resolution, because resolution itself costs (a registry read per unknown
 *   slug or host, cached only per value): a flood of made-up tenants is cut off here, before
 *   it reaches the database. The price is a second store round trip per request; a tenant's
 *   policies cannot be checked this early, since its plan is not known yet.
 * - `tenant`, after authentication and before authorization (resolve tenant → authenticate →
 *   rate limit → authorize): `tenant` (the plan's budget) and `user` (per user within the
 *   tenant), checked together in one round trip and all-or-nothing, so a user refused by
 *   their own limit spends nothing of the tenant's budget. After authentication, so a
 *   stranger's requests (refused with 401 or 404 anyway) cannot drain a tenant's budget; before
 *   authorization, so requests refused by rbac still count (probing costs budget).
 *
 * Counters live in process memory without Redis (one process only) and in Redis with it, under
 * `<redisKeyPrefix>rl:<policy>:{<hash tag>}:...`. Counters expire with their window, so
 * offboarding leaves them to expire rather than purging them.
 *
 * Failure policy, for the Redis deployment (memory never fails):
 * - request limits (`ip`, `tenant`, `user`) use insurance: each process counts in memory, at
 *   the limit divided by `config.rateLimits.processes`, until Redis answers again. A Redis
 *   outage thus neither takes the API down (closed) nor lifts every limit (open).
 * - `signup` fails closed (503 `STORE_UNAVAILABLE`): a sign-up creates a tenant, its rows and
 *   its roles, and mass sign-up is what a bot does while limits are weak. Process-local
 *   counters would give it N processes × the limit per IP; refusing sign-ups for the minutes
 *   Redis is down costs real users one retry.
 *
 * @example
 * ```ts
 * const limits = createExampleRateLimits({ config, plans: examplePlans, redis });
 * const decision = await limits.tenant.check({ tenantId: 'tnt_1', plan: 'free', userId: 'usr_alice' });
 * console.log(limits.prometheusText());
 * await limits.close();
 * ```
 */
export function createExampleRateLimits(options: ExampleRateLimitsOptions) {
  const { config, plans, redis } = options;
  const { perIp, perUser, signUp, processes } = config.rateLimits;
  const onStoreEvent =
    options.onStoreEvent ??
    ((limiter, event) => {
      if (event.type === 'store-failed') console.warn(`rate limits (${limiter}): store down, failure policies in force`, event.error);
      else console.warn(`rate limits (${limiter}): store recovered`);
    });

  // One store for both limiters: the policy names keep their keys apart.
  const store: RateLimitStore = redis === undefined ? memoryRateLimitStore() : redisRateLimitStore(redis);
  const keyPrefix = `${config.redisKeyPrefix}rl`;
  const common = { store, keyPrefix, failure: 'insurance', insurance: { divideBy: processes } } as const;

  // Whether each limiter's store answers, for the metrics (set from the limiters' events).
  const storeUp = { edge: true, tenant: true };
  const eventsOf = (limiter: 'edge' | 'tenant') => (event: RateLimitEvent) => {
    if (event.type === 'decision') return;
    storeUp[limiter] = event.type === 'store-recovered';
    onStoreEvent(limiter, event);
  };

  const edge: RateLimiter = createRateLimiter({
    ...common,
    policies: [
      { name: exampleRateLimitPolicies.ip, by: ['ip'], points: perIp.points, duration: perIp.windowSeconds, blockDuration: perIp.blockSeconds },
      {
        name: exampleRateLimitPolicies.signUp,
        by: ['ip'],
        points: signUp.points,
        duration: signUp.windowSeconds,
        blockDuration: signUp.blockSeconds,
        failure: 'closed',
      },
    ],
    onEvent: eventsOf('edge'),
  });

  const tenant: RateLimiter = createRateLimiter({
    ...common,
    plans,
    policies: [
      { name: exampleRateLimitPolicies.tenant, by: ['tenant'], fromPlan: 'requests' },
      {
        name: exampleRateLimitPolicies.user,
        by: ['tenant', 'user'],
        points: perUser.points,
        duration: perUser.windowSeconds,
        blockDuration: perUser.blockSeconds,
      },
    ],
    onEvent: eventsOf('tenant'),
  });

  /**
   * What every rate-limit binding of the app is given besides its limiter, so the bindings and
   * {@link limitAtEdge} agree on the client IP and the headers' partition keys.
   */
  const bindingOptions = Object.freeze({
    trustedProxies: config.trustedProxies,
    ...(config.rateLimits.partitionKeySecret === undefined ? {} : { partitionKeySecret: config.rateLimits.partitionKeySecret }),
  });
  const headerOptions = bindingOptions.partitionKeySecret === undefined ? {} : { partitionKeySecret: bindingOptions.partitionKeySecret };
  const resolveClientIp = createClientIpResolver({ trustedProxies: config.trustedProxies });

  /**
   * The edge check for a binding that cannot run the framework plugin at this point: Fastify
   * takes `rateLimitPlugin` once per app (its request decoration), and the Fastify app gives
   * it the tenant stage, which needs per-route costs. The same steps as the plugin: the client
   * IP through the trusted proxies only, one check, the IETF headers, the coded refusal.
   * Errors other than a closed policy's `STORE_UNAVAILABLE` are the app's error handler's.
   */
  async function limitAtEdge(
    peer: { remoteAddress: string | undefined; forwardedFor: string | string[] | undefined },
    policies: readonly string[] = [exampleRateLimitPolicies.ip],
  ): Promise<EdgeLimitResult> {
    // No peer address (a socket that closed before the check): such requests share one counter
    // rather than skip the edge limit, since the handler would still run (sign-up creates tenants).
    const ip = resolveClientIp(peer.remoteAddress, peer.forwardedFor) ?? UNKNOWN_CLIENT_IP;
    let decision;
    try {
      decision = await edge.check({ ip }, { policies });
    } catch (error) {
      if (isTenantkitError(error, 'STORE_UNAVAILABLE')) return { headers: {}, refusal: rateLimitResponseForError(error) };
      throw error;
    }
    const headers = rateLimitHeaders(decision, headerOptions);
    const refusal = rateLimitResponseForDecision(decision);
    return refusal === undefined ? { headers } : { headers, refusal: { ...refusal, headers: { ...headers, ...refusal.headers } } };
  }

  /**
   * Prometheus text: admitted and rejected requests per tenant (the noisy-neighbour view),
   * the edge's decisions (no tenant yet: all under the metering's no-tenant label), and
   * whether the store answers.
   * Counters are this process's, since it started; Prometheus sums the processes.
   */
  function prometheusText(): string {
    const gauge = [
      '# HELP tenantkit_ratelimit_store_up Whether the rate-limit store answers (0: failure policies in force).',
      '# TYPE tenantkit_ratelimit_store_up gauge',
      ...(['edge', 'tenant'] as const).map((limiter) => `tenantkit_ratelimit_store_up{limiter="${limiter}",store="${store.kind}"} ${storeUp[limiter] ? 1 : 0}`),
      '',
    ].join('\n');
    return [
      tenant.metering?.toPrometheusText() ?? '',
      edge.metering?.toPrometheusText({ metricName: 'tenantkit_ratelimit_edge_requests_total' }) ?? '',
      gauge,
    ].join('');
  }

  /**
   * The client IP of a request by the same trusted-proxy rules the limiters use (X-Forwarded-For
   * only from a configured proxy), or `null` without a peer address: for whatever else keys by
   * the client, such as the sign-in throttle.
   */
  function clientIp(peer: { remoteAddress: string | undefined; forwardedFor: string | string[] | undefined }): string | null {
    return resolveClientIp(peer.remoteAddress, peer.forwardedFor) ?? null;
  }

  async function close(): Promise<void> {
    await edge.close();
    await tenant.close();
    // Passed in, so the limiters leave it open; it never closes the caller's Redis client.
    await store.close();
  }

  return {
    /** Per IP, before tenant resolution: `ip` everywhere, `signup` on sign-up. */
    edge,
    /** Per tenant (plan budget) and per user within it, after authentication. */
    tenant,
    /** The store both limiters count in (`kind`: `memory` or `redis`). */
    store,
    bindingOptions,
    limitAtEdge,
    clientIp,
    prometheusText,
    close,
  };
}

export type ExampleRateLimits = ReturnType<typeof createExampleRateLimits>;
