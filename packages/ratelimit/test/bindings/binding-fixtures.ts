import { definePlans, memoryTenantStore, createTenantRegistry, type TenantRegistry } from '@tenantkit/tenant-context';
import { RateLimitError } from '../../src/errors.js';
import type { RateLimitStore } from '../../src/stores/rate-limit-store.js';
import { parseSfList, type SfItem } from '../http/structured-field-list.js';

/** Plans whose `requests` limit the plan-based policy reads. */
export const plans = definePlans({
  free: { rateLimits: { requests: { points: 2, windowSeconds: 60 } } },
  pro: { rateLimits: { requests: { points: 4, windowSeconds: 60 } } },
  enterprise: { rateLimits: { requests: { points: -1 } } },
});

/** A registry with tnt_free (free plan) and tnt_pro (pro plan). */
export async function tenantRegistry(): Promise<TenantRegistry> {
  const registry = createTenantRegistry({ store: memoryTenantStore(), plans: plans.planKeys, defaultPlan: 'free' });
  await registry.createTenant({ id: 'tnt_free', slug: 'free-co', name: 'Free Co', plan: 'free' });
  await registry.createTenant({ id: 'tnt_pro', slug: 'pro-co', name: 'Pro Co', plan: 'pro' });
  return registry;
}

/**
 * A store whose backend is unreachable: every call rejects, as the Redis store does when its
 * client is not ready. The limiter's failure policy decides what the request gets.
 */
export function unreachableStore(): RateLimitStore {
  const down = () => new Error('connect ECONNREFUSED 127.0.0.1:1');
  return {
    kind: 'unreachable',
    shared: true,
    limiter() {
      throw down();
    },
    consumeAll: () => Promise.reject(down()),
    close: async () => undefined,
  };
}

/** Parses one structured-field list header strictly (RFC 9651); throws on bad syntax. */
export function sfList(value: string | string[] | number | undefined): SfItem[] {
  if (typeof value !== 'string') throw new Error(`header missing or not a string: ${String(value)}`);
  return parseSfList(value);
}

/** The error class the bindings reject bad options with, for `toThrow` checks. */
export function expectConfigurationInvalid(run: () => unknown): RateLimitError {
  try {
    run();
  } catch (error) {
    if (error instanceof RateLimitError && error.code === 'CONFIGURATION_INVALID') return error;
    throw new Error(`expected CONFIGURATION_INVALID, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected CONFIGURATION_INVALID, nothing was thrown');
}
