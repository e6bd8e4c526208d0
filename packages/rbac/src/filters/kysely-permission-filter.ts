import { type Expression, type ExpressionBuilder, type RawBuilder, type SqlBool, sql } from 'kysely';
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
 * How an array attribute is stored, for `contains`:
 * - `postgres-array`: a native Postgres array column (`text[]`, `integer[]`, ...);
 * - `postgres-jsonb`: a Postgres `jsonb` column holding a JSON array;
 * - `sqlite-json`: a SQLite text column holding a JSON array.
 * MySQL/MariaDB JSON arrays are not supported: `JSON_CONTAINS` also looks into nested arrays
 * and equates a scalar with itself, so it would match rows the in-memory check refuses.
 *
 * @example
 * ```ts
 * const kind: KyselyArrayColumnKind = 'postgres-jsonb';
 * ```
 */
export type KyselyArrayColumnKind = 'postgres-array' | 'postgres-jsonb' | 'sqlite-json';

/**
 * Where one resource attribute lives: a column reference (`'owner_id'`, `'docs.owner_id'`), or
 * an array column for `contains`.
 *
 * @example
 * ```ts
 * const tags: KyselyFilterColumn = { column: 'docs.tags', array: 'postgres-array' };
 * ```
 */
export type KyselyFilterColumn = string | { readonly column: string; readonly array: KyselyArrayColumnKind };

/**
 * Options of {@link kyselyPermissionFilter}.
 *
 * @example
 * ```ts
 * const options: KyselyPermissionFilterOptions = {
 *   columns: { 'resource.ownerId': 'docs.owner_id', 'resource.status': 'docs.status' },
 * };
 * ```
 */
export interface KyselyPermissionFilterOptions {
  /**
   * Every `resource.*` field a condition may name, mapped to its column. A field that is not
   * here fails with `FILTER_UNSUPPORTED`, never silently ignored.
   */
  readonly columns: Readonly<Record<string, KyselyFilterColumn>>;
  /**
   * How boolean values are bound: `'boolean'` (default; Postgres, MySQL/MariaDB) or
   * `'integer'` (1/0, for SQLite, whose driver cannot bind booleans).
   */
  readonly booleans?: 'boolean' | 'integer';
}

/**
 * A where-clause callback, for `.where(filter)`.
 *
 * @example
 * ```ts
 * const filter: KyselyWhereFilter = kyselyPermissionFilter(query, options);
 * await db.selectFrom('docs').selectAll().where(filter).execute();
 * ```
 */
export type KyselyWhereFilter = (eb: ExpressionBuilder<any, any>) => Expression<SqlBool>;

type ResolvedColumn = { readonly column: string; readonly array: KyselyArrayColumnKind | null };

/** Column references: identifiers separated by dots (schema.table.column at most). */
const columnReferencePattern = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$/;

const arrayKinds: ReadonlySet<string> = new Set<KyselyArrayColumnKind>(['postgres-array', 'postgres-jsonb', 'sqlite-json']);

function configurationInvalid(message: string): RbacError {
  return new RbacError('CONFIGURATION_INVALID', `kyselyPermissionFilter(): ${message}`);
}

function resolveColumns(columns: unknown): ReadonlyMap<string, ResolvedColumn> {
  if (typeof columns !== 'object' || columns === null) throw configurationInvalid('columns must map resource fields to columns');
  const resolved = new Map<string, ResolvedColumn>();
  for (const [field, spec] of Object.entries(columns)) {
    const column = typeof spec === 'string' ? spec : (spec as { column?: unknown } | null)?.column;
    const array = typeof spec === 'string' ? null : (spec as { array?: unknown } | null)?.array;
    if (typeof column !== 'string' || !columnReferencePattern.test(column)) {
      throw configurationInvalid(`the column of ${field} must be a column reference like "owner_id" or "docs.owner_id"`);
    }
    if (array !== null && (typeof array !== 'string' || !arrayKinds.has(array))) {
      throw configurationInvalid(`the array kind of ${field} must be one of ${[...arrayKinds].join(', ')}`);
    }
    resolved.set(field, { column, array: array as KyselyArrayColumnKind | null });
  }
  return resolved;
}

const trueSql = sql<SqlBool>`1 = 1`;
const falseSql = sql<SqlBool>`1 = 0`;

type Bindable = string | number | boolean;

function sqliteJsonElementTest(value: Bindable, bind: (value: Bindable) => Bindable): RawBuilder<SqlBool> {
  // json_each reports JSON true/false as 1/0 with type 'true'/'false': compare the type too, so
  // that the string "1", the number 1 and true stay distinct, as they are in JavaScript.
  if (typeof value === 'boolean') return sql<SqlBool>`tk_element.type = ${value ? 'true' : 'false'}`;
  if (typeof value === 'number') return sql<SqlBool>`tk_element.type in ('integer', 'real') and tk_element.value = ${bind(value)}`;
  return sql<SqlBool>`tk_element.type = 'text' and tk_element.value = ${bind(value)}`;
}

function renderArrayTest(
  field: string,
  column: string,
  kind: KyselyArrayColumnKind,
  test: AttributeTest & { op: 'contains' },
  bind: (value: Bindable) => Bindable,
): RawBuilder<SqlBool> {
  const ref = sql.ref(column);
  switch (kind) {
    case 'postgres-array':
      // `v = ANY(a)` is NULL (not false) when the array holds a NULL and no match: coalesce it,
      // so "does not contain" stays true for such an array, as it is in JavaScript.
      return test.negated
        ? sql<SqlBool>`(${ref} is not null and not coalesce(${bind(test.value)} = any(${ref}), false))`
        : sql<SqlBool>`coalesce(${bind(test.value)} = any(${ref}), false)`;
    case 'postgres-jsonb': {
      // Containment of a one-element array is element membership for a JSON array (and false
      // for a JSON scalar or object, which no check would call an array either).
      // "Does not contain" also needs every element comparable with the value (its JSON type
      // or null), as in memory: `["a", 5]` neither contains nor lacks "x".
      const candidate = JSON.stringify([test.value]);
      const elementType = typeof test.value === 'boolean' ? 'boolean' : typeof test.value;
      return test.negated
        ? sql<SqlBool>`(jsonb_typeof(${ref}) = 'array' and not (${ref} @> cast(${candidate} as jsonb)) and not exists (select 1 from jsonb_array_elements(${ref}) as tk_element(value) where jsonb_typeof(tk_element.value) not in (${elementType}, 'null')))`
        : sql<SqlBool>`(jsonb_typeof(${ref}) = 'array' and ${ref} @> cast(${candidate} as jsonb))`;
    }
    case 'sqlite-json': {
      const element = sqliteJsonElementTest(test.value, bind);
      // json_each of a JSON scalar yields the scalar itself: require an array first. "Does not
      // contain" also needs every element comparable with the value (its JSON type or null).
      const comparable =
        typeof test.value === 'boolean'
          ? sql`('true', 'false', 'null')`
          : typeof test.value === 'number'
            ? sql`('integer', 'real', 'null')`
            : sql`('text', 'null')`;
      return test.negated
        ? sql<SqlBool>`(json_type(${ref}) = 'array' and not exists (select 1 from json_each(${ref}) as tk_element where (${element}) or tk_element.type not in ${comparable}))`
        : sql<SqlBool>`(json_type(${ref}) = 'array' and exists (select 1 from json_each(${ref}) as tk_element where ${element}))`;
    }
    default:
      throw filterUnsupported(field, 'unknown array column kind');
  }
}

const comparisons = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;
const negatedComparisons = { lt: '>=', lte: '>', gt: '<=', gte: '<' } as const;

/*
 * A NULL column may be a missing attribute or a `null` value, so no leaf over a NULL column is
 * rendered definitely true or definitely false: `missing` and `eq null` are never true, and
 * every other test needs a non-NULL column. `=`, `<>`, `<`, `in`, `not in` on NULL are NULL,
 * which a where-clause treats as false; the predicates are only ever combined with AND/OR, so
 * such a NULL never turns into true. On a non-NULL column of the value's type, negated order
 * is the flipped operator.
 */
function renderTest(
  eb: ExpressionBuilder<any, any>,
  field: string,
  test: AttributeTest,
  columns: ReadonlyMap<string, ResolvedColumn>,
  bind: (value: Bindable) => Bindable,
): Expression<SqlBool> {
  const resolved = columns.get(field);
  if (resolved === undefined) throw filterUnsupported(field, 'the field has no column in the filter options');
  const ref = eb.ref(resolved.column);
  if (test.op === 'present') return eb(ref, 'is not', null);
  if (test.op === 'missing') return falseSql;
  if (test.op === 'contains') {
    if (resolved.array === null) throw filterUnsupported(field, 'contains needs an array column ({ column, array })');
    return renderArrayTest(field, resolved.column, resolved.array, test, bind);
  }
  if (resolved.array !== null) throw filterUnsupported(field, `${test.op} does not apply to an array column`);
  switch (test.op) {
    case 'eq':
      if (test.value === null) return test.negated ? eb(ref, 'is not', null) : falseSql;
      return eb(ref, test.negated ? '<>' : '=', bind(test.value));
    case 'in':
      // `not in ()` is not SQL; not being in the empty list only needs a (non-NULL) value.
      if (test.value.length === 0) return test.negated ? eb(ref, 'is not', null) : falseSql;
      return eb(ref, test.negated ? 'not in' : 'in', test.value.map(bind));
    default:
      return eb(ref, (test.negated ? negatedComparisons : comparisons)[test.op], bind(test.value));
  }
}

function renderPredicate(
  eb: ExpressionBuilder<any, any>,
  predicate: DefinitePredicate,
  columns: ReadonlyMap<string, ResolvedColumn>,
  bind: (value: Bindable) => Bindable,
): Expression<SqlBool> {
  switch (predicate.kind) {
    case 'constant':
      return predicate.value ? trueSql : falseSql;
    case 'and':
      return eb.and(predicate.operands.map((operand) => renderPredicate(eb, operand, columns, bind)));
    case 'or':
      return eb.or(predicate.operands.map((operand) => renderPredicate(eb, operand, columns, bind)));
    case 'test':
      return renderTest(eb, predicate.field, predicate.test, columns, bind);
  }
}

/**
 * Turns {@link QueryConditions} (from `compiled.queryConditions(permission)`) into a Kysely
 * where-clause selecting the rows the principal may act on: `none` → no row, `all` → every row,
 * `some` → rows matching any allow and no deny.
 *
 * Semantics match the in-memory check, which fails closed: a NULL column is a missing
 * attribute, so it never satisfies an allow condition (`ne`, `nin` and `not` included), and a
 * deny condition that cannot be decided for a row removes the row. Values are always bound as
 * parameters. Supported per dialect:
 * - `eq`, `ne`, `in`, `nin`, `lt`, `lte`, `gt`, `gte`, `exists`, `all`, `any`, `not`: all
 *   dialects. Comparisons follow the column's type and collation: give text columns a binary
 *   collation (`COLLATE "C"`, `utf8mb4_nopad_bin`) to compare exactly like JavaScript, and bind
 *   values of the column's type.
 * - Types: the in-memory check treats a value of a type the operator cannot compare with the
 *   operand as unknown (`'5000.00' gt 1000`, `['x'] ne 'x'`), so an allow does not apply and a
 *   deny does. A typed column makes most such mismatches impossible, but the filter cannot see
 *   what the application will pass to `can()`: conditions must use the column's type (a number
 *   for `integer`/`numeric`, a string for `text`), and the resource given to `can()` must carry
 *   the same types (node-postgres returns `numeric` and `bigint` as strings: convert them, or
 *   compare with string operands). SQLite caveat: a column's type is only an affinity. An
 *   `integer` column keeps text that does not look like a number (`'5,000'`) as text, and
 *   SQLite orders every number before every text, so `amount > 1000` is true for it (and
 *   `amount <= 1000` false) where the in-memory check says unknown: an allow on `gt` would
 *   select a row `can()` refuses, and a blob or a mixed-type JSON value is just as foreign. Use
 *   `STRICT` tables (or `CHECK (typeof(amount) = 'integer')`) so stored values have the
 *   declared type.
 * - A NULL column may be a missing attribute or a `null` value, which the in-memory check tells
 *   apart: a leaf over a NULL column is neither true nor false, so `eq null` and `exists: false`
 *   never select a row, and a deny with `exists: true` removes every row. Prefer explicit values
 *   (`status: 'active'`) over NULL tests in conditions meant for SQL filters.
 * - `contains`: Postgres arrays and `jsonb` arrays, SQLite JSON arrays (declare the column
 *   with `{ column, array }`); MySQL/MariaDB and `contains null` fail with `FILTER_UNSUPPORTED`.
 *
 * The conditions are checked when this is called, not when the query runs.
 *
 * @throws RbacError `FILTER_UNSUPPORTED` for a field without a column or an operator the column
 *   cannot support, `CONDITION_INVALID` for a malformed condition, `CONFIGURATION_INVALID` for
 *   bad options.
 *
 * @example
 * ```ts
 * import { kyselyPermissionFilter } from '@tenantkit/rbac/kysely';
 *
 * const query = compiled.queryConditions('docs:read');
 * const visible = await db
 *   .selectFrom('docs')
 *   .selectAll()
 *   .where('tenant_id', '=', compiled.tenantId)
 *   .where(kyselyPermissionFilter(query, { columns: { 'resource.ownerId': 'owner_id', 'resource.status': 'status' } }))
 *   .execute();
 * ```
 */
export function kyselyPermissionFilter(query: QueryConditions, options: KyselyPermissionFilterOptions): KyselyWhereFilter {
  if (typeof options !== 'object' || options === null) throw configurationInvalid('options with columns are required');
  const columns = resolveColumns(options.columns);
  const booleans = options.booleans ?? 'boolean';
  if (booleans !== 'boolean' && booleans !== 'integer') throw configurationInvalid('booleans must be "boolean" or "integer"');
  const bind = booleans === 'integer' ? (value: Bindable) => (typeof value === 'boolean' ? Number(value) : value) : (value: Bindable) => value;
  const predicate = queryConditionsPredicate(query);
  assertColumnsCover(queryConditionFields(query), columns);
  return (eb) => renderPredicate(eb, predicate, columns, bind);
}

function assertColumnsCover(fields: ReadonlyMap<string, ReadonlySet<string>>, columns: ReadonlyMap<string, ResolvedColumn>): void {
  for (const [field, operators] of fields) {
    const resolved = columns.get(field);
    if (resolved === undefined) throw filterUnsupported(field, 'the field has no column in the filter options');
    for (const op of operators) {
      if (op === 'exists') continue;
      if (op === 'contains' && resolved.array === null) throw filterUnsupported(field, 'contains needs an array column ({ column, array })');
      if (op !== 'contains' && resolved.array !== null) throw filterUnsupported(field, `${op} does not apply to an array column`);
    }
  }
}
