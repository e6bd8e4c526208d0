import { assertTenantId } from '../../identifiers.js';

/**
 * The Redis key of one of a tenant's structures: `<prefix>{<tenantId>}:<part>:<part>...`.
 *
 * The tenant id sits in a `{...}` hash tag, so Redis Cluster puts every key of a tenant in the
 * same slot: multi-key commands and scripts over one tenant's keys stay legal, and a tenant's
 * data can be found and purged by SCAN over `<prefix>{<tenantId>}:*`. Tenant ids are checked
 * (`[A-Za-z0-9_-]{1,64}`), so an id can never hold a `}` that would end the tag early or a `*`
 * that would widen such a SCAN pattern; the prefix must hold no brace either (checked when a
 * store is created).
 *
 * @throws TenantContextError `TENANT_IDENTIFIER_INVALID` for a malformed tenant id.
 *
 * @example
 * ```ts
 * tenantRedisKey('tk:', 'tnt_a', 'usage'); // 'tk:{tnt_a}:usage'
 * ```
 */
export function tenantRedisKey(prefix: string, tenantId: string, ...parts: readonly string[]): string {
  assertTenantId(tenantId);
  return `${prefix}{${tenantId}}:${parts.join(':')}`;
}
