import { z } from 'zod';
import { stepHookNameSchema } from '../../lifecycle/lifecycle-input-schemas.js';
import type { OffboardingStepHook } from '../../lifecycle/lifecycle-steps.js';
import type { JsonValue } from '../../tenant.js';
import { parseOrThrow } from '../../validation.js';
import { keyspaceSelectionShape, resolveKeyspace, type KeyspaceSelection } from './keyspace-option.js';
import { isRedisClient, type RedisClient } from './redis-client-guards.js';
import { purgeTenantKeys } from './purge-tenant-keys.js';

/**
 * Options of {@link createTenantKeysPurgeStep}.
 *
 * @example
 * ```ts
 * const options: TenantKeysPurgeStepOptions = { redis, prefix: 'app' };
 * ```
 */
export type TenantKeysPurgeStepOptions = KeyspaceSelection & {
  /** An ioredis `Redis` or `Cluster`. */
  redis: RedisClient;
  /** The step name (`delete-data:<name>` in the run); default `'redis-keys'`. Unique per phase. */
  name?: string;
  /** SCAN COUNT hint and UNLINK batch size, 1 to 10,000; default 500. */
  count?: number;
};

const optionsSchema = z.strictObject({
  ...keyspaceSelectionShape,
  redis: z.custom<RedisClient>(isRedisClient, 'must be an ioredis Redis or Cluster'),
  name: stepHookNameSchema.optional(),
  count: z.number().int().min(1).max(10_000).optional(),
});

/**
 * An offboarding step for the lifecycle's `delete-data` phase that deletes every key of the
 * tenant being offboarded in one keyspace, with {@link purgeTenantKeys} (SCAN + UNLINK, never
 * KEYS or FLUSHDB). Steps run in the tenant's scope, so it can purge only that tenant. It is
 * idempotent — a resumed run purges again and finds nothing — and records
 * `{ location: 'redis:<pattern>', details: { removedKeys } }` in the run's artifacts. Register
 * one step per keyspace (with distinct names).
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for a bad client or options.
 * @example
 * ```ts
 * import { createTenantKeysPurgeStep } from '@tenantkit/tenant-context/redis';
 *
 * lifecycle.useOffboardingStep('delete-data', createTenantKeysPurgeStep({ redis, prefix: 'app' }));
 * ```
 */
export function createTenantKeysPurgeStep<Settings = Record<string, JsonValue>>(
  options: TenantKeysPurgeStepOptions,
): OffboardingStepHook<Settings> {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createTenantKeysPurgeStep() options');
  const keyspace = resolveKeyspace(parsed, 'CONFIGURATION_INVALID', 'createTenantKeysPurgeStep()');
  const { redis } = parsed;
  const count = parsed.count ?? 500;
  return Object.freeze({
    name: parsed.name ?? 'redis-keys',
    async run({ tenantId }: { readonly tenantId: string }) {
      const removedKeys = await purgeTenantKeys(redis, { keyspace, tenantId, count });
      return { location: `redis:${keyspace.patternFor(tenantId)}`, details: { removedKeys } };
    },
  });
}
