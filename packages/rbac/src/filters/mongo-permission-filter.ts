import type { Document, Filter } from 'mongodb';
import type { QueryConditions } from '../compiler/compiled-permissions.js';
import { RbacError } from '../errors.js';
import {
  type AttributeTest,
  type DefinitePredicate,
  filterUnsupported,
  queryConditionFields,
  queryConditionsPredicate,
} from './definite-predicate.js';

/**
 * Options of {@link mongoPermissionFilter}.
 *
 * @example
 * ```ts
 * const options: MongoPermissionFilterOptions = { fields: { 'resource.ownerId': 'owner', 'resource.status': 'meta.status' } };
 * ```
 */
export interface MongoPermissionFilterOptions {
  /**
   * Every `resource.*` field a condition may name, mapped to its document path. When given, a
   * field that is not here fails with `FILTER_UNSUPPORTED`. Default: `resource.x.y` is `x.y`.
   */
  readonly fields?: Readonly<Record<string, string>>;
}

const forbiddenSegments: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

function assertDocumentPath(path: unknown, field: string): asserts path is string {
  const valid =
    typeof path === 'string' &&
    path.split('.').every((segment) => segment !== '' && !segment.startsWith('$') && !segment.includes('\0') && !forbiddenSegments.has(segment));
  if (!valid) {
    throw new RbacError('CONFIGURATION_INVALID', `mongoPermissionFilter(): the path of ${field} must be dotted field names (no "$", no empty segment)`);
  }
}

const notAnArray = { $not: { $type: 'array' } } as const;

/**
 * MongoDB walks into arrays on every step of a dotted path (`a.b` matches `{ a: [{ b: 1 }] }`),
 * which a property read in JavaScript does not: every proper prefix of a path must not be an
 * array, so the path resolves to at most one value.
 */
function prefixGuards(path: string): Document[] {
  const segments = path.split('.');
  return segments.slice(0, -1).map((_, index) => ({ [segments.slice(0, index + 1).join('.')]: notAnArray }));
}

function guarded(path: string, leaf: Document): Document {
  const guards = prefixGuards(path);
  return guards.length === 0 ? leaf : { $and: [...guards, leaf] };
}

/** The scalar types the in-memory check compares with each other (`null` with any of them). */
type ScalarKind = 'string' | 'number' | 'boolean' | 'null';

const scalarKinds: readonly ScalarKind[] = ['string', 'number', 'boolean', 'null'];

/**
 * A finite number: query comparisons only match within a BSON type class, so this range is
 * "a number that is not NaN or ±Infinity" (values the in-memory check cannot compare).
 */
const finiteNumber = { $gt: -Infinity, $lt: Infinity } as const;

function kindOf(value: string | number | boolean): ScalarKind {
  return typeof value as 'string' | 'number' | 'boolean';
}

/**
 * The value is there, is not an array, is a scalar of one of `kinds` (numbers finite), and
 * matches `extra` (a `$ne`/`$nin`): what a negated equality test needs, since MongoDB's own
 * `$ne`/`$nin` also match missing fields and values of every other type.
 */
function ofKinds(path: string, kinds: ReadonlySet<ScalarKind>, extra: Document): Document {
  const branches: Document[] = [];
  const types = scalarKinds.filter((kind) => kind !== 'number' && kinds.has(kind)).map((kind) => (kind === 'boolean' ? 'bool' : kind));
  if (types.length > 0) branches.push({ [path]: { $type: types.length === 1 ? types[0] : types, ...extra, ...notAnArray } });
  if (kinds.has('number')) branches.push({ [path]: { ...finiteNumber, ...extra, ...notAnArray } });
  return branches.length === 1 ? (branches[0] as Document) : { $or: branches };
}

/** The kinds an equality with one of `values` is decided for: their types and `null` (any, for no value). */
function comparableKinds(values: readonly (string | number | boolean)[]): Set<ScalarKind> {
  if (values.length === 0) return new Set(scalarKinds);
  return new Set<ScalarKind>(['null', ...values.map(kindOf)]);
}

/** An array element `contains` cannot compare with `value` (besides nested arrays). */
function incomparableElement(value: string | number | boolean): Document {
  if (typeof value === 'number') return { $ne: null, $not: finiteNumber };
  return { $not: { $type: [typeof value === 'string' ? 'string' : 'bool', 'null'] } };
}

const negatedOrder = { lt: 'gte', lte: 'gt', gt: 'lte', gte: 'lt' } as const;

/*
 * Each rendering is exact for the in-memory check (a missing key is missing, `null` is a value,
 * a value of a type the operator cannot compare with the operand is unknown) or narrower, never
 * wider: `$eq`, `$in` and `$lt` would match an element of an array field, so scalar tests
 * refuse arrays; `$ne`, `$nin` and `$not` match a missing field or a value of another type, so
 * negated tests name the comparable types (`$type`, or a finite range for numbers); a negated
 * order between comparable values is the flipped operator; a negated `contains` requires an
 * array whose every element is comparable.
 */
function renderTest(path: string, test: AttributeTest): Document {
  switch (test.op) {
    case 'present':
      return guarded(path, { [path]: { $exists: true } });
    case 'missing':
      return guarded(path, { [path]: { $exists: false } });
    case 'eq':
      if (test.negated) {
        // `ne null` holds for every comparable value except null itself.
        if (test.value === null) return guarded(path, ofKinds(path, new Set<ScalarKind>(['string', 'number', 'boolean']), {}));
        return guarded(path, ofKinds(path, comparableKinds([test.value]), { $ne: test.value }));
      }
      // `$eq: null` would also match a missing field; `$type: 'null'` matches the value only.
      return guarded(path, { [path]: { ...(test.value === null ? { $type: 'null' } : { $eq: test.value }), ...notAnArray } });
    case 'in':
      if (test.negated) return guarded(path, ofKinds(path, comparableKinds(test.value), test.value.length === 0 ? {} : { $nin: [...test.value] }));
      return guarded(path, { [path]: { $in: [...test.value], ...notAnArray } });
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      // Query comparisons only match values of the same BSON type class, like the in-memory
      // check; numbers are also kept finite (NaN and ±Infinity are unknown in memory).
      const op = test.negated ? negatedOrder[test.op] : test.op;
      const bound = typeof test.value !== 'number' ? {} : op === 'lt' || op === 'lte' ? { $gt: -Infinity } : { $lt: Infinity };
      return guarded(path, { [path]: { [`$${op}`]: test.value, ...bound, ...notAnArray } });
    }
    case 'contains': {
      // `$elemMatch` only matches arrays; the inner guard keeps `[['x']]` from holding 'x'.
      if (!test.negated) return guarded(path, { [path]: { $elemMatch: { $eq: test.value, ...notAnArray } } });
      return guarded(path, {
        $and: [
          { [path]: { $type: 'array', $not: { $elemMatch: { $eq: test.value } } } },
          { [path]: { $not: { $elemMatch: { $type: 'array' } } } },
          { [path]: { $not: { $elemMatch: incomparableElement(test.value) } } },
        ],
      });
    }
  }
}

/** A filter no document matches (`{}` matches every document). */
const noDocument: Document = Object.freeze({ $nor: [{}] });

function renderPredicate(predicate: DefinitePredicate, pathOf: (field: string) => string): Document {
  switch (predicate.kind) {
    case 'constant':
      return predicate.value ? {} : { ...noDocument };
    case 'and':
      return { $and: predicate.operands.map((operand) => renderPredicate(operand, pathOf)) };
    case 'or':
      return { $or: predicate.operands.map((operand) => renderPredicate(operand, pathOf)) };
    case 'test':
      return renderTest(pathOf(predicate.field), predicate.test);
  }
}

/**
 * Turns {@link QueryConditions} (from `compiled.queryConditions(permission)`) into a MongoDB
 * filter selecting the documents the principal may act on: `none` → no document, `all` →
 * `{}`, `some` → documents matching any allow and no deny. Combine it with the tenant:
 * `{ $and: [{ tenantId }, filter] }`.
 *
 * Semantics match the in-memory check, which fails closed: a missing field, or a value of a
 * type the operator cannot compare with the operand (a numeric string against a number, NaN,
 * ±Infinity, an array or object for a scalar operator, `null` for an ordering, a non-array for
 * `contains`), never satisfies an allow condition (`ne`, `nin` and `not` included, though
 * MongoDB's own `$ne` and `$nin` match missing fields and other types: negated tests carry
 * `$type` guards), and a deny condition that cannot be decided for a document removes it.
 * `null` is a value for `eq`/`ne`/`in`/`nin`. Scalar operators never match an array field
 * (MongoDB would match an element), paths never walk through arrays, and `contains` is
 * membership in an array field. Every operator is supported except `contains null`
 * (`FILTER_UNSUPPORTED`). Strings compare by the collection's collation: keep the default
 * (binary) one for JavaScript-like comparison. Numbers are matched by BSON type class: a
 * `Decimal128` (which the driver returns as an object, unknown to the in-memory check) matches
 * a numeric test here, so store numbers the rules compare as doubles, ints or longs.
 *
 * @throws RbacError `FILTER_UNSUPPORTED` for a field missing from `fields`,
 *   `CONDITION_INVALID` for a malformed condition, `CONFIGURATION_INVALID` for bad options.
 *
 * @example
 * ```ts
 * import { mongoPermissionFilter } from '@tenantkit/rbac/mongodb';
 *
 * const query = compiled.queryConditions('docs:read');
 * const visible = await db
 *   .collection('docs')
 *   .find({ $and: [{ tenantId: compiled.tenantId }, mongoPermissionFilter(query)] })
 *   .toArray();
 * ```
 */
export function mongoPermissionFilter<TSchema extends Document = Document>(
  query: QueryConditions,
  options: MongoPermissionFilterOptions = {},
): Filter<TSchema> {
  if (typeof options !== 'object' || options === null) throw new RbacError('CONFIGURATION_INVALID', 'mongoPermissionFilter(): options must be an object');
  const { fields } = options;
  if (fields !== undefined && (typeof fields !== 'object' || fields === null)) {
    throw new RbacError('CONFIGURATION_INVALID', 'mongoPermissionFilter(): fields must map resource fields to document paths');
  }
  const paths = new Map<string, string>();
  if (fields !== undefined) {
    for (const [field, path] of Object.entries(fields)) {
      assertDocumentPath(path, field);
      paths.set(field, path);
    }
  }
  const predicate = queryConditionsPredicate(query);
  for (const field of queryConditionFields(query).keys()) {
    if (fields === undefined) {
      const path = field.slice('resource.'.length);
      assertDocumentPath(path, field);
      paths.set(field, path);
    } else if (!paths.has(field)) {
      throw filterUnsupported(field, 'the field has no document path in the filter options');
    }
  }
  return renderPredicate(predicate, (field) => paths.get(field) as string) as Filter<TSchema>;
}
