import { z } from 'zod';
import {
  parseTenantRedisKey,
  tenantRedisKey,
  tenantRedisKeyPattern,
  type ParsedTenantRedisKey,
  type RedisKeySegment,
} from '../../adapters/redis/tenant-key.js';
import { TenantContextError } from '../../errors.js';
import { requireTenantId } from '../../scope/tenant-scope.js';
import { parseOrThrow } from '../../validation.js';
import { resolveExplicitTenant } from './explicit-tenant-access.js';

/**
 * Options of {@link createTenantKeyspace}.
 *
 * @example
 * ```ts
 * const options: TenantKeyspaceOptions = { prefix: 'app' };
 * ```
 */
export interface TenantKeyspaceOptions {
  /**
   * What every key starts with, before the tenant's hash tag: 1 to 64 characters, words of
   * `A-Z a-z 0-9 _ -` joined by `:`, `.` or `/` (`'app'`, `'billing:v2'`). Give each
   * application (and each test file) its own.
   */
  prefix: string;
}

/**
 * Builds and reads the Redis keys of the tenant in scope: `<prefix>:{<tenantId>}:<segment>:...`.
 *
 * The `{tenantId}` hash tag puts all of a tenant's keys in one Redis Cluster slot, so
 * multi-key commands, MULTI and Lua scripts over them work on a Cluster, and a tenant's keys
 * can be found with one SCAN pattern. Segments are encoded (`%`, `:`, `{`, `}`, glob
 * characters, whitespace and control characters become `%XX`), so user input in a segment
 * can neither forge another tenant's tag nor widen a pattern nor collide with another key.
 *
 * @example
 * ```ts
 * const keyspace = createTenantKeyspace({ prefix: 'app' });
 * runWithTenant('tnt_acme', () => keyspace.key('cache', 'user', 42)); // 'app:{tnt_acme}:cache:user:42'
 * ```
 */
export interface TenantKeyspace {
  /** The prefix, as configured (without the `:` before the tag). */
  readonly prefix: string;
  /**
   * The key of the tenant in scope made of these segments (at least one).
   *
   * @throws TenantContextError `TENANT_SCOPE_REQUIRED` outside a tenant scope (the system scope
   *   included); `VALIDATION_FAILED` for no segment or a bad one (empty, over 1024 characters,
   *   a lone surrogate, a non-integer number, more than 32 segments).
   * @example
   * ```ts
   * keyspace.key('session', sessionId); // 'app:{tnt_acme}:session:<sessionId>'
   * ```
   */
  key(...segments: readonly RedisKeySegment[]): string;
  /**
   * The key of an explicitly named tenant: allowed inside `runAsSystem` for any tenant, and
   * inside `runWithTenant` for that same tenant only.
   *
   * @throws TenantContextError `TENANT_ISOLATION_VIOLATION` for another tenant than the one in
   *   scope; `TENANT_SCOPE_REQUIRED` outside any scope; `TENANT_IDENTIFIER_INVALID`; as
   *   {@link TenantKeyspace.key}.
   * @example
   * ```ts
   * await runAsSystem({ reason: 'warm caches' }, () => redis.set(keyspace.keyFor('tnt_acme', 'warm'), '1'));
   * ```
   */
  keyFor(tenantId: string, ...segments: readonly RedisKeySegment[]): string;
  /**
   * The `SCAN ... MATCH` pattern of the tenant in scope's keys that start with `segments`
   * (all its keys of this keyspace without segments), glob metacharacters escaped. It never
   * matches a key of another tenant, even one whose id starts with this tenant's.
   *
   * @throws TenantContextError `TENANT_SCOPE_REQUIRED` outside a tenant scope; `VALIDATION_FAILED`
   *   for a bad segment.
   * @example
   * ```ts
   * keyspace.pattern();        // 'app:{tnt_acme}:*'
   * keyspace.pattern('cache'); // 'app:{tnt_acme}:cache:*'
   * ```
   */
  pattern(...segments: readonly RedisKeySegment[]): string;
  /**
   * {@link TenantKeyspace.pattern} for an explicitly named tenant, with the rules of
   * {@link TenantKeyspace.keyFor}.
   *
   * @example
   * ```ts
   * await runAsSystem({ reason: 'audit' }, () => keyspace.patternFor('tnt_acme')); // 'app:{tnt_acme}:*'
   * ```
   */
  patternFor(tenantId: string, ...segments: readonly RedisKeySegment[]): string;
  /**
   * The tenant a key of this keyspace belongs to, or `undefined` for a key this keyspace
   * cannot have built. Needs no scope: it only reads the key.
   *
   * @example
   * ```ts
   * keyspace.tenantOf('app:{tnt_acme}:cache:user:42'); // 'tnt_acme'
   * keyspace.tenantOf('other:{tnt_acme}:x');           // undefined
   * ```
   */
  tenantOf(key: string): string | undefined;
  /**
   * A key of this keyspace taken apart (segments decoded), or `undefined` for a key this
   * keyspace cannot have built.
   *
   * @example
   * ```ts
   * keyspace.parse('app:{tnt_acme}:user:a%3Ab'); // { tenantId: 'tnt_acme', segments: ['user', 'a:b'] }
   * ```
   */
  parse(key: string): ParsedTenantRedisKey | undefined;
}

const PREFIX_PATTERN = /^[A-Za-z0-9_-]+(?:[:./][A-Za-z0-9_-]+)*$/;

/**
 * The schema of a keyspace prefix, shared with the options of the cache and the purge.
 *
 * @example
 * ```ts
 * keyspacePrefixSchema.parse('app'); // 'app'
 * ```
 */
export const keyspacePrefixSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(PREFIX_PATTERN, 'must be words of A-Z a-z 0-9 _ - joined by ":", "." or "/"');

const optionsSchema = z.strictObject({ prefix: keyspacePrefixSchema });

function requireSegments(segments: readonly RedisKeySegment[]): void {
  if (segments.length === 0) {
    throw new TenantContextError('VALIDATION_FAILED', 'A tenant key needs at least one segment');
  }
}

/**
 * Creates a {@link TenantKeyspace}: the one way tenant-scoped Redis keys are built, matched
 * and parsed. Keys are `<prefix>:{<tenantId>}:<segment>:...`, the same layout as the usage
 * counter store's (`tk:{<tenantId>}:usage`).
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for a bad prefix or unknown options.
 * @example
 * ```ts
 * import { createTenantKeyspace } from '@tenantkit/tenant-context/redis';
 *
 * const keyspace = createTenantKeyspace({ prefix: 'app' });
 * await runWithTenant('tnt_acme', () => redis.set(keyspace.key('flag', 'beta'), '1'));
 * ```
 */
export function createTenantKeyspace(options: TenantKeyspaceOptions): TenantKeyspace {
  const { prefix } = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createTenantKeyspace() options');
  const keyPrefix = `${prefix}:`;
  return Object.freeze({
    prefix,
    key(...segments: readonly RedisKeySegment[]) {
      const tenantId = requireTenantId();
      requireSegments(segments);
      return tenantRedisKey(keyPrefix, tenantId, ...segments);
    },
    keyFor(tenantId: string, ...segments: readonly RedisKeySegment[]) {
      const allowed = resolveExplicitTenant(tenantId, 'TenantKeyspace.keyFor()');
      requireSegments(segments);
      return tenantRedisKey(keyPrefix, allowed, ...segments);
    },
    pattern(...segments: readonly RedisKeySegment[]) {
      return tenantRedisKeyPattern(keyPrefix, requireTenantId(), ...segments);
    },
    patternFor(tenantId: string, ...segments: readonly RedisKeySegment[]) {
      return tenantRedisKeyPattern(keyPrefix, resolveExplicitTenant(tenantId, 'TenantKeyspace.patternFor()'), ...segments);
    },
    tenantOf(key: string) {
      return parseTenantRedisKey(keyPrefix, key)?.tenantId;
    },
    parse(key: string) {
      return parseTenantRedisKey(keyPrefix, key);
    },
  });
}

/**
 * Whether a value is a {@link TenantKeyspace} (used to check options).
 *
 * @example
 * ```ts
 * isTenantKeyspace(createTenantKeyspace({ prefix: 'app' })); // true
 * ```
 */
export function isTenantKeyspace(value: unknown): value is TenantKeyspace {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.prefix === 'string' &&
    PREFIX_PATTERN.test(candidate.prefix) &&
    ['key', 'keyFor', 'pattern', 'patternFor', 'tenantOf', 'parse'].every((name) => typeof candidate[name] === 'function')
  );
}
