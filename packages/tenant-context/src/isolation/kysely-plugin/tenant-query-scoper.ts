import {
  FromNode,
  RawNode,
  UsingNode,
  ValueNode,
  type AliasNode,
  type BinaryOperationNode,
  type ColumnNode,
  type ColumnUpdateNode,
  type CommonTableExpressionNode,
  type DeleteQueryNode,
  type IdentifierNode,
  type InsertQueryNode,
  type JoinNode,
  type JoinType,
  type MergeQueryNode,
  type OperationNode,
  type ReferenceNode,
  type RootOperationNode,
  type SelectModifierNode,
  type SelectQueryNode,
  type TableNode,
  type UpdateQueryNode,
  type WhereNode,
  type WithNode,
} from 'kysely';
import type { TenantContextError } from '../../errors.js';
import { scopeInsert } from './insert-tenant-stamping.js';
import { isolationViolation, tableLabel } from './isolation-violation.js';
import {
  isTenantValue,
  onWithPredicate,
  sameIdentifier,
  tenantDerivedTable,
  tenantPredicate,
  whereWithPredicates,
  type ScopedTableReference,
} from './tenant-predicates.js';
import type { TenantTableRegistry } from './tenant-table-registry.js';
import { readUnscopedSqlReason } from './unscoped-sql.js';

/** How raw SQL met on the way down is treated. */
type RawMode =
  /** Not inside raw SQL. */
  | 'none'
  /** Inside unmarked raw SQL: nothing in it may name a tenant-scoped table. */
  | 'checked'
  /** Inside raw SQL marked with unscopedSql(): its author scoped it by hand. */
  | 'trusted';

/**
 * Where the walk is: the CTE names visible here (they shadow tables of the same name) and the
 * raw-SQL mode.
 */
export interface ScopeContext {
  readonly ctes: ReadonlySet<string> | undefined;
  readonly raw: RawMode;
}

const ROOT_CONTEXT: ScopeContext = Object.freeze({ ctes: undefined, raw: 'none' as const });
// UPDATE and DELETE targets are always tables: a CTE of the same name does not shadow them.
const TARGET_CONTEXT = ROOT_CONTEXT;

type RawVerdict = { readonly kind: 'clean' } | { readonly kind: 'names-scoped-table' } | { readonly kind: 'marked'; readonly reason: string };

const CLEAN: RawVerdict = Object.freeze({ kind: 'clean' });
const NAMES_SCOPED_TABLE: RawVerdict = Object.freeze({ kind: 'names-scoped-table' });

// Marks a scoped query node with the node it was scoped from. Kysely runs plugins on a
// subquery builder when it is embedded, and again on the whole query: re-scoping starts from
// the original, so predicates are not repeated and a subquery built in another tenant's scope
// is scoped to the tenant of the outer query. The mark names the node it belongs to: a copy
// (another plugin spreading the node to change it) carries the mark but is not that node, so
// it is scoped as it is, never reverted to the original. (A symbol property costs far less
// than a WeakMap, whose entries burden every garbage collection.)
const SCOPED_FROM = Symbol('tenantkit.scopedFrom');

interface ScopingMark {
  readonly original: OperationNode;
  readonly output: OperationNode;
}

type MarkedNode = OperationNode & { [SCOPED_FROM]?: ScopingMark };

/** The SQL text of a raw node with nested (unmarked) raw SQL inlined and everything else as `?`. */
function flattenRawText(node: RawNode): string {
  let text = node.sqlFragments[0] ?? '';
  for (let index = 0; index < node.parameters.length; index += 1) {
    const parameter = node.parameters[index]!;
    const nested = parameter.kind === 'RawNode' && readUnscopedSqlReason((parameter as RawNode).sqlFragments) === undefined;
    text += nested ? flattenRawText(parameter as RawNode) : ' ? ';
    text += node.sqlFragments[index + 1] ?? '';
  }
  return text;
}

function originalOf(node: OperationNode): OperationNode {
  const mark = (node as MarkedNode)[SCOPED_FROM];
  return mark !== undefined && mark.output === node ? mark.original : node;
}

/**
 * What the scoper needs from the plugin.
 */
export interface TenantScopingSettings {
  readonly registry: TenantTableRegistry;
  /** The tenant to scope to; throws `TENANT_SCOPE_REQUIRED` when there is none. */
  resolveTenantId(): string;
}

/**
 * Join types whose table gets its predicate in place (ON, or WHERE for cross joins). Any
 * other join (RIGHT, FULL, OUTER APPLY) preserves rows of the other side, so the query's
 * scoped tables are replaced by tenant-filtered derived tables instead.
 */
const ON_PREDICATE_JOINS = new Set<JoinType>(['InnerJoin', 'LeftJoin', 'LateralInnerJoin', 'LateralLeftJoin']);
const WHERE_PREDICATE_JOINS = new Set<JoinType>(['CrossJoin', 'LateralCrossJoin', 'CrossApply']);

const LEAF_KINDS = new Set<string>([
  'IdentifierNode',
  'ValueNode',
  'PrimitiveValueListNode',
  'OperatorNode',
  'SelectAllNode',
  'DefaultInsertValueNode',
  'MatchedNode',
  'OrActionNode',
  'DataTypeNode',
]);

const SELECT_OWN_KEYS = new Set(['with', 'from', 'joins', 'where']);
const UPDATE_OWN_KEYS = new Set(['with', 'table', 'from', 'joins', 'updates', 'where']);
const DELETE_OWN_KEYS = new Set(['with', 'from', 'using', 'joins', 'where']);
const MERGE_OWN_KEYS = new Set(['with']);

// Function names are written into the SQL as they are (Kysely does not quote them): only plain
// identifiers, optionally schema-qualified, are safe next to a tenant predicate.
const FUNCTION_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)*$/;

// Postgres functions that read any table given by name or run a query given as text, so a
// tenant-scoped table can be read through a bound parameter the plugin never sees. Not a
// complete list of what the database can do (see the known limits): the well-known ones.
const QUERY_RUNNING_FUNCTIONS =
  /(?<![A-Za-z0-9_$])(?:(?:query|table|cursor|schema|database)_to_xml(?:schema|_and_xmlschema)?|dblink[A-Za-z0-9_]*|ts_stat|ts_rewrite)(?![A-Za-z0-9_$])/i;

function queryRunningFunctionViolation(name: string): TenantContextError {
  return isolationViolation(
    `The function ${name} reads tables named by its arguments (or runs SQL text), which the plugin cannot scope; use withoutTenantIsolation() inside runAsSystem() if you must`,
  );
}

// Kysely writes these into raw SQL without parentheses, so text after them (`or true`) would
// join their WHERE clause.
const WRITE_QUERY_KINDS = new Set<string>(['UpdateQueryNode', 'DeleteQueryNode', 'InsertQueryNode', 'MergeQueryNode']);

/**
 * Why raw SQL text could change the meaning of the SQL around it, or `undefined`. A tenant
 * predicate sits after the user's SQL, so raw text must not open a comment (`--`, `/*`, MySQL's
 * `#`), end the statement, close a parenthesis it did not open, or leave a string or quoted
 * identifier open (backslashes in quotes mean different things per database, so they count as
 * unsafe too). The text is the raw node with nested raw SQL inlined and other values as `?`.
 */
function rawTextProblem(text: string): string | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    const next = text[index + 1];
    if (quote !== undefined) {
      if (char === '\\') return 'a backslash inside quotes';
      if (char === quote) quote = undefined;
      continue;
    }
    if (char === "'" || char === '"' || char === '`') quote = char;
    else if (char === '(') depth += 1;
    else if (char === ')') {
      depth -= 1;
      if (depth < 0) return 'a ")" it did not open';
    } else if (char === ';') return 'a ";"';
    else if (char === '#') return 'a "#" (a comment in MySQL)';
    else if (char === '-' && next === '-') return 'a "--" comment';
    else if (char === '/' && next === '*') return 'a "/*" comment';
    else if (char === '*' && next === '/') return 'a "*/"';
    else if (char === '$' && !/[A-Za-z0-9_$]/.test(text[index - 1] ?? ' ') && /^\$[A-Za-z_]*\$/.test(text.slice(index))) return 'a dollar-quoted string';
  }
  if (quote !== undefined) return 'an unterminated quoted string or identifier';
  return depth === 0 ? undefined : 'a "(" it does not close';
}

/** Whether an end-modifier list holds raw SQL (anything but Kysely's own FOR UPDATE & co). */
function hasRawEndModifier(modifiers: readonly OperationNode[] | undefined): boolean {
  return modifiers?.some((modifier) => modifier.kind !== 'SelectModifierNode' || (modifier as SelectModifierNode).rawModifier !== undefined) === true;
}

function withNames(ctes: ReadonlySet<string> | undefined, names: readonly string[]): ReadonlySet<string> | undefined {
  if (names.length === 0) return ctes;
  const combined = new Set(ctes);
  for (const name of names) combined.add(name);
  return combined;
}

/**
 * Rewrites one query tree for the tenant in scope. One instance serves one
 * `transformQuery` call: it resolves the tenant at most once, and only when a tenant-scoped
 * table is met, so queries on other tables need no scope.
 */
export class TenantQueryScoper {
  readonly #settings: TenantScopingSettings;
  #tenantId: string | undefined;
  #tenantValue: ValueNode | undefined;
  /** DDL statements never get a tenant: one that reads a scoped table is refused. */
  #ddl = false;
  /** Why raw SQL or a function name met could break out of its place; refused if the query is scoped. */
  #unsafeSql: string | undefined;
  /** Reasons of the unscopedSql() fragments met, for the plugin to report once scoping succeeded. */
  unscopedSqlReasons: string[] | undefined;

  constructor(settings: TenantScopingSettings) {
    this.#settings = settings;
  }

  /** Scopes a root node handed to `transformQuery`. */
  scopeRoot(node: RootOperationNode): RootOperationNode {
    const scoped = this.#scopeRoot(node);
    // Only queries that got a tenant filter need their raw SQL kept in place.
    if (this.#unsafeSql !== undefined && this.#tenantId !== undefined) {
      throw isolationViolation(
        `${this.#unsafeSql} in a query on a tenant-scoped table could move SQL past the tenant filter; keep raw SQL self-contained, or use unscopedSql(reason)`,
      );
    }
    return scoped;
  }

  /** Refuses a query level that got a tenant filter and ends in raw SQL (`modifyEnd(sql\`or true\`)` would extend its WHERE). */
  refuseRawEndModifiers(modifiers: readonly OperationNode[] | undefined): void {
    if (hasRawEndModifier(modifiers)) {
      throw isolationViolation(
        'Raw SQL after a query on a tenant-scoped table (modifyEnd) would extend its tenant filter; use the builder (forUpdate(), skipLocked(), ...) instead',
      );
    }
  }

  #scopeRoot(node: RootOperationNode): RootOperationNode {
    switch (node.kind) {
      case 'SelectQueryNode':
      case 'InsertQueryNode':
      case 'UpdateQueryNode':
      case 'DeleteQueryNode':
      case 'MergeQueryNode':
      case 'RawNode':
        return this.visitNode(node, ROOT_CONTEXT) as RootOperationNode;
      default:
        // Schema statements pass unchanged, unless they embed a query or raw SQL on a scoped
        // table (CREATE VIEW ... AS, CREATE TABLE ... AS): no tenant predicate belongs there.
        this.#ddl = true;
        return this.visitNode(node, ROOT_CONTEXT) as RootOperationNode;
    }
  }

  /** The tenant id in scope (resolved once per call). */
  tenantId(): string {
    if (this.#ddl) {
      throw isolationViolation(
        'A schema statement (CREATE VIEW/TABLE ... AS) reads a tenant-scoped table; run it on a withoutTenantIsolation() handle inside runAsSystem()',
      );
    }
    this.#tenantId ??= this.#settings.resolveTenantId();
    return this.#tenantId;
  }

  /** The tenant as a bound parameter. One node serves every predicate of the call. */
  tenantValue(): ValueNode {
    const tenantId = this.tenantId();
    this.#tenantValue ??= ValueNode.create(tenantId);
    return this.#tenantValue;
  }

  /** The scoped table a FROM/JOIN/INTO item names directly (optionally aliased), if any. */
  scopedReference(item: OperationNode, ctx: ScopeContext): ScopedTableReference | undefined {
    let table: TableNode;
    let alias: IdentifierNode | undefined;
    if (item.kind === 'TableNode') {
      table = item as TableNode;
    } else if (item.kind === 'AliasNode' && (item as AliasNode).node.kind === 'TableNode' && (item as AliasNode).alias.kind === 'IdentifierNode') {
      table = (item as AliasNode).node as TableNode;
      alias = (item as AliasNode).alias as IdentifierNode;
    } else {
      return undefined;
    }
    // A CTE of the same name shadows the table (exact case only: when unsure, scope it).
    if (table.table.schema === undefined && ctx.ctes?.has(table.table.identifier.name) === true) return undefined;
    const column = this.#settings.registry.tenantColumnOf(table.table);
    return column === undefined ? undefined : { table, alias, column };
  }

  visitNode(node: OperationNode, ctx: ScopeContext): OperationNode {
    switch (node.kind) {
      case 'SelectQueryNode':
      case 'InsertQueryNode':
      case 'UpdateQueryNode':
      case 'DeleteQueryNode':
      case 'MergeQueryNode':
        return this.#visitQuery(node, ctx);
      case 'RawNode':
        return this.#visitRaw(node as RawNode, ctx);
      case 'TableNode':
        if (ctx.raw === 'checked' && this.#settings.registry.tenantColumnOf((node as TableNode).table) !== undefined) {
          throw this.#rawViolation(`the table reference ${tableLabel(node as TableNode)}`);
        }
        return node;
      case 'IdentifierNode':
        if (ctx.raw === 'checked' && this.#settings.registry.isScopedTableName((node as IdentifierNode).name)) {
          throw this.#rawViolation(`the identifier "${(node as IdentifierNode).name}"`);
        }
        return node;
      case 'ValueNode': {
        // SQLite reads a string literal where a table name belongs as that table (sql.lit).
        const { value, immediate } = node as ValueNode;
        if (ctx.raw === 'checked' && immediate === true && typeof value === 'string' && this.#settings.registry.mentionsScopedTable(value)) {
          throw this.#rawViolation('a literal');
        }
        return node;
      }
      case 'ColumnNode':
        return ctx.raw === 'checked' ? this.walkChildren(node, ctx) : node;
      case 'FunctionNode':
      case 'AggregateFunctionNode': {
        const { func } = node as unknown as { func: string };
        if (QUERY_RUNNING_FUNCTIONS.test(func)) throw queryRunningFunctionViolation(func);
        if (!FUNCTION_NAME_PATTERN.test(func)) this.#unsafeSql ??= `The function name "${func}"`;
        return this.walkChildren(node, ctx);
      }
      default:
        return LEAF_KINDS.has(node.kind) ? node : this.walkChildren(node, ctx);
    }
  }

  /** Visits every child node (any property holding a node or a list of nodes). */
  walkChildren(node: OperationNode, ctx: ScopeContext, skip?: ReadonlySet<string>): OperationNode {
    const record = node as unknown as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const key in record) {
      if (key === 'kind' || skip?.has(key) === true) continue;
      const value = record[key];
      if (typeof value !== 'object' || value === null) continue;
      let next: unknown;
      if (Array.isArray(value)) {
        next = this.visitList(value, ctx);
      } else if (typeof (value as { kind?: unknown }).kind === 'string') {
        next = this.visitNode(value as OperationNode, ctx);
      } else {
        continue;
      }
      if (next !== value) {
        copy ??= { ...record };
        copy[key] = next;
      }
    }
    return copy === undefined ? node : (Object.freeze(copy) as unknown as OperationNode);
  }

  visitList<T>(list: readonly T[], ctx: ScopeContext): readonly T[] {
    let copy: T[] | undefined;
    for (let index = 0; index < list.length; index += 1) {
      const item = list[index]!;
      const next =
        typeof item === 'object' && item !== null && typeof (item as { kind?: unknown }).kind === 'string'
          ? (this.visitNode(item as unknown as OperationNode, ctx) as unknown as T)
          : item;
      if (next !== item) copy ??= list.slice(0, index);
      copy?.push(next);
    }
    return copy === undefined ? list : Object.freeze(copy);
  }

  /** Checks an assignment (UPDATE SET, ON CONFLICT DO UPDATE) against the tenant columns of `targets`. */
  checkTenantAssignment(update: ColumnUpdateNode, targets: readonly ScopedTableReference[], statement: string): void {
    let qualifier: string | undefined;
    let name: string;
    const { column } = update;
    if (column.kind === 'ColumnNode') {
      name = (column as ColumnNode).column.name;
    } else if (column.kind === 'ReferenceNode' && (column as ReferenceNode).column.kind === 'ColumnNode') {
      const reference = column as ReferenceNode;
      name = (reference.column as ColumnNode).column.name;
      qualifier = reference.table?.table.identifier.name;
    } else {
      return;
    }
    for (const target of targets) {
      if (!sameIdentifier(name, target.column)) continue;
      if (qualifier !== undefined && !sameIdentifier(qualifier, target.alias?.name ?? target.table.table.identifier.name)) continue;
      const { value } = update;
      // Assigning the tenant in scope changes nothing (the rows are already filtered to it).
      if (value.kind === 'ValueNode' && isTenantValue((value as ValueNode).value, this.tenantId())) continue;
      throw isolationViolation(
        `${statement} may not change the tenant column "${target.column}" of ${tableLabel(target.table)}; only the tenant in scope may be assigned`,
      );
    }
  }

  /**
   * Adds the tenant predicate of `reference` to a WHERE clause's list, once per name (a MySQL
   * multi-table delete names its targets in FROM and again in USING).
   */
  addWherePredicate(predicates: OperationNode[], reference: ScopedTableReference): void {
    const name = reference.alias?.name ?? reference.table.table.identifier.name;
    const schema = reference.alias === undefined ? reference.table.table.schema?.name : undefined;
    for (const existing of predicates) {
      const left = (existing as BinaryOperationNode).leftOperand as ReferenceNode;
      const qualifier = left.table?.table;
      if (
        qualifier !== undefined &&
        qualifier.identifier.name === name &&
        qualifier.schema?.name === schema &&
        (left.column as ColumnNode).column.name === reference.column
      ) {
        return;
      }
    }
    predicates.push(tenantPredicate(reference, this.tenantValue()));
  }

  /** Scopes FROM (or USING) items: predicates go to `predicates`, or items become derived tables. */
  visitFromItems(items: readonly OperationNode[], ctx: ScopeContext, predicates: OperationNode[], wrap: boolean): readonly OperationNode[] {
    let copy: OperationNode[] | undefined;
    for (let index = 0; index < items.length; index += 1) {
      const item = items[index]!;
      const reference = this.scopedReference(item, ctx);
      let next: OperationNode;
      if (reference === undefined) {
        next = this.visitNode(item, ctx);
      } else if (wrap) {
        next = tenantDerivedTable(reference, this.tenantValue());
      } else {
        this.addWherePredicate(predicates, reference);
        next = item;
      }
      if (next !== item) copy ??= items.slice(0, index);
      copy?.push(next);
    }
    return copy === undefined ? items : Object.freeze(copy);
  }

  #visitJoins(joins: readonly JoinNode[], ctx: ScopeContext, predicates: OperationNode[], wrap: boolean): readonly JoinNode[] {
    let copy: JoinNode[] | undefined;
    for (let index = 0; index < joins.length; index += 1) {
      const join = joins[index]!;
      const reference = this.scopedReference(join.table, ctx);
      const on = join.on === undefined ? undefined : (this.visitNode(join.on, ctx) as JoinNode['on']);
      let table = join.table;
      let scopedOn = on;
      if (reference === undefined) {
        table = this.visitNode(join.table, ctx);
      } else if (wrap) {
        table = tenantDerivedTable(reference, this.tenantValue());
      } else if (ON_PREDICATE_JOINS.has(join.joinType)) {
        scopedOn = onWithPredicate(on, tenantPredicate(reference, this.tenantValue()));
      } else {
        this.addWherePredicate(predicates, reference);
      }
      const next: JoinNode =
        table === join.table && scopedOn === join.on ? join : Object.freeze({ ...join, table, ...(scopedOn === undefined ? {} : { on: scopedOn }) });
      if (next !== join) copy ??= joins.slice(0, index);
      copy?.push(next);
    }
    return copy === undefined ? joins : Object.freeze(copy);
  }

  /** Visits a WITH clause; returns it and the context its query runs in (CTE names visible). */
  visitWith(node: WithNode | undefined, ctx: ScopeContext): { withNode: WithNode | undefined; ctx: ScopeContext } {
    if (node === undefined) return { withNode: undefined, ctx };
    const names = node.expressions.map((expression) => expression.name.table.table.identifier.name);
    const all = withNames(ctx.ctes, names);
    let expressions: CommonTableExpressionNode[] | undefined;
    for (let index = 0; index < node.expressions.length; index += 1) {
      const cte = node.expressions[index]!;
      // A recursive CTE sees itself and the ones before it; otherwise each sees the ones before it.
      // (Itself and the ones before it: MySQL resolves a later name to the table, so a
      // forward reference is scoped; where it names the CTE, that fails closed.)
      const visible = withNames(ctx.ctes, names.slice(0, node.recursive === true ? index + 1 : index));
      const expression = this.visitNode(cte.expression, { ctes: visible, raw: 'none' });
      const next = expression === cte.expression ? cte : Object.freeze({ ...cte, expression });
      if (next !== cte) expressions ??= node.expressions.slice(0, index);
      expressions?.push(next);
    }
    const withNode = expressions === undefined ? node : Object.freeze({ ...node, expressions: Object.freeze(expressions) });
    return { withNode, ctx: { ctes: all, raw: 'none' } };
  }

  /**
   * The scoped version of a query node: its generically walked children with the changed own
   * properties on top, marked with the node it came from. `node` itself if nothing changed.
   */
  finish<T extends OperationNode>(node: T, walked: OperationNode, own: Readonly<Record<string, unknown>>): T {
    const original = node as unknown as Record<string, unknown>;
    let changed = walked !== node;
    for (const key in own) if (own[key] !== original[key]) changed = true;
    if (!changed) return node;
    const out: Record<string, unknown> = { ...(walked as unknown as Record<string, unknown>) };
    for (const key in own) {
      const value = own[key];
      if (value !== undefined || key in out) out[key] = value;
    }
    const output = out as unknown as MarkedNode;
    output[SCOPED_FROM] = { original: node, output };
    return Object.freeze(output) as unknown as T;
  }

  #visitQuery(node: OperationNode, outer: ScopeContext): OperationNode {
    const original = originalOf(node);
    const ctx: ScopeContext = outer.raw === 'none' ? outer : { ctes: outer.ctes, raw: 'none' };
    switch (original.kind) {
      case 'SelectQueryNode':
        return this.#visitSelect(original as SelectQueryNode, ctx);
      case 'UpdateQueryNode':
        return this.#visitUpdate(original as UpdateQueryNode, ctx);
      case 'DeleteQueryNode':
        return this.#visitDelete(original as DeleteQueryNode, ctx);
      case 'InsertQueryNode':
        return scopeInsert(this, original as InsertQueryNode, ctx);
      default:
        return this.#visitMerge(original as MergeQueryNode, ctx);
    }
  }

  #visitSelect(node: SelectQueryNode, outer: ScopeContext): SelectQueryNode {
    const { withNode, ctx } = this.visitWith(node.with, outer);
    const wrap = this.#needsDerivedTables(node.joins);
    const predicates: OperationNode[] = [];
    let from = node.from;
    if (from !== undefined) {
      const items = this.visitFromItems(from.froms, ctx, predicates, wrap);
      if (items !== from.froms) from = FromNode.create(items);
    }
    const joins = node.joins === undefined ? undefined : this.#visitJoins(node.joins, ctx, predicates, wrap);
    const where = this.#scopedWhere(node.where, ctx, predicates);
    const walked = this.walkChildren(node, ctx, SELECT_OWN_KEYS);
    // The last UNION/INTERSECT/EXCEPT branch is written without parentheses, its WHERE last.
    const scopedBranches = (walked as SelectQueryNode).setOperations !== node.setOperations;
    if (predicates.length > 0 || scopedBranches || (wrap && (from !== node.from || joins !== node.joins))) this.refuseRawEndModifiers(node.endModifiers);
    return this.finish(node, walked, { with: withNode, from, joins, where });
  }

  #visitUpdate(node: UpdateQueryNode, outer: ScopeContext): UpdateQueryNode {
    const { withNode, ctx } = this.visitWith(node.with, outer);
    const wrap = this.#needsDerivedTables(node.joins);
    const predicates: OperationNode[] = [];
    const targets: ScopedTableReference[] = [];
    // MySQL updates several tables at once: `update a, b set ...` is a list of targets.
    let table = node.table;
    if (table !== undefined) {
      const items = table.kind === 'ListNode' ? (table as unknown as { items: readonly OperationNode[] }).items : [table];
      let copy: OperationNode[] | undefined;
      for (let index = 0; index < items.length; index += 1) {
        const item = items[index]!;
        const reference = this.scopedReference(item, TARGET_CONTEXT);
        let next = item;
        if (reference === undefined) {
          next = this.visitNode(item, ctx);
        } else {
          targets.push(reference);
          this.addWherePredicate(predicates, reference);
        }
        if (next !== item) copy ??= items.slice(0, index);
        copy?.push(next);
      }
      if (copy !== undefined) {
        table = table.kind === 'ListNode' ? Object.freeze({ ...table, items: Object.freeze(copy) }) : copy[0];
      }
    }
    let from = node.from;
    if (from !== undefined) {
      const items = this.visitFromItems(from.froms, ctx, predicates, wrap);
      if (items !== from.froms) from = FromNode.create(items);
    }
    const joins = node.joins === undefined ? undefined : this.#visitJoins(node.joins, ctx, predicates, wrap);
    let updates = node.updates;
    if (updates !== undefined) {
      for (const update of updates) this.checkTenantAssignment(update, targets, 'UPDATE');
      updates = this.visitList(updates, ctx);
    }
    const where = this.#scopedWhere(node.where, ctx, predicates);
    if (predicates.length > 0 || (wrap && (from !== node.from || joins !== node.joins))) this.refuseRawEndModifiers(node.endModifiers);
    const walked = this.walkChildren(node, ctx, UPDATE_OWN_KEYS);
    return this.finish(node, walked, { with: withNode, table, from, joins, updates, where });
  }

  #visitDelete(node: DeleteQueryNode, outer: ScopeContext): DeleteQueryNode {
    const { withNode, ctx } = this.visitWith(node.with, outer);
    const wrap = this.#needsDerivedTables(node.joins);
    const predicates: OperationNode[] = [];
    // The targets are filtered in WHERE (a delete target cannot be a derived table). In a MySQL
    // multi-table delete they name tables of USING, which get their own predicates too.
    let from = node.from;
    const targets = this.visitFromItems(from.froms, TARGET_CONTEXT, predicates, false);
    if (targets !== from.froms) from = FromNode.create(targets);
    let using = node.using;
    if (using !== undefined) {
      const items = this.visitFromItems(using.tables, ctx, predicates, wrap);
      if (items !== using.tables) using = UsingNode.create(items);
    }
    const joins = node.joins === undefined ? undefined : this.#visitJoins(node.joins, ctx, predicates, wrap);
    const where = this.#scopedWhere(node.where, ctx, predicates);
    if (predicates.length > 0 || (wrap && (using !== node.using || joins !== node.joins))) this.refuseRawEndModifiers(node.endModifiers);
    const walked = this.walkChildren(node, ctx, DELETE_OWN_KEYS);
    return this.finish(node, walked, { with: withNode, from, using, joins, where });
  }

  #visitMerge(node: MergeQueryNode, outer: ScopeContext): MergeQueryNode {
    const { withNode, ctx } = this.visitWith(node.with, outer);
    const into = this.scopedReference(node.into, ctx);
    const source = node.using === undefined ? undefined : this.scopedReference(node.using.table, ctx);
    const scoped = into ?? source;
    if (scoped !== undefined) {
      // Filtering either side of MERGE turns other tenants' rows into "not matched" rows,
      // which the WHEN NOT MATCHED branch would then insert or act on.
      throw isolationViolation(
        `MERGE on the tenant-scoped table ${tableLabel(scoped.table)} is not supported; use INSERT ... ON CONFLICT or UPDATE`,
      );
    }
    const walked = this.walkChildren(node, ctx, MERGE_OWN_KEYS);
    return this.finish(node, walked, { with: withNode });
  }

  #visitRaw(node: RawNode, ctx: ScopeContext): OperationNode {
    let mode: RawMode = 'trusted';
    if (ctx.raw !== 'trusted') {
      const verdict = this.#rawVerdict(node.sqlFragments);
      if (verdict.kind === 'names-scoped-table') throw this.#rawViolation('its SQL text');
      if (verdict.kind === 'marked') {
        (this.unscopedSqlReasons ??= []).push(verdict.reason);
      } else {
        mode = 'checked';
        if (ctx.raw === 'none') {
          // Nested raw SQL is written into its parent as it is: check the text they make together.
          const text = flattenRawText(node);
          if (this.#settings.registry.mentionsScopedTable(text)) throw this.#rawViolation('its SQL text, with nested raw SQL');
          const runner = QUERY_RUNNING_FUNCTIONS.exec(text);
          if (runner !== null) throw queryRunningFunctionViolation(runner[0]);
          const problem = rawTextProblem(text);
          if (problem !== undefined) this.#unsafeSql ??= `Raw SQL with ${problem}`;
        }
      }
    }
    if (node.parameters.length === 0) return node;
    const parameters = this.visitList(node.parameters, ctx.raw === mode ? ctx : { ctes: ctx.ctes, raw: mode });
    for (let index = 0; index < parameters.length; index += 1) {
      const parameter = node.parameters[index]!;
      if (WRITE_QUERY_KINDS.has(parameter.kind) && parameters[index] !== originalOf(parameter)) {
        throw isolationViolation(
          'An UPDATE, DELETE, INSERT or MERGE on a tenant-scoped table embedded in raw SQL is written without parentheses, so SQL after it would extend its tenant filter; execute the builder itself',
        );
      }
    }
    return parameters === node.parameters ? node : RawNode.create(node.sqlFragments, parameters);
  }

  #rawVerdict(fragments: readonly string[]): RawVerdict {
    const reason = readUnscopedSqlReason(fragments);
    if (reason !== undefined) return Object.freeze({ kind: 'marked' as const, reason });
    for (const fragment of fragments) {
      if (this.#settings.registry.mentionsScopedTable(fragment)) return NAMES_SCOPED_TABLE;
    }
    return CLEAN;
  }

  #rawViolation(what: string): TenantContextError {
    return isolationViolation(
      `Raw SQL names a tenant-scoped table (${what}), and the plugin cannot add a tenant filter to raw SQL; use the query builder, or unscopedSql(reason) if you filter by tenant yourself`,
    );
  }

  #needsDerivedTables(joins: readonly JoinNode[] | undefined): boolean {
    if (joins === undefined) return false;
    for (const join of joins) {
      if (!ON_PREDICATE_JOINS.has(join.joinType) && !WHERE_PREDICATE_JOINS.has(join.joinType)) return true;
    }
    return false;
  }

  #scopedWhere(where: WhereNode | undefined, ctx: ScopeContext, predicates: readonly OperationNode[]): WhereNode | undefined {
    const visited = where === undefined ? undefined : (this.visitNode(where, ctx) as WhereNode);
    return predicates.length === 0 ? visited : whereWithPredicates(visited, predicates);
  }
}

