import type { Document } from 'mongodb';
import { TenantContextError } from '../../errors.js';

/*
 * Every filter, update, pipeline and expression-bearing option a tenant collection forwards is
 * first copied by the functions here. The copy is what gets inspected, rewritten and sent, so a
 * getter, a shared object changed after the check, or a `toBSON()` hook cannot make the driver
 * serialize something other than what was checked. While copying they refuse:
 * - operators that run server-side JavaScript (`$where`, `$function`, `$accumulator`), at any
 *   depth: code the server runs can be used to probe documents the query planner never shows;
 * - `__proto__` keys (JSON.parse makes them own keys; assigning one sets a prototype);
 * - objects with a `toBSON()` hook, whose serialized form cannot be inspected;
 * - nesting deeper than MongoDB's own limit of 100 levels (and so cycles).
 */

/** Server-side JavaScript: refused wherever it appears. */
const serverSideJavaScriptOperators: ReadonlySet<string> = new Set(['$where', '$function', '$accumulator']);

/**
 * How deeply a checked value may nest. MongoDB refuses documents nested deeper than 100
 * levels, so deeper input is a bug or a cycle.
 *
 * @example
 * ```ts
 * copyQueryValue(deeplyNested, 'filter'); // VALIDATION_FAILED past maxQueryNestingDepth levels
 * ```
 */
export const maxQueryNestingDepth = 100;

/**
 * Whether the BSON serializer writes `value` as a scalar (so there is nothing inside to check):
 * BSON value classes (ObjectId, Decimal128, Long, Binary, Code, ...), dates, regular
 * expressions and binary buffers.
 */
function isBsonScalar(value: object): boolean {
  return (
    typeof (value as { _bsontype?: unknown })._bsontype === 'string' ||
    value instanceof Date ||
    value instanceof RegExp ||
    ArrayBuffer.isView(value)
  );
}

class QueryCopier {
  private readonly path: string[];

  constructor(root: string) {
    this.path = [root];
  }

  copy(value: unknown, depth: number): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (depth > maxQueryNestingDepth) {
      throw this.error('VALIDATION_FAILED', `is nested deeper than ${maxQueryNestingDepth} levels (or refers to itself)`);
    }
    if (Array.isArray(value)) {
      const items: unknown[] = new Array<unknown>(value.length);
      for (let index = 0; index < value.length; index += 1) {
        this.path.push(String(index));
        items[index] = this.copy(value[index], depth + 1);
        this.path.pop();
      }
      return items;
    }
    if (isBsonScalar(value)) return value;
    if (typeof (value as { toBSON?: unknown }).toBSON === 'function') {
      throw this.error('VALIDATION_FAILED', 'has a toBSON() hook, so what would be sent cannot be checked; pass plain values');
    }
    if (value instanceof Map) {
      const entries = new Map<string, unknown>();
      for (const [key, item] of value as Map<unknown, unknown>) {
        if (typeof key !== 'string') throw this.error('VALIDATION_FAILED', 'is a Map with a key that is not a string');
        this.checkKey(key);
        this.path.push(key);
        entries.set(key, this.copy(item, depth + 1));
        this.path.pop();
      }
      return entries;
    }
    // Class instances too: the BSON serializer writes any other object as a document of its own
    // enumerable properties, which is exactly what is copied here.
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      this.checkKey(key);
      this.path.push(key);
      // Safe assignment: `__proto__` was refused, and `copy` is a fresh object.
      copy[key] = this.copy((value as Record<string, unknown>)[key], depth + 1);
      this.path.pop();
    }
    return copy;
  }

  private checkKey(key: string): void {
    if (key === '__proto__') {
      this.path.push(key);
      throw this.error('VALIDATION_FAILED', 'uses the key "__proto__"');
    }
    if (serverSideJavaScriptOperators.has(key)) {
      this.path.push(key);
      throw this.error(
        'TENANT_ISOLATION_VIOLATION',
        `uses ${key}: server-side JavaScript is refused in tenant-scoped queries (use $expr or aggregation operators)`,
      );
    }
  }

  private error(code: 'VALIDATION_FAILED' | 'TENANT_ISOLATION_VIOLATION', problem: string): TenantContextError {
    const path = this.path.join('.');
    return new TenantContextError(code, `${path} ${problem}`, { details: { path } });
  }
}

/**
 * A checked deep copy of a value headed for the server inside a query, update, pipeline or
 * option (see the rules at the top of this file). Scalars come back as they are.
 *
 * @param what names the value in error messages and `details.path`, e.g. `'find filter'`.
 * @throws TenantContextError `TENANT_ISOLATION_VIOLATION` for `$where`, `$function` or
 *   `$accumulator`; `VALIDATION_FAILED` for `__proto__` keys, `toBSON()` hooks, non-string Map
 *   keys and nesting past 100 levels.
 *
 * @example
 * ```ts
 * copyQueryValue({ $expr: { $gt: ['$total', 10] } }, 'filter'); // an equal, fresh object
 * copyQueryValue({ $expr: { $function: {} } }, 'filter'); // throws TENANT_ISOLATION_VIOLATION
 * ```
 */
export function copyQueryValue(value: unknown, what: string): unknown {
  return new QueryCopier(what).copy(value, 1);
}

/**
 * Whether `value` is an object the BSON serializer writes as a document: not null, not an array,
 * not a Map and not a BSON scalar (ObjectId, Date, RegExp, Binary, ...).
 *
 * @example
 * ```ts
 * isDocumentLike({ a: 1 }); // true
 * isDocumentLike([{ a: 1 }]); // false
 * ```
 */
export function isDocumentLike(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map) && !isBsonScalar(value);
}

/**
 * Like {@link copyQueryValue}, for a value that must be a document (a filter, an update, a
 * stage): anything else is refused with `VALIDATION_FAILED`.
 *
 * @example
 * ```ts
 * const filter = copyQueryDocument(userFilter, 'find filter');
 * ```
 */
export function copyQueryDocument(value: unknown, what: string): Document {
  if (!isDocumentLike(value)) {
    throw new TenantContextError('VALIDATION_FAILED', `${what} must be a document (a plain object)`, { details: { path: what } });
  }
  return copyQueryValue(value, what) as Document;
}
