import {
  AliasNode,
  ColumnNode,
  IdentifierNode,
  PrimitiveValueListNode,
  SelectionNode,
  ValueListNode,
  ValuesNode,
  type CaseNode,
  type ColumnUpdateNode,
  type InsertQueryNode,
  type OnConflictNode,
  type OnDuplicateKeyNode,
  type OperationNode,
  type ReferenceNode,
  type SelectQueryNode,
  type ValueNode,
  type ValuesItemNode,
  type WhenNode,
} from 'kysely';
import { isolationViolation, tableLabel } from './isolation-violation.js';
import { isTenantValue, sameIdentifier, tenantPredicate, whereWithPredicates, type ScopedTableReference } from './tenant-predicates.js';
import type { ScopeContext, TenantQueryScoper } from './tenant-query-scoper.js';

const INSERT_OWN_KEYS = new Set(['with', 'columns', 'values', 'defaultValues', 'onConflict', 'onDuplicateKey']);
const WITH_ONLY = new Set(['with']);
const UNQUALIFIED_CONTEXT: ScopeContext = Object.freeze({ ctes: undefined, raw: 'none' as const });
const INNER_JOINS = new Set<string>(['InnerJoin', 'CrossJoin']);
const PRESERVING_JOINS = new Set<string>(['RightJoin', 'FullJoin', 'OuterApply', 'Using']);

function claimsOtherTenant(label: string, column: string): Error {
  return isolationViolation(`INSERT into ${label} sets the tenant column "${column}" to another tenant than the one in scope`);
}

function unverifiableTenant(label: string, column: string, what: string): Error {
  return isolationViolation(
    `INSERT into ${label} sets the tenant column "${column}" to ${what}, which cannot be checked; leave the column out (the plugin sets it) or use the tenant in scope`,
  );
}

/**
 * Scopes an INSERT. Into a tenant-scoped table it sets the tenant column on every row (adding
 * the column, or filling `DEFAULT` cells of multi-row inserts), accepts an explicit value only
 * when it is the tenant in scope, scopes and extends INSERT ... SELECT, keeps ON CONFLICT /
 * ON DUPLICATE KEY UPDATE from touching other tenants' rows and refuses REPLACE.
 *
 * @example
 * ```ts
 * const scoped = scopeInsert(scoper, insertNode, context);
 * ```
 */
export function scopeInsert(scoper: TenantQueryScoper, node: InsertQueryNode, outer: ScopeContext): InsertQueryNode {
  const { withNode, ctx } = scoper.visitWith(node.with, outer);
  // INSERT INTO never targets a CTE, so CTE names do not shadow here.
  const target = node.into === undefined ? undefined : scoper.scopedReference(node.into, UNQUALIFIED_CONTEXT);
  if (target === undefined) {
    const walked = scoper.walkChildren(node, ctx, WITH_ONLY);
    // INSERT ... SELECT writes the SELECT without parentheses: raw SQL after it would extend its WHERE.
    if ((walked as InsertQueryNode).values !== node.values) scoper.refuseRawEndModifiers(node.endModifiers);
    return scoper.finish(node, walked, { with: withNode });
  }
  const label = tableLabel(target.table);
  if (node.replace === true || node.orAction?.action.toLowerCase() === 'replace') {
    throw isolationViolation(
      `REPLACE into ${label} deletes the conflicting row, which may belong to another tenant; use INSERT ... ON CONFLICT or ON DUPLICATE KEY UPDATE`,
    );
  }
  // Raw SQL after the statement would extend the ON CONFLICT ... WHERE tenant filter.
  scoper.refuseRawEndModifiers(node.endModifiers);
  const tenantValue = scoper.tenantValue();
  const tenantId = scoper.tenantId();
  const tenantColumn = target.column;
  const columns = node.columns;
  const index = columns === undefined ? -1 : columns.findIndex((column) => sameIdentifier(column.column.name, tenantColumn));
  const withTenantColumn = (): readonly ColumnNode[] => Object.freeze([...(columns ?? []), ColumnNode.create(tenantColumn)]);

  let nextColumns = columns;
  let values = node.values;
  let defaultValues = node.defaultValues;
  if (values === undefined) {
    if (defaultValues !== true) throw isolationViolation(`INSERT into ${label} has no values`);
    nextColumns = withTenantColumn();
    values = ValuesNode.create([ValueListNode.create([tenantValue])]);
    defaultValues = false;
  } else if (columns === undefined) {
    throw isolationViolation(`INSERT into ${label} must name its columns, so the tenant column can be set`);
  } else if (values.kind === 'ValuesNode') {
    const rows = (values as ValuesNode).values.map((row) => stampRow(scoper, row, index, ctx, tenantValue, tenantId, label, tenantColumn));
    values = ValuesNode.create(rows);
    if (index === -1) nextColumns = withTenantColumn();
  } else if (values.kind === 'SelectQueryNode') {
    const select = values as SelectQueryNode;
    const scopedSelect = scoper.visitNode(select, ctx) as SelectQueryNode;
    if (scopedSelect.setOperations !== undefined && scopedSelect.setOperations.length > 0) {
      throw isolationViolation(
        `INSERT into ${label} from a SELECT with UNION/INTERSECT/EXCEPT cannot be given the tenant column; select from the compound query as a derived table instead`,
      );
    }
    if (index === -1) {
      if (scopedSelect.selections === undefined || scopedSelect.selections.length === 0) {
        throw isolationViolation(`INSERT into ${label} from a SELECT without a select list cannot be given the tenant column`);
      }
      const tenantSelection = SelectionNode.create(AliasNode.create(tenantValue, IdentifierNode.create(tenantColumn)));
      values = Object.freeze({ ...scopedSelect, selections: Object.freeze([...scopedSelect.selections, tenantSelection]) });
      nextColumns = withTenantColumn();
    } else {
      verifySelectedTenant(scoper, select, index, ctx, tenantId, label, tenantColumn);
      values = scopedSelect;
    }
  } else {
    throw isolationViolation(
      `INSERT into ${label} from ${values.kind === 'RawNode' ? 'raw SQL' : 'an expression'} cannot be given the tenant column; insert values or a query-builder SELECT`,
    );
  }

  const onConflict = node.onConflict === undefined ? undefined : scopeOnConflict(scoper, node.onConflict, target, ctx, tenantValue);
  const onDuplicateKey = node.onDuplicateKey === undefined ? undefined : scopeOnDuplicateKey(scoper, node.onDuplicateKey, target, ctx, tenantValue);
  const walked = scoper.walkChildren(node, ctx, INSERT_OWN_KEYS);
  return scoper.finish(node, walked, { with: withNode, columns: nextColumns, values, defaultValues, onConflict, onDuplicateKey });
}

function stampRow(
  scoper: TenantQueryScoper,
  row: ValuesItemNode,
  index: number,
  ctx: ScopeContext,
  tenantValue: ValueNode,
  tenantId: string,
  label: string,
  tenantColumn: string,
): ValuesItemNode {
  if (row.kind === 'PrimitiveValueListNode') {
    if (index === -1) return PrimitiveValueListNode.create([...row.values, tenantId]);
    if (!isTenantValue(row.values[index], tenantId)) throw claimsOtherTenant(label, tenantColumn);
    return row;
  }
  const cells = scoper.visitList(row.values, ctx);
  if (index === -1) return ValueListNode.create([...cells, tenantValue]);
  const cell = cells[index];
  if (cell === undefined) throw isolationViolation(`INSERT into ${label} has a row without a value for the tenant column "${tenantColumn}"`);
  if (cell.kind === 'DefaultInsertValueNode') {
    // A multi-row insert where other rows named the tenant column: this row gets the tenant.
    return ValueListNode.create(cells.map((value, position) => (position === index ? tenantValue : value)));
  }
  if (cell.kind === 'ValueNode') {
    if (!isTenantValue((cell as ValueNode).value, tenantId)) throw claimsOtherTenant(label, tenantColumn);
    return cells === row.values ? row : ValueListNode.create(cells);
  }
  throw unverifiableTenant(label, tenantColumn, 'an expression');
}

/**
 * INSERT ... SELECT naming the tenant column: the selected value must be the tenant in scope,
 * or the tenant column of a scoped table the SELECT reads (which the plugin filters to it).
 */
function verifySelectedTenant(
  scoper: TenantQueryScoper,
  select: SelectQueryNode,
  index: number,
  ctx: ScopeContext,
  tenantId: string,
  label: string,
  tenantColumn: string,
): void {
  const selections = select.selections ?? [];
  for (let position = 0; position <= index && position < selections.length; position += 1) {
    const selection = selections[position]!.selection;
    const all = selection.kind === 'SelectAllNode' || (selection.kind === 'ReferenceNode' && selection.column.kind === 'SelectAllNode');
    if (all) throw unverifiableTenant(label, tenantColumn, 'a column of `select *`');
  }
  const selection = selections[index]?.selection;
  if (selection === undefined) throw isolationViolation(`INSERT into ${label} selects fewer columns than it inserts`);
  const expression: OperationNode = selection.kind === 'AliasNode' ? selection.node : selection;
  if (expression.kind === 'ValueNode') {
    if (isTenantValue((expression as ValueNode).value, tenantId)) return;
    throw claimsOtherTenant(label, tenantColumn);
  }
  let name: string | undefined;
  let qualifier: string | undefined;
  if (expression.kind === 'ColumnNode') {
    name = (expression as ColumnNode).column.name;
  } else if (expression.kind === 'ReferenceNode') {
    const reference = expression as ReferenceNode;
    if (reference.column.kind === 'ColumnNode') name = (reference.column as ColumnNode).column.name;
    qualifier = reference.table?.table.identifier.name;
  }
  if (name !== undefined) {
    const joins = select.joins ?? [];
    // Rows of a null-supplying side could carry NULL, so only tables every row comes from count.
    const preserving = joins.some((join) => PRESERVING_JOINS.has(join.joinType));
    const sources: ScopedTableReference[] = [];
    if (!preserving) {
      for (const item of select.from?.froms ?? []) {
        const reference = scoper.scopedReference(item, ctx);
        if (reference !== undefined) sources.push(reference);
      }
      for (const join of joins) {
        if (!INNER_JOINS.has(join.joinType)) continue;
        const reference = scoper.scopedReference(join.table, ctx);
        if (reference !== undefined) sources.push(reference);
      }
    }
    const columnName = name;
    const matches =
      qualifier === undefined
        ? joins.length === 0 && select.from?.froms.length === 1 && sources.length === 1 && sameIdentifier(columnName, sources[0]!.column)
        : sources.some(
            (source) =>
              sameIdentifier(qualifier, source.alias?.name ?? source.table.table.identifier.name) && sameIdentifier(columnName, source.column),
          );
    if (matches) return;
  }
  throw unverifiableTenant(label, tenantColumn, 'a selected expression');
}

function scopeOnConflict(
  scoper: TenantQueryScoper,
  node: OnConflictNode,
  target: ScopedTableReference,
  ctx: ScopeContext,
  tenantValue: ValueNode,
): OnConflictNode {
  for (const update of node.updates ?? []) scoper.checkTenantAssignment(update, [target], 'ON CONFLICT DO UPDATE');
  const walked = scoper.walkChildren(node, ctx) as OnConflictNode;
  if (node.updates === undefined || node.doNothing === true) return walked;
  // The conflicting row may belong to another tenant (a unique key without the tenant
  // column): then the update must not apply, so DO UPDATE only touches rows of this tenant.
  const ownRow = tenantPredicate({ table: target.table, alias: undefined, column: target.column }, tenantValue);
  return Object.freeze({ ...walked, updateWhere: whereWithPredicates(walked.updateWhere, [ownRow]) });
}

function scopeOnDuplicateKey(
  scoper: TenantQueryScoper,
  node: OnDuplicateKeyNode,
  target: ScopedTableReference,
  ctx: ScopeContext,
  tenantValue: ValueNode,
): OnDuplicateKeyNode {
  for (const update of node.updates) scoper.checkTenantAssignment(update, [target], 'ON DUPLICATE KEY UPDATE');
  const ownRow = tenantPredicate({ table: target.table, alias: undefined, column: target.column }, tenantValue);
  // MySQL's ON DUPLICATE KEY UPDATE has no WHERE: each assignment keeps the old value unless
  // the conflicting row is this tenant's. The tenant column itself never changes, so the
  // condition holds for every assignment, whatever their order.
  const updates = node.updates.map((update): ColumnUpdateNode => {
    const value = scoper.visitNode(update.value, ctx);
    const guarded: CaseNode = Object.freeze({
      kind: 'CaseNode' as const,
      when: Object.freeze([Object.freeze({ kind: 'WhenNode' as const, condition: ownRow, result: value }) as WhenNode]),
      else: update.column,
    });
    return Object.freeze({ ...update, value: guarded });
  });
  return Object.freeze({ ...node, updates: Object.freeze(updates) });
}
