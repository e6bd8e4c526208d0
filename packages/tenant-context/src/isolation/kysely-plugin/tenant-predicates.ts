import {
  AliasNode,
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  IdentifierNode,
  OnNode,
  OperatorNode,
  ParensNode,
  ReferenceNode,
  SelectionNode,
  SelectQueryNode,
  TableNode,
  WhereNode,
  type OperationNode,
  type ValueNode,
} from 'kysely';

/**
 * One tenant-scoped table reference of a query: the table, the name the query knows it by
 * (its alias, or the table itself) and its tenant column.
 */
export interface ScopedTableReference {
  readonly table: TableNode;
  /** The alias (`from('projects as p')`), or `undefined` when the table is referenced by name. */
  readonly alias: IdentifierNode | undefined;
  readonly column: string;
}

const EQUALS = OperatorNode.create('=');

// A comparison of two atomic operands can be AND-ed without parentheses. Anything else (OR
// chains, raw SQL, `||`, which is OR in MySQL) is wrapped: `a or b and tenant = $1` would
// filter only `b`.
const COMPARISON_OPERATORS = new Set<string>([
  '=', '==', '!=', '<>', '>', '>=', '<', '<=', 'in', 'not in', 'is', 'is not', 'like', 'not like',
  'ilike', 'not ilike', 'is distinct from', 'is not distinct from',
]);

const ATOMIC_OPERAND_KINDS = new Set<string>([
  'ReferenceNode',
  'ColumnNode',
  'ValueNode',
  'ValueListNode',
  'PrimitiveValueListNode',
  'ParensNode',
  'SelectQueryNode',
  'FunctionNode',
  'AggregateFunctionNode',
  'CastNode',
]);

function isSafeConjunct(node: OperationNode): boolean {
  switch (node.kind) {
    case 'ParensNode':
      return true;
    case 'AndNode':
      return isSafeConjunct((node as AndNode).left) && isSafeConjunct((node as AndNode).right);
    case 'BinaryOperationNode': {
      const binary = node as BinaryOperationNode;
      return (
        binary.operator.kind === 'OperatorNode' &&
        COMPARISON_OPERATORS.has((binary.operator as OperatorNode).operator) &&
        ATOMIC_OPERAND_KINDS.has(binary.leftOperand.kind) &&
        ATOMIC_OPERAND_KINDS.has(binary.rightOperand.kind)
      );
    }
    default:
      return false;
  }
}

/** A filter that can be AND-ed with more conditions without changing its meaning. */
function asConjunct(node: OperationNode): OperationNode {
  return isSafeConjunct(node) ? node : ParensNode.create(node);
}

/**
 * Builds `<alias or table>.<tenant column> = <tenant>`; the tenant value is one bound parameter.
 *
 * @example
 * ```ts
 * tenantPredicate({ table, alias: IdentifierNode.create('p'), column: 'tenant_id' }, ValueNode.create('tnt_a'));
 * // "p"."tenant_id" = $1
 * ```
 */
export function tenantPredicate(reference: ScopedTableReference, tenant: ValueNode): BinaryOperationNode {
  const qualifier = reference.alias === undefined ? reference.table : TableNode.create(reference.alias.name);
  return BinaryOperationNode.create(ReferenceNode.create(ColumnNode.create(reference.column), qualifier), EQUALS, tenant);
}

/**
 * `left and right`, keeping `left` intact.
 *
 * @example
 * ```ts
 * conjoin(userFilter, tenantFilter);
 * ```
 */
export function conjoin(left: OperationNode | undefined, right: OperationNode): OperationNode {
  return left === undefined ? right : AndNode.create(asConjunct(left), right);
}

/**
 * Joins predicates with `and`.
 *
 * @example
 * ```ts
 * conjoinAll([first, second]); // first and second
 * ```
 */
export function conjoinAll(predicates: readonly OperationNode[]): OperationNode {
  let combined = predicates[0]!;
  for (let index = 1; index < predicates.length; index += 1) combined = AndNode.create(combined, predicates[index]!);
  return combined;
}

/**
 * A WHERE clause that also requires every predicate.
 *
 * @example
 * ```ts
 * whereWithPredicates(node.where, [tenantFilter]);
 * ```
 */
export function whereWithPredicates(where: WhereNode | undefined, predicates: readonly OperationNode[]): WhereNode {
  return WhereNode.create(conjoin(where?.where, conjoinAll(predicates)));
}

/**
 * An ON clause that also requires the predicate, so an outer join keeps its meaning: the
 * joined table's other-tenant rows simply do not match.
 *
 * @example
 * ```ts
 * onWithPredicate(join.on, tenantFilter);
 * ```
 */
export function onWithPredicate(on: OnNode | undefined, predicate: OperationNode): OnNode {
  return OnNode.create(conjoin(on?.on, predicate));
}

/**
 * `(select * from <table> where <table>.<tenant column> = $1) as <alias or table name>`: the
 * table as the tenant sees it, for positions where a predicate cannot go (the preserved side of
 * RIGHT and FULL joins).
 *
 * @example
 * ```ts
 * tenantDerivedTable(reference, ValueNode.create('tnt_a'));
 * ```
 */
export function tenantDerivedTable(reference: ScopedTableReference, tenant: ValueNode): AliasNode {
  const filtered: SelectQueryNode = Object.freeze({
    ...SelectQueryNode.createFrom([reference.table]),
    selections: Object.freeze([SelectionNode.createSelectAll()]),
    where: WhereNode.create(tenantPredicate({ table: reference.table, alias: undefined, column: reference.column }, tenant)),
  });
  return AliasNode.create(filtered, reference.alias ?? IdentifierNode.create(reference.table.table.identifier.name));
}

/**
 * Whether a literal inserted or assigned into a tenant column is the tenant in scope. Numbers
 * and bigints compare by their decimal form, for integer tenant columns.
 *
 * @example
 * ```ts
 * isTenantValue('tnt_a', 'tnt_a'); // true
 * isTenantValue(42, '42');         // true
 * ```
 */
export function isTenantValue(value: unknown, tenantId: string): boolean {
  if (typeof value === 'string') return value === tenantId;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value) === tenantId;
  return false;
}

/**
 * Same-name comparison of SQL identifiers, case-insensitive like MySQL and SQLite columns.
 *
 * @example
 * ```ts
 * sameIdentifier('TENANT_ID', 'tenant_id'); // true
 * ```
 */
export function sameIdentifier(left: string, right: string): boolean {
  return left === right || left.toLowerCase() === right.toLowerCase();
}
