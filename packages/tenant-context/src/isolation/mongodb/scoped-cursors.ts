import type { AggregationCursor, Document, FindCursor } from 'mongodb';
import { TenantContextError } from '../../errors.js';
import { requireTenantId } from '../../scope/tenant-scope.js';
import { copyQueryValue } from './checked-query-copy.js';
import { assertTenantSafeCollation } from './collation-guard.js';
import { type TenantFieldScope, scopeFilter } from './filter-scoping.js';
import { type PipelineScope, scopeAppendedStage } from './pipeline-scoping.js';

/*
 * Driver cursors are builders: `find().filter(f)` replaces the scoped filter,
 * `addQueryModifier('$query', f)` too, and `aggregate().addStage(s)` (behind `lookup()`,
 * `out()`, `match()`, ...) appends stages nobody checked. The guards below replace those
 * builder methods on the cursor instance with checked versions, so a tenant cursor stays a
 * tenant cursor. They protect against mistakes, not against code that reaches into the
 * driver's prototypes on purpose: such code could use the raw collection just as well.
 */

type Builder = (...args: never[]) => unknown;

function replaceMethod(cursor: object, name: string, implementation: Builder): void {
  Object.defineProperty(cursor, name, { value: implementation, configurable: true, writable: true, enumerable: false });
}

/** Explain output counts every tenant's documents a plan examined. */
function refuseExplain(): Promise<never> {
  return Promise.reject(
    new TenantContextError('TENANT_ISOLATION_VIOLATION', "explain() is refused on tenant cursors: plan statistics count every tenant's documents"),
  );
}

/** A cursor belongs to the tenant it was opened for; configuring it for another is refused. */
function assertCursorTenant(scope: TenantFieldScope, method: string): void {
  if (requireTenantId() !== scope.tenantId) {
    throw new TenantContextError('TENANT_ISOLATION_VIOLATION', `${method}() was called on a cursor opened for another tenant`);
  }
}

/**
 * Makes the query-changing builders of a find cursor keep the tenant: `filter()` and
 * `addQueryModifier('$query', ...)` scope the new filter, `project()`, `sort()`,
 * `collation()` and the other modifiers are checked like options, `explain()` is refused (its
 * statistics span tenants), and `clone()` returns a guarded clone. Each of them requires the
 * scope of the cursor's tenant.
 *
 * @example
 * ```ts
 * const cursor = guardFindCursor(collection.find(scopeFilter(filter, scope)), scope);
 * cursor.filter({}); // runs with { $and: [{ tenantId: 'tnt_a' }] }
 * ```
 */
export function guardFindCursor<Cursor extends FindCursor<Document>>(cursor: Cursor, scope: TenantFieldScope): Cursor {
  const filter = cursor.filter.bind(cursor);
  const addQueryModifier = cursor.addQueryModifier.bind(cursor);
  const project = cursor.project.bind(cursor);
  const sort = cursor.sort.bind(cursor);
  const collation = cursor.collation.bind(cursor);
  const clone = cursor.clone.bind(cursor);
  replaceMethod(cursor, 'filter', (newFilter: Document) => {
    assertCursorTenant(scope, 'filter');
    return filter(scopeFilter(newFilter, scope, 'cursor filter'));
  });
  replaceMethod(cursor, 'addQueryModifier', (name: string, value: unknown) => {
    assertCursorTenant(scope, 'addQueryModifier');
    if (name === '$query') return addQueryModifier(name, scopeFilter(value, scope, 'cursor $query'));
    if (name === '$explain') {
      throw new TenantContextError(
        'TENANT_ISOLATION_VIOLATION',
        "addQueryModifier('$explain') is refused: plan statistics count every tenant's documents",
      );
    }
    return addQueryModifier(name, copyQueryValue(value, `cursor ${name}`) as Parameters<Cursor['addQueryModifier']>[1]);
  });
  replaceMethod(cursor, 'project', (projection: Document) => {
    assertCursorTenant(scope, 'project');
    return project(copyQueryValue(projection, 'cursor projection') as Document);
  });
  replaceMethod(cursor, 'sort', (order: Parameters<Cursor['sort']>[0], direction?: Parameters<Cursor['sort']>[1]) => {
    assertCursorTenant(scope, 'sort');
    return sort(copyQueryValue(order, 'cursor sort') as Parameters<Cursor['sort']>[0], direction);
  });
  replaceMethod(cursor, 'collation', (value: Parameters<Cursor['collation']>[0]) => {
    assertCursorTenant(scope, 'collation');
    assertTenantSafeCollation(value, 'cursor collation');
    return collation(value);
  });
  replaceMethod(cursor, 'explain', refuseExplain);
  replaceMethod(cursor, 'clone', () => {
    assertCursorTenant(scope, 'clone');
    return guardFindCursor(clone(), scope);
  });
  return cursor;
}

/**
 * Makes an aggregation cursor's `addStage()` (and so `match()`, `lookup()`, `out()`,
 * `geoNear()`, ...) scope every appended stage with the rules of the pipeline rewrite, refuses
 * `explain()`, and makes `clone()` return a guarded clone. Each of them requires the scope of
 * the cursor's tenant.
 *
 * @example
 * ```ts
 * const cursor = guardAggregationCursor(collection.aggregate(scopeAggregationPipeline(pipeline, scope)), scope);
 * cursor.out('everything'); // throws TENANT_ISOLATION_VIOLATION
 * ```
 */
export function guardAggregationCursor<Cursor extends AggregationCursor<Document>>(cursor: Cursor, scope: PipelineScope): Cursor {
  const addStage = cursor.addStage.bind(cursor);
  const clone = cursor.clone.bind(cursor);
  replaceMethod(cursor, 'addStage', (stage: Document) => {
    assertCursorTenant(scope, 'addStage');
    // Every stage is checked before the first is appended.
    for (const scoped of scopeAppendedStage(stage, scope)) addStage(scoped);
    return cursor;
  });
  replaceMethod(cursor, 'explain', refuseExplain);
  replaceMethod(cursor, 'clone', () => {
    assertCursorTenant(scope, 'clone');
    return guardAggregationCursor(clone(), scope);
  });
  return cursor;
}
