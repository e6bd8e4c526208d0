import { RbacError } from '../errors.js';
import type { RbacPrincipal } from '../principal.js';

const PRINCIPAL_KINDS = new Set(['user', 'api-key', 'service']);
const USER_ID_PATTERN = /^[A-Za-z0-9_.:@|-]{1,128}$/;
/** Attribute sets whose canonical form is longer are compiled per call rather than cached. */
const MAX_ATTRIBUTE_KEY_LENGTH = 4096;
const MAX_ATTRIBUTE_DEPTH = 8;

/**
 * Checks the shape of a principal before it reaches a store query or a cache key.
 *
 * @throws `PRINCIPAL_REQUIRED` (401) when there is none; `VALIDATION_FAILED` when it is malformed.
 * @example
 * ```ts
 * const principal = checkPrincipal(request.principal);
 * ```
 */
export function checkPrincipal(principal: unknown): RbacPrincipal {
  if (principal === undefined || principal === null) {
    throw new RbacError('PRINCIPAL_REQUIRED', 'A permission check needs a principal');
  }
  const p = principal as Record<string, unknown>;
  const problem =
    typeof principal !== 'object'
      ? 'must be an object'
      : typeof p.id !== 'string' || p.id.length === 0 || p.id.length > 256
        ? 'id must be a string of 1-256 characters'
        : p.kind !== undefined && !PRINCIPAL_KINDS.has(p.kind as string)
          ? 'kind must be "user", "api-key" or "service"'
          : p.grantsFrom !== undefined && p.grantsFrom !== null && !(typeof p.grantsFrom === 'string' && USER_ID_PATTERN.test(p.grantsFrom))
            ? 'grantsFrom must be a user id or null'
            : p.scopes !== undefined && !(Array.isArray(p.scopes) && p.scopes.every((scope) => typeof scope === 'string'))
              ? 'scopes must be an array of permission strings'
              : p.attributes !== undefined && (typeof p.attributes !== 'object' || p.attributes === null || Array.isArray(p.attributes))
                ? 'attributes must be an object'
                : null;
  if (problem !== null) throw new RbacError('VALIDATION_FAILED', `Invalid principal: ${problem}`);
  return principal as RbacPrincipal;
}

/**
 * The user whose role assignments a principal holds: `grantsFrom` when set (`null`: none, the
 * principal acts on its scopes only); otherwise its own id for a user (or a principal without
 * a kind) and nobody for API keys and services, which must say whose grants they carry.
 *
 * @example
 * ```ts
 * grantingUserId({ kind: 'api-key', id: 'key_1', grantsFrom: 'usr_1' }); // 'usr_1'
 * ```
 */
export function grantingUserId(principal: RbacPrincipal): string | null {
  if (principal.grantsFrom !== undefined) return principal.grantsFrom;
  const kind = principal.kind ?? 'user';
  return kind === 'user' && USER_ID_PATTERN.test(principal.id) ? principal.id : null;
}

/**
 * The cache key of a principal's compiled matcher in a tenant, or `null` when it cannot be
 * cached. The key holds everything the matcher depends on: tenant, kind, id, `grantsFrom`,
 * `scopes` and a canonical form of `attributes` — conditions read the attributes the matcher
 * was compiled with, so two principals with the same id but different attributes must never
 * share one. Attributes that are not plain JSON data (or dates) make the principal uncacheable:
 * it is compiled on every call, which is slower but never wrong.
 *
 * @example
 * ```ts
 * principalCacheKey('tnt_1', { id: 'usr_1', attributes: { dept: 'sales' } });
 * ```
 */
export function principalCacheKey(tenantId: string, principal: RbacPrincipal): string | null {
  const memo = memoizedKeys.get(principal);
  if (memo !== undefined && memo.tenantId === tenantId) return memo.key;
  const key = computePrincipalCacheKey(tenantId, principal);
  // Only a principal that can never change again (frozen, its scopes and attributes too; auth
  // hands out one such object per verified token) may keep its key. Frozen stays frozen.
  if (memo !== undefined || isImmutablePrincipal(principal)) memoizedKeys.set(principal, { tenantId, key });
  return key;
}

/** The last key of each immutable principal object, with the tenant it was computed for. */
const memoizedKeys = new WeakMap<RbacPrincipal, { readonly tenantId: string; readonly key: string | null }>();

function isImmutablePrincipal(principal: RbacPrincipal): boolean {
  return (
    Object.isFrozen(principal) &&
    (principal.scopes === undefined || Object.isFrozen(principal.scopes)) &&
    (principal.attributes === undefined || isDeeplyFrozen(principal.attributes, 0))
  );
}

function isDeeplyFrozen(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= MAX_ATTRIBUTE_DEPTH || !Object.isFrozen(value)) return false;
  // A Date is frozen only as an object; its time can still be set.
  if (value instanceof Date) return false;
  for (const child of Object.values(value)) {
    if (!isDeeplyFrozen(child, depth + 1)) return false;
  }
  return true;
}

function computePrincipalCacheKey(tenantId: string, principal: RbacPrincipal): string | null {
  const attributes = principal.attributes === undefined ? '' : canonicalJson(principal.attributes, 0);
  if (attributes === null || attributes.length > MAX_ATTRIBUTE_KEY_LENGTH) return null;
  // JSON of an array: no separator inside an id can make two identities collide.
  return JSON.stringify([
    tenantId,
    principal.kind ?? 'user',
    principal.id,
    principal.grantsFrom === undefined ? '\u0000default' : principal.grantsFrom,
    principal.scopes ?? null,
    attributes,
  ]);
}

/**
 * A frozen copy of a principal, so a matcher in the cache cannot change when the caller later
 * mutates the object it passed (its attributes included). Only called for cacheable
 * principals, whose attributes are plain data.
 *
 * @example
 * ```ts
 * const stable = snapshotPrincipal(principal);
 * ```
 */
export function snapshotPrincipal(principal: RbacPrincipal): RbacPrincipal {
  return deepFreeze({
    id: principal.id,
    ...(principal.kind === undefined ? {} : { kind: principal.kind }),
    ...(principal.grantsFrom === undefined ? {} : { grantsFrom: principal.grantsFrom }),
    ...(principal.scopes === undefined ? {} : { scopes: [...principal.scopes] }),
    ...(principal.attributes === undefined ? {} : { attributes: structuredClone(principal.attributes) }),
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !(value instanceof Date) && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function canonicalJson(value: unknown, depth: number): string | null {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : `"\u0000${String(value)}"`;
  if (depth >= MAX_ATTRIBUTE_DEPTH) return null;
  if (value instanceof Date) return `{"\u0000date":${value.getTime()}}`;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (const item of value) {
      const part = item === undefined ? 'null' : canonicalJson(item, depth + 1);
      if (part === null) return null;
      parts.push(part);
    }
    return `[${parts.join(',')}]`;
  }
  if (typeof value === 'object') {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) return null;
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      const part = canonicalJson(item, depth + 1);
      if (part === null) return null;
      parts.push(`${JSON.stringify(key)}:${part}`);
    }
    return `{${parts.join(',')}}`;
  }
  return null;
}
