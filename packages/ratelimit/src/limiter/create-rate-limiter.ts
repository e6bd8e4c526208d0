import { systemClock } from '@tenantkit/core';
import { createAccessList } from '../access-lists/create-access-list.js';
import { RateLimitError } from '../errors.js';
import { rateLimitErrorForDecision } from '../http/rate-limit-response.js';
import { createTenantMetering } from '../metering/create-tenant-metering.js';
import { normalizeRateLimiterOptions } from '../policies/normalize-policies.js';
import { memoryRateLimitStore } from '../stores/memory-rate-limit-store.js';
import type { RateLimitStore } from '../stores/rate-limit-store.js';
import { createPolicyCharger } from './charge-policies.js';
import { compilePolicies, type CompiledPolicy } from './compiled-policy.js';
import { createCheck } from './create-check.js';
import { createKeyOperations } from './key-operations.js';
import { eventEmitterFor } from './limiter-events.js';
import type { RateLimiter, RateLimiterOptions } from './rate-limiter.js';
import { createStoreCallGuard } from './store-call-guard.js';

/**
 * Creates a rate limiter: every policy of a request checked together, the most restrictive
 * result deciding, with limits from the tenant's plan, all-or-nothing charging, allow and deny
 * lists, shadow policies, per-tenant metering and a failure policy for store outages.
 *
 * Options are validated now (`CONFIGURATION_INVALID` listing every issue), and so is every
 * plan's `rateLimits` entry a `fromPlan` policy reads. A check then does no schema validation:
 * policies, key builders and store specs are precomputed.
 *
 * **check(subject, { policies?, cost? })**
 * 1. Tenant: `subject.tenantId`, else the ambient tenant scope's (`TENANT_SCOPE_CONFLICT` when
 *    both are set and differ; `TENANT_SCOPE_REQUIRED` when a tenant-keyed policy applies and
 *    there is neither). Plan: `subject.plan`, else the scope's tenant record's plan.
 * 2. The deny list refuses (`'deny-listed'`), the allow list admits (`'allow-listed'`), both
 *    without touching the store.
 * 3. Each selected policy whose fields the subject has is charged `cost` points in one
 *    `store.consumeAll` (unlimited-plan policies are skipped). A refused request spends no
 *    admitting policy's budget.
 * 4. The most restrictive outcome decides; shadow policies only report (`'shadow-limited'`).
 * 5. The decision is metered per tenant and reported to `onEvent` as a `'decision'`.
 *
 * **Store failures.** A `consumeAll` (or per-key call) that rejects or takes longer than
 * `storeTimeoutMs` (measured with `clock`) is answered by each policy's failure policy:
 * `'open'` admits (`degraded: 'open'`), `'closed'` throws `STORE_UNAVAILABLE` (503; one closed
 * policy in a request suffices), `'insurance'` counts on an in-process memory store with the
 * points divided by `insurance.divideBy` (`degraded: 'insurance'`). A shadow policy never
 * fails closed (it answers as `'open'`). Every call tries the store first, so limiting returns
 * to the store as soon as it answers; `onEvent` hears `'store-failed'` once per outage and
 * `'store-recovered'` once after it, when the store has answered for `recoveryConfirmMs`
 * (default 1000) with no failure in between (no flapping while it fails for some keys only).
 * A store answer arriving after its timeout is dropped,
 * never an unhandled rejection. The timeout applies to shared stores (`store.shared`): an
 * in-process store such as the memory store settles in microtasks, before any timer could
 * fire, so wrapping its calls would only slow every check down.
 *
 * **Per-key operations** (`consume`, `penalty`, `reward`, `block`, `get`, `delete`, `status`)
 * go through `store.limiter(spec)`, on the same keys `check` counts, with the same failure
 * handling, except that while the store is down an `'open'` policy's operations other than
 * `consume` use the insurance store. On a plan where a policy is unlimited they count nothing:
 * `consume` admits with an infinite `limit`, `get` finds no counter.
 *
 * @throws `CONFIGURATION_INVALID` for bad options or plan entries.
 * @example
 * ```ts
 * const limiter = createRateLimiter({
 *   store: redisRateLimitStore(redis),
 *   plans,
 *   policies: [
 *     { name: 'tenant', by: ['tenant'], fromPlan: 'requests' },
 *     { name: 'user', by: ['tenant', 'user'], points: 600, duration: 60 },
 *     { name: 'ip', by: ['ip'], points: 1200, duration: 60, failure: 'open' },
 *   ],
 * });
 * const decision = await runWithTenant(tenant, () => limiter.check({ userId: 'u_1', ip: '203.0.113.7' }));
 * if (!decision.allowed) reply.code(429).header('Retry-After', Math.ceil(decision.retryAfterMs / 1000));
 * ```
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const normalized = normalizeRateLimiterOptions(options);
  const policies = compilePolicies(normalized);
  const policyIndex = new Map(policies.map((policy, index) => [policy.name, index]));
  const allowList = normalized.allowList === undefined ? undefined : createAccessList(normalized.allowList);
  const denyList = normalized.denyList === undefined ? undefined : createAccessList(normalized.denyList);
  const metering = normalized.metering === false ? undefined : createTenantMetering({ maxTenants: normalized.metering.maxTenants });

  const ownsStore = normalized.store === undefined;
  const store = normalized.store ?? memoryRateLimitStore();
  let insurance: RateLimitStore | undefined;
  const insuranceStore = () => (insurance ??= memoryRateLimitStore({ kind: 'memory-insurance' }));
  const emit = eventEmitterFor(normalized.onEvent);
  // In-process stores settle in microtasks, which no timer can overtake: no timeout needed.
  const timeouts = store.shared !== false;
  const guard = createStoreCallGuard({
    timeoutMs: normalized.storeTimeoutMs,
    recoveryConfirmMs: normalized.recoveryConfirmMs,
    timeouts,
    clock: normalized.clock ?? systemClock,
    emit,
  });
  const charger = createPolicyCharger({ store, guard, insuranceStore });

  function indexOfPolicy(name: string): number {
    const index = typeof name === 'string' ? policyIndex.get(name) : undefined;
    if (index === undefined) {
      throw new RateLimitError('RATE_LIMIT_POLICY_NOT_FOUND', `The rate limiter has no policy "${String(name)}"`, {
        details: { policy: String(name) },
      });
    }
    return index;
  }

  const policyNamed = (name: string): CompiledPolicy => policies[indexOfPolicy(name)]!;

  const check = createCheck({
    policies,
    indexOfPolicy,
    allowList,
    denyList,
    charger,
    guard,
    // A synchronous answer is only taken where no timeout could have cut it short.
    consumeAllSync: !timeouts && typeof store.consumeAllSync === 'function' ? store.consumeAllSync.bind(store) : undefined,
    metering,
    emitDecision: normalized.onEvent === undefined ? undefined : emit,
  });

  return {
    check,

    async enforce(subject, checkOptions) {
      const decision = await check(subject, checkOptions);
      const refusal = rateLimitErrorForDecision(decision);
      if (refusal !== undefined) throw refusal;
      return decision;
    },

    ...createKeyOperations({ store, insuranceStore, guard, policyNamed, policies }),

    limitFor(policy, plan) {
      return policyNamed(policy).limitFor(plan)?.limit;
    },

    policyNames: Object.freeze(policies.map((policy) => policy.name)),

    metering,

    async close() {
      guard.close();
      await Promise.all([ownsStore ? store.close() : undefined, insurance?.close()]);
    },
  };
}
