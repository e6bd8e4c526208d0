import { z } from 'zod';
import type { RedisKeySegment } from '../../adapters/redis/tenant-key.js';
import { TenantContextError } from '../../errors.js';
import { parseOrThrow } from '../../validation.js';
import { resolveExplicitTenant } from './explicit-tenant-access.js';
import { keyspaceSelectionShape, resolveKeyspace, type KeyspaceSelection } from './keyspace-option.js';
import { clientKeyPrefix, isRedisClient, type RedisClient } from './redis-client-guards.js';
import { scanTargetKeys, tenantScanTarget, unlinkTargetKeys } from './tenant-key-scan.js';

/** SCAN COUNT hint and UNLINK batch size when none is given. */
const DEFAULT_BATCH = 500;
const MAX_BATCH = 10_000;

/**
 * Options of {@link purgeTenantKeys}.
 *
 * @example
 * ```ts
 * const options: PurgeTenantKeysOptions = { prefix: 'app', tenantId: 'tnt_acme', count: 1000 };
 * ```
 */
export type PurgeTenantKeysOptions = KeyspaceSelection & {
  /**
   * The tenant whose keys go. Default: the tenant in scope. Another tenant may be named only
   * inside `runAsSystem`.
   */
  tenantId?: string;
  /** SCAN COUNT hint and UNLINK batch size, 1 to 10,000; default 500. */
  count?: number;
};

/**
 * Options of {@link scanTenantKeys}.
 *
 * @example
 * ```ts
 * const options: ScanTenantKeysOptions = { prefix: 'app', segments: ['cache'] };
 * ```
 */
export type ScanTenantKeysOptions = PurgeTenantKeysOptions & {
  /** Only keys whose segments start with these; default all of the tenant's keys. */
  segments?: readonly RedisKeySegment[];
};

const purgeOptionsSchema = z.strictObject({
  ...keyspaceSelectionShape,
  // Checked by resolveExplicitTenant, which answers TENANT_IDENTIFIER_INVALID.
  tenantId: z.unknown().optional(),
  count: z.number().int().min(1).max(MAX_BATCH).optional(),
});

const scanOptionsSchema = purgeOptionsSchema.extend({
  segments: z.array(z.union([z.string(), z.number()])).max(31).optional(),
});

function assertClient(redis: unknown, what: string): asserts redis is RedisClient {
  if (!isRedisClient(redis)) {
    throw new TenantContextError('CONFIGURATION_INVALID', `${what} needs an ioredis Redis or Cluster client`);
  }
}

/**
 * Deletes every key of one tenant in a keyspace: `SCAN MATCH <prefix>:{<tenantId>}:*` (the
 * pattern escaped, so `tnt_a` never matches `tnt_ab`'s keys) with `UNLINK` in batches — never
 * `KEYS` (it blocks the server) nor `FLUSHDB` (it takes everybody's keys). On a Cluster every
 * master is scanned. Resolves how many keys were removed. Idempotent: a second run removes 0.
 *
 * It runs for the tenant in scope (offboarding steps run in the tenant's scope), or inside
 * `runAsSystem` for the tenant named by `tenantId`. Stop the tenant's writers first (offboarding
 * suspends it): SCAN sees every key that exists for the whole scan, not keys written meanwhile.
 * A client `keyPrefix` (without braces) is honoured.
 *
 * @throws TenantContextError `TENANT_SCOPE_REQUIRED` outside a scope (or in the system scope
 *   without `tenantId`); `TENANT_ISOLATION_VIOLATION` for another tenant than the one in scope;
 *   `TENANT_IDENTIFIER_INVALID`; `VALIDATION_FAILED` for bad options; `CONFIGURATION_INVALID` for
 *   a client that is not ioredis or has a keyPrefix with braces; `STORE_UNAVAILABLE` when Redis
 *   fails (keys removed so far stay removed; run it again).
 * @example
 * ```ts
 * import { purgeTenantKeys } from '@tenantkit/tenant-context/redis';
 *
 * const removed = await runAsSystem({ reason: 'offboard tnt_acme', actor: 'ops' }, () =>
 *   purgeTenantKeys(redis, { prefix: 'app', tenantId: 'tnt_acme' }),
 * );
 * ```
 */
export async function purgeTenantKeys(redis: RedisClient, options: PurgeTenantKeysOptions): Promise<number> {
  assertClient(redis, 'purgeTenantKeys()');
  const parsed = parseOrThrow(purgeOptionsSchema, options, 'VALIDATION_FAILED', 'purgeTenantKeys() options');
  const keyspace = resolveKeyspace(parsed, 'VALIDATION_FAILED', 'purgeTenantKeys()');
  const tenantId = resolveExplicitTenant(parsed.tenantId as string | undefined, 'purgeTenantKeys()');
  return unlinkTargetKeys(redis, tenantScanTarget(`${keyspace.prefix}:`, tenantId, []), parsed.count ?? DEFAULT_BATCH);
}

/**
 * Iterates over one tenant's keys in a keyspace (optionally only those below `segments`) with
 * SCAN, never KEYS; on a Cluster over every master. Same scope rules as
 * {@link purgeTenantKeys}, checked when called. Keys come without the client's `keyPrefix`;
 * as with any SCAN, a key may come twice, and keys written during the scan may be missed.
 *
 * @throws TenantContextError as {@link purgeTenantKeys} (the scope and options when called, Redis
 *   failures while iterating).
 * @example
 * ```ts
 * for await (const key of scanTenantKeys(redis, { prefix: 'app', segments: ['session'] })) {
 *   console.log(key); // 'app:{tnt_acme}:session:...'
 * }
 * ```
 */
export function scanTenantKeys(redis: RedisClient, options: ScanTenantKeysOptions): AsyncIterable<string> {
  assertClient(redis, 'scanTenantKeys()');
  const parsed = parseOrThrow(scanOptionsSchema, options, 'VALIDATION_FAILED', 'scanTenantKeys() options');
  const keyspace = resolveKeyspace(parsed, 'VALIDATION_FAILED', 'scanTenantKeys()');
  const tenantId = resolveExplicitTenant(parsed.tenantId as string | undefined, 'scanTenantKeys()');
  const target = tenantScanTarget(`${keyspace.prefix}:`, tenantId, parsed.segments ?? []);
  clientKeyPrefix(redis);
  const count = parsed.count ?? DEFAULT_BATCH;
  return {
    async *[Symbol.asyncIterator]() {
      for await (const batch of scanTargetKeys(redis, target, count)) yield* batch;
    },
  };
}
