import type { Document } from 'mongodb';
import { TenantContextError } from '../../errors.js';
import { copyQueryDocument, copyQueryValue, isDocumentLike } from './checked-query-copy.js';
import type { TenantFieldScope } from './filter-scoping.js';

/** Every update operator MongoDB knows; anything else is refused rather than guessed at. */
const updateOperators: ReadonlySet<string> = new Set([
  '$currentDate',
  '$inc',
  '$min',
  '$max',
  '$mul',
  '$rename',
  '$set',
  '$setOnInsert',
  '$unset',
  '$addToSet',
  '$pop',
  '$pull',
  '$push',
  '$pullAll',
  '$bit',
]);

/** The stages MongoDB allows in an update pipeline (and in a `$merge` `whenMatched` pipeline). */
const updatePipelineStages: ReadonlySet<string> = new Set([
  '$addFields',
  '$set',
  '$project',
  '$unset',
  '$replaceRoot',
  '$replaceWith',
]);

/**
 * Whether an update path reaches the tenant field: the field itself or anything under it
 * (`tenantId.x`, `tenantId.$`, `tenantId.$[]`). The tenant field is a top-level name, so no path
 * can be its parent.
 *
 * @example
 * ```ts
 * touchesTenantField('tenantId.0', 'tenantId'); // true
 * touchesTenantField('tenantIdentity', 'tenantId'); // false
 * ```
 */
export function touchesTenantField(path: string, tenantField: string): boolean {
  return path === tenantField || path.startsWith(`${tenantField}.`);
}

function tenantFieldViolation(what: string, detail: string): TenantContextError {
  return new TenantContextError(
    'TENANT_ISOLATION_VIOLATION',
    `${what} ${detail}: the tenant field is managed by the tenant collection and cannot be changed`,
    { details: { path: what } },
  );
}

function invalid(what: string, problem: string): TenantContextError {
  return new TenantContextError('VALIDATION_FAILED', `${what} ${problem}`, { details: { path: what } });
}

/**
 * The stage that ends every guarded update pipeline: it sets the tenant field back to the tenant
 * in scope, so stages that rebuild the document (`$replaceRoot`, `$replaceWith`, an inclusion
 * `$project`) can neither drop the tenant nor move the document to another one. `$literal`
 * keeps the id from ever being read as a field path.
 *
 * @example
 * ```ts
 * restoreTenantStage({ tenantField: 'tenantId', tenantId: 'tnt_a' });
 * // { $set: { tenantId: { $literal: 'tnt_a' } } }
 * ```
 */
export function restoreTenantStage(scope: TenantFieldScope): Document {
  return { $set: { [scope.tenantField]: { $literal: scope.tenantId } } };
}

/**
 * Checks an update document (`{ $set: ..., $inc: ... }`) and returns a checked copy. Refuses
 * any operator touching the tenant field (see {@link touchesTenantField}), including `$rename`
 * targets; `$set` and `$setOnInsert` of exactly the tenant field to the tenant in scope are
 * allowed, being no-ops (code written for the raw collection often sets it on upserts).
 *
 * @throws TenantContextError `TENANT_ISOLATION_VIOLATION` for a tenant-field change or
 *   server-side JavaScript; `VALIDATION_FAILED` for a replacement document passed as an
 *   update, an empty update, or an unknown operator.
 *
 * @example
 * ```ts
 * guardOperatorUpdate({ $set: { status: 'paid' } }, scope, 'updateOne update'); // a copy
 * guardOperatorUpdate({ $rename: { owner: 'tenantId' } }, scope, 'updateOne update'); // throws
 * ```
 */
export function guardOperatorUpdate(update: unknown, scope: TenantFieldScope, what: string): Document {
  const copy = copyQueryDocument(update, what);
  const operators = Object.keys(copy);
  if (operators.length === 0) throw invalid(what, 'is empty');
  for (const operator of operators) {
    if (!operator.startsWith('$')) {
      throw invalid(what, `has the field "${operator}": an update uses operators ($set, $inc, ...); use replaceOne to replace a document`);
    }
    if (!updateOperators.has(operator)) throw invalid(what, `uses the unknown update operator ${operator}`);
    const fields: unknown = copy[operator];
    if (!isDocumentLike(fields)) throw invalid(`${what}.${operator}`, 'must be a document of field paths');
    for (const path of Object.keys(fields)) {
      if (touchesTenantField(path, scope.tenantField)) {
        const noOp = (operator === '$set' || operator === '$setOnInsert') && path === scope.tenantField && fields[path] === scope.tenantId;
        if (!noOp) throw tenantFieldViolation(`${what}.${operator}`, `changes "${path}"`);
      }
      if (operator === '$rename') {
        const target: unknown = fields[path];
        if (typeof target !== 'string') throw invalid(`${what}.$rename.${path}`, 'must name the new field');
        if (touchesTenantField(target, scope.tenantField)) throw tenantFieldViolation(`${what}.$rename`, `renames a field to "${target}"`);
      }
    }
  }
  return copy;
}

function assertSetStageKeepsTenant(body: unknown, scope: TenantFieldScope, what: string): void {
  if (!isDocumentLike(body)) throw invalid(what, 'must be a document');
  for (const key of Object.keys(body)) {
    if (!touchesTenantField(key, scope.tenantField)) continue;
    // Setting it to the tenant in scope (a string never starting with "$") changes nothing.
    if (key === scope.tenantField && body[key] === scope.tenantId) continue;
    throw tenantFieldViolation(what, `sets "${key}"`);
  }
}

function assertProjectionKeepsTenant(body: unknown, scope: TenantFieldScope, what: string): void {
  if (!isDocumentLike(body)) throw invalid(what, 'must be a document');
  for (const key of Object.keys(body)) {
    if (!touchesTenantField(key, scope.tenantField)) continue;
    const value: unknown = body[key];
    // Including the field keeps it; excluding or computing it is a change.
    if (key === scope.tenantField && (value === 1 || value === true)) continue;
    throw tenantFieldViolation(what, `projects "${key}"`);
  }
}

function assertUnsetKeepsTenant(body: unknown, scope: TenantFieldScope, what: string): void {
  const fields: unknown[] = Array.isArray(body) ? body : [body];
  for (const field of fields) {
    if (typeof field !== 'string') throw invalid(what, 'must be a field name or an array of field names');
    if (touchesTenantField(field, scope.tenantField)) throw tenantFieldViolation(what, `removes "${field}"`);
  }
}

/**
 * Checks an update pipeline (`[{ $set: ... }, { $unset: ... }]`), stage by stage, and returns
 * a checked copy ending with {@link restoreTenantStage}. Refuses `$set`/`$addFields` of the
 * tenant field (except to the tenant in scope), `$unset` of it, and a `$project` that excludes
 * or computes it; `$replaceRoot`/`$replaceWith` are allowed because the final stage restores
 * the tenant.
 *
 * @throws TenantContextError `TENANT_ISOLATION_VIOLATION` for a tenant-field change or
 *   server-side JavaScript; `VALIDATION_FAILED` for a malformed stage or one MongoDB does not
 *   allow in update pipelines.
 *
 * @example
 * ```ts
 * guardUpdatePipeline([{ $set: { total: { $add: ['$net', '$tax'] } } }], scope, 'updateOne update');
 * // [{ $set: { total: { $add: ['$net', '$tax'] } } }, { $set: { tenantId: { $literal: 'tnt_a' } } }]
 * ```
 */
export function guardUpdatePipeline(pipeline: readonly unknown[], scope: TenantFieldScope, what: string): Document[] {
  const stages = copyQueryValue(pipeline, what) as unknown[];
  stages.forEach((stage, index) => {
    const where = `${what}.${index}`;
    if (!isDocumentLike(stage)) throw invalid(where, 'must be a stage document');
    const names = Object.keys(stage);
    const name = names[0];
    if (names.length !== 1 || name === undefined) throw invalid(where, 'must have exactly one stage operator');
    if (!updatePipelineStages.has(name)) {
      throw invalid(where, `uses ${name}; an update pipeline may only use $addFields, $set, $project, $unset, $replaceRoot and $replaceWith`);
    }
    const body: unknown = stage[name];
    const stageWhere = `${where}.${name}`;
    if (name === '$set' || name === '$addFields') assertSetStageKeepsTenant(body, scope, stageWhere);
    else if (name === '$project') assertProjectionKeepsTenant(body, scope, stageWhere);
    else if (name === '$unset') assertUnsetKeepsTenant(body, scope, stageWhere);
  });
  return [...(stages as Document[]), restoreTenantStage(scope)];
}

/**
 * Checks either form of update: an array is an update pipeline ({@link guardUpdatePipeline}),
 * anything else an update document ({@link guardOperatorUpdate}).
 *
 * @example
 * ```ts
 * const update = guardUpdate(callerUpdate, { tenantField: 'tenantId', tenantId: requireTenantId() }, 'updateMany update');
 * ```
 */
export function guardUpdate(update: unknown, scope: TenantFieldScope, what: string): Document | Document[] {
  return Array.isArray(update) ? guardUpdatePipeline(update, scope, what) : guardOperatorUpdate(update, scope, what);
}
