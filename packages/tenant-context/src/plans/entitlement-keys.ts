import { z } from 'zod';

// Keys that would reach Object.prototype (or shadow its members) when used on a plain object.
const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Whether a key is one that reaches or shadows `Object.prototype` (`__proto__`,
 * `constructor`, `prototype`). Plan, resource, feature and attribute names are never one.
 *
 * @example
 * ```ts
 * isPrototypeKey('constructor'); // true
 * isPrototypeKey('projects');    // false
 * ```
 */
export function isPrototypeKey(key: string): boolean {
  return PROTOTYPE_KEYS.has(key);
}

/**
 * The format of a plan key: 1 to 64 characters of letters, digits, `_ . -`, starting with a
 * letter or digit. The registry and the catalog share it.
 *
 * @example
 * ```ts
 * planKeySchema.parse('enterprise-2026'); // ok
 * ```
 */
export const planKeySchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be a plan key');

/**
 * A plan key as the catalog accepts it: the registry's plan-key format (so every catalog
 * plan can be assigned to a tenant), minus the prototype keys.
 *
 * @example
 * ```ts
 * catalogPlanKeySchema.parse('pro');         // 'pro'
 * catalogPlanKeySchema.parse('constructor'); // throws
 * ```
 */
export const catalogPlanKeySchema = planKeySchema.refine((key) => !isPrototypeKey(key), 'is a reserved key');

/**
 * The name of a resource (quota), feature, feature flag or match attribute: 1 to 64
 * characters starting with a letter, then letters, digits, `_ . : -`. It is the same format
 * the registry accepts for `Tenant.limits` and `Tenant.features` keys, so every override can
 * name something a plan defines, and it is never a prototype key.
 *
 * @example
 * ```ts
 * entitlementKeySchema.parse('storageBytes'); // ok
 * entitlementKeySchema.parse('new-editor');   // ok
 * entitlementKeySchema.parse('__proto__');    // throws
 * ```
 */
export const entitlementKeySchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . : -, starting with a letter')
  .refine((key) => !isPrototypeKey(key), 'is a reserved key');

/**
 * The path of the first own property named `__proto__`, `constructor` or `prototype` found
 * anywhere inside plain objects and arrays, or `null`. Zod's records silently drop own
 * `__proto__` keys (as produced by `JSON.parse`); configuration with one is refused instead,
 * so a poisoned config file fails loudly rather than half-loading.
 *
 * @example
 * ```ts
 * findPrototypeKey(JSON.parse('{"free": {"limits": {"__proto__": 1}}}')); // ['free', 'limits', '__proto__']
 * ```
 */
export function findPrototypeKey(value: unknown): PropertyKey[] | null {
  const seen = new Set<object>();
  const pending: Array<{ value: unknown; path: PropertyKey[] }> = [{ value, path: [] }];
  while (pending.length > 0) {
    const { value: current, path } = pending.pop()!;
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const prototype: unknown = Object.getPrototypeOf(current);
    // Only plain data is walked; class instances (a catalog, a store) are someone else's business.
    if (!Array.isArray(current) && prototype !== Object.prototype && prototype !== null) continue;
    for (const key of Object.keys(current)) {
      if (isPrototypeKey(key)) return [...path, key];
      pending.push({ value: (current as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return null;
}

/**
 * Wraps a schema so input containing a prototype key at any depth fails validation (see
 * {@link findPrototypeKey}) before the schema parses it.
 *
 * @example
 * ```ts
 * const schema = rejectingPrototypeKeys(z.record(z.string(), z.number()));
 * schema.safeParse(JSON.parse('{"__proto__": 1}')).success; // false
 * ```
 */
export function rejectingPrototypeKeys<Schema extends z.ZodType>(schema: Schema) {
  return z
    .unknown()
    .superRefine((value, context) => {
      const path = findPrototypeKey(value);
      if (path !== null) context.addIssue({ code: 'custom', message: 'is a reserved key', path });
    })
    .pipe(schema);
}
