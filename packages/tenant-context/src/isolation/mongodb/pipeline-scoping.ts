import type { Document } from 'mongodb';
import { TenantContextError } from '../../errors.js';
import { copyQueryValue, isDocumentLike } from './checked-query-copy.js';
import { type TenantFieldScope, tenantEquality, withTenantCondition } from './filter-scoping.js';
import type { TenantCollectionConfig } from './tenant-collection-options.js';
import { guardUpdatePipeline, restoreTenantStage } from './update-guards.js';

/**
 * Everything a pipeline rewrite needs: the tenant, and which collections of the database are
 * tenant-scoped (the wrapped one included) or global reference data.
 *
 * @example
 * ```ts
 * const scope: PipelineScope = { ...resolveTenantCollectionConfig(collection, options), tenantId: requireTenantId() };
 * ```
 */
export interface PipelineScope
  extends TenantFieldScope,
    Pick<TenantCollectionConfig, 'databaseName' | 'tenantScopedCollections' | 'globalCollections' | 'allowMerge'> {}

/**
 * Where the documents entering a pipeline come from, which decides whether it must start with
 * the tenant filter: `'tenant'` (a tenant-scoped collection: yes), `'global'` (a global
 * collection: no) or `'derived'` (a `$facet` branch, fed by the already scoped pipeline: no).
 */
type PipelineSource = 'tenant' | 'global' | 'derived';

interface StagePosition {
  readonly source: PipelineSource;
  /** The first stage of its pipeline ($geoNear and $vectorSearch must be, and carry the filter). */
  readonly first: boolean;
  /** The last stage of the top-level pipeline, the only place $merge may stand. */
  readonly lastOfTopLevel: boolean;
  readonly where: string;
}

/**
 * Stages that only transform the documents flowing through them, plus the five handled below
 * that read or write other collections ($lookup, $unionWith, $graphLookup, $merge) or hold
 * sub-pipelines ($facet), and the two that must come first and take a filter ($geoNear,
 * $vectorSearch). Anything else is refused: a stage this code does not know may read outside
 * the tenant ($rankFusion runs its sub-pipelines against the whole collection).
 */
const knownStages: ReadonlySet<string> = new Set([
  '$addFields',
  '$bucket',
  '$bucketAuto',
  '$count',
  '$densify',
  '$facet',
  '$fill',
  '$geoNear',
  '$graphLookup',
  '$group',
  '$limit',
  '$lookup',
  '$match',
  '$merge',
  '$project',
  '$redact',
  '$replaceRoot',
  '$replaceWith',
  '$sample',
  '$set',
  '$setWindowFields',
  '$skip',
  '$sort',
  '$sortByCount',
  '$unionWith',
  '$unset',
  '$unwind',
  '$vectorSearch',
]);

const everyTenant = "every tenant's documents";
const wholeServer = 'the whole server, not one tenant';
const atlasSearch = `queries an Atlas Search index holding ${everyTenant} (its scores and counts span tenants)`;

/** Stages that escape the tenant's documents, with the reason given when one is refused. */
const refusedStages: ReadonlyMap<string, string> = new Map([
  ['$out', `replaces the whole target collection, ${everyTenant}`],
  ['$documents', 'injects documents that belong to no tenant'],
  ['$collStats', `reports on ${everyTenant}`],
  ['$indexStats', `reports on ${everyTenant}`],
  ['$planCacheStats', `reports on ${everyTenant}`],
  ['$currentOp', `reports on ${wholeServer}`],
  ['$listSessions', `reports on ${wholeServer}`],
  ['$listLocalSessions', `reports on ${wholeServer}`],
  ['$listSampledQueries', `reports on ${wholeServer}`],
  ['$listSearchIndexes', `reports on ${wholeServer}`],
  ['$listClusterCatalog', `reports on ${wholeServer}`],
  ['$shardedDataDistribution', `reports on ${wholeServer}`],
  ['$querySettings', `reports on ${wholeServer}`],
  ['$changeStream', `streams the changes of ${everyTenant}`],
  ['$changeStreamSplitLargeEvent', `belongs to change streams over ${everyTenant}`],
  ['$search', atlasSearch],
  ['$searchMeta', atlasSearch],
  ['$rankFusion', `runs sub-pipelines over ${everyTenant}`],
  ['$scoreFusion', `runs sub-pipelines over ${everyTenant}`],
]);

const lookupKeys: ReadonlySet<string> = new Set(['from', 'localField', 'foreignField', 'let', 'pipeline', 'as']);
const unionWithKeys: ReadonlySet<string> = new Set(['coll', 'pipeline']);
const graphLookupKeys: ReadonlySet<string> = new Set([
  'from',
  'startWith',
  'connectFromField',
  'connectToField',
  'as',
  'maxDepth',
  'depthField',
  'restrictSearchWithMatch',
]);
const mergeKeys: ReadonlySet<string> = new Set(['into', 'on', 'let', 'whenMatched', 'whenNotMatched']);
const mergeWhenMatched: ReadonlySet<string> = new Set(['replace', 'keepExisting', 'merge', 'fail']);
const mergeWhenNotMatched: ReadonlySet<string> = new Set(['insert', 'discard', 'fail']);

function violation(where: string, problem: string): TenantContextError {
  return new TenantContextError('TENANT_ISOLATION_VIOLATION', `${where} ${problem}`, { details: { path: where } });
}

function invalid(where: string, problem: string): TenantContextError {
  return new TenantContextError('VALIDATION_FAILED', `${where} ${problem}`, { details: { path: where } });
}

function stageParts(stage: unknown, where: string): [name: string, body: unknown] {
  if (!isDocumentLike(stage)) throw invalid(where, 'must be a stage document');
  const names = Object.keys(stage);
  const name = names[0];
  if (names.length !== 1 || name === undefined || !name.startsWith('$')) {
    throw invalid(where, 'must have exactly one stage operator (a key starting with "$")');
  }
  return [name, stage[name]];
}

function assertKnownKeys(body: Document, allowed: ReadonlySet<string>, where: string): void {
  for (const key of Object.keys(body)) {
    if (!allowed.has(key)) throw invalid(where, `has the unknown option "${key}"`);
  }
}

function classifyCollection(name: unknown, scope: PipelineScope, where: string): 'tenant' | 'global' {
  if (typeof name !== 'string') {
    throw violation(where, 'names a collection of another database, or not by name; only collections of this database can be read');
  }
  if (scope.tenantScopedCollections.has(name)) return 'tenant';
  if (scope.globalCollections.has(name)) return 'global';
  throw violation(
    where,
    `reads the collection "${name}", which is declared neither tenant-scoped nor global: add it to tenantScopedCollections (its documents carry the tenant field) or to globalCollections (reference data every tenant may read)`,
  );
}

function subPipeline(value: unknown, where: string): unknown[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalid(where, 'must be an array of stages');
  return value;
}

function optionalFilter(value: unknown, where: string): Document | undefined {
  if (value === undefined) return undefined;
  if (!isDocumentLike(value)) throw invalid(where, 'must be a filter document');
  return value;
}

function rewriteLookup(body: unknown, scope: PipelineScope, where: string): Document {
  if (!isDocumentLike(body)) throw invalid(where, 'must be a document');
  assertKnownKeys(body, lookupKeys, where);
  if (body['from'] === undefined) throw violation(where, 'has no "from": a $lookup over $documents is refused');
  const kind = classifyCollection(body['from'], scope, `${where}.from`);
  const joinsOnFields = Object.hasOwn(body, 'localField');
  if (joinsOnFields !== Object.hasOwn(body, 'foreignField')) throw invalid(where, 'needs both localField and foreignField, or neither');
  const pipeline = subPipeline(body['pipeline'], `${where}.pipeline`);
  if (!joinsOnFields && pipeline === undefined) throw invalid(where, 'needs localField and foreignField, or a pipeline');
  if (kind === 'tenant') {
    // localField/foreignField joins keep their exact matching semantics (arrays, missing fields)
    // and gain a pipeline holding the tenant filter: the concise correlated form of MongoDB 5.0+.
    return { ...body, pipeline: rewritePipeline(pipeline ?? [], scope, 'tenant', `${where}.pipeline`, false) };
  }
  if (pipeline === undefined) return body;
  return { ...body, pipeline: rewritePipeline(pipeline, scope, 'global', `${where}.pipeline`, false) };
}

function rewriteUnionWith(body: unknown, scope: PipelineScope, where: string): Document {
  let collection: unknown;
  let pipeline: unknown[] | undefined;
  if (typeof body === 'string') {
    collection = body;
  } else if (isDocumentLike(body)) {
    assertKnownKeys(body, unionWithKeys, where);
    collection = body['coll'];
    pipeline = subPipeline(body['pipeline'], `${where}.pipeline`);
  } else {
    throw invalid(where, 'must be a collection name or a document');
  }
  if (collection === undefined) throw violation(where, 'has no "coll": a $unionWith over $documents is refused');
  const kind = classifyCollection(collection, scope, `${where}.coll`);
  if (kind === 'tenant') {
    return { coll: collection, pipeline: rewritePipeline(pipeline ?? [], scope, 'tenant', `${where}.pipeline`, false) };
  }
  if (pipeline === undefined) return { coll: collection };
  return { coll: collection, pipeline: rewritePipeline(pipeline, scope, 'global', `${where}.pipeline`, false) };
}

function rewriteGraphLookup(body: unknown, scope: PipelineScope, where: string): Document {
  if (!isDocumentLike(body)) throw invalid(where, 'must be a document');
  assertKnownKeys(body, graphLookupKeys, where);
  if (body['from'] === undefined) throw invalid(where, 'needs "from"');
  const kind = classifyCollection(body['from'], scope, `${where}.from`);
  const restriction = optionalFilter(body['restrictSearchWithMatch'], `${where}.restrictSearchWithMatch`);
  if (kind === 'global') return body;
  // Every hop of the traversal is restricted, not only the start.
  return { ...body, restrictSearchWithMatch: withTenantCondition(restriction, scope) };
}

function rewriteFacet(body: unknown, scope: PipelineScope, where: string): Document {
  if (!isDocumentLike(body)) throw invalid(where, 'must be a document of named sub-pipelines');
  const facets: Record<string, Document[]> = {};
  for (const name of Object.keys(body)) {
    const pipeline = subPipeline(body[name], `${where}.${name}`) ?? [];
    // A branch sees only the documents the enclosing pipeline feeds it (already scoped, or
    // global reference data on purpose), so it gets no filter of its own; its joins do.
    facets[name] = rewritePipeline(pipeline, scope, 'derived', `${where}.${name}`, false);
  }
  return facets;
}

function rewriteGeoNear(body: unknown, scope: PipelineScope, position: StagePosition): Document {
  if (!isDocumentLike(body)) throw invalid(position.where, 'must be a document');
  if (position.source !== 'tenant' || !position.first) return body;
  const query = optionalFilter(body['query'], `${position.where}.query`);
  return { ...body, query: withTenantCondition(query, scope) };
}

function rewriteVectorSearch(body: unknown, scope: PipelineScope, position: StagePosition): Document {
  if (!isDocumentLike(body)) throw invalid(position.where, 'must be a document');
  if (position.source !== 'tenant' || !position.first) return body;
  const filter = optionalFilter(body['filter'], `${position.where}.filter`);
  // Vector search filters take the operator form; the tenant field must be indexed as a filter field.
  const tenant = { [scope.tenantField]: { $eq: scope.tenantId } };
  return { ...body, filter: { $and: filter === undefined || Object.keys(filter).length === 0 ? [tenant] : [tenant, filter] } };
}

function mergeTarget(into: unknown, scope: PipelineScope, where: string): string {
  let collection: unknown = into;
  if (isDocumentLike(into)) {
    assertKnownKeys(into, new Set(['db', 'coll']), where);
    if (into['db'] !== undefined && into['db'] !== scope.databaseName) throw violation(where, 'writes into another database');
    collection = into['coll'];
  }
  if (typeof collection !== 'string') throw invalid(where, 'must name the target collection');
  if (!scope.tenantScopedCollections.has(collection)) {
    throw violation(where, `writes tenant data into "${collection}", which is not declared tenant-scoped`);
  }
  return collection;
}

function rewriteMerge(body: unknown, scope: PipelineScope, position: StagePosition): Document[] {
  const { where } = position;
  if (!scope.allowMerge) {
    throw violation(where, 'writes into a collection; pass allowMerge: true to tenantCollection() to allow $merge into tenant-scoped collections');
  }
  if (!position.lastOfTopLevel) throw violation(where, 'is only allowed as the last stage of the top-level pipeline');
  if (!isDocumentLike(body)) {
    throw violation(where, `must be a document whose "on" includes "${scope.tenantField}"`);
  }
  assertKnownKeys(body, mergeKeys, where);
  const into = mergeTarget(body['into'], scope, `${where}.into`);
  const on: unknown = body['on'];
  const onFields: unknown[] = Array.isArray(on) ? on : [on];
  if (!onFields.every((field) => typeof field === 'string') || !onFields.includes(scope.tenantField)) {
    throw violation(
      `${where}.on`,
      `must include "${scope.tenantField}": matching on other fields alone would let a merged document replace another tenant's`,
    );
  }
  const whenMatched: unknown = body['whenMatched'];
  let guardedWhenMatched: unknown = whenMatched;
  if (Array.isArray(whenMatched)) {
    guardedWhenMatched = guardUpdatePipeline(whenMatched, scope, `${where}.whenMatched`);
  } else if (whenMatched !== undefined && !(typeof whenMatched === 'string' && mergeWhenMatched.has(whenMatched))) {
    throw invalid(`${where}.whenMatched`, 'must be replace, keepExisting, merge, fail or an update pipeline');
  }
  const whenNotMatched: unknown = body['whenNotMatched'];
  if (whenNotMatched !== undefined && !(typeof whenNotMatched === 'string' && mergeWhenNotMatched.has(whenNotMatched))) {
    throw invalid(`${where}.whenNotMatched`, 'must be insert, discard or fail');
  }
  const merge: Document = { ...body, into };
  if (guardedWhenMatched !== undefined) merge['whenMatched'] = guardedWhenMatched;
  // Whatever earlier stages computed, every merged document belongs to the tenant in scope.
  return [restoreTenantStage(scope), { $merge: merge }];
}

function rewriteStage(name: string, body: unknown, scope: PipelineScope, position: StagePosition): Document[] {
  const refusal = refusedStages.get(name);
  if (refusal !== undefined) throw violation(position.where, refusal);
  if (!knownStages.has(name)) {
    throw violation(position.where, 'is a stage the tenant collection does not know, so it cannot tell whether it stays within the tenant');
  }
  switch (name) {
    case '$lookup':
      return [{ $lookup: rewriteLookup(body, scope, position.where) }];
    case '$unionWith':
      return [{ $unionWith: rewriteUnionWith(body, scope, position.where) }];
    case '$graphLookup':
      return [{ $graphLookup: rewriteGraphLookup(body, scope, position.where) }];
    case '$facet':
      return [{ $facet: rewriteFacet(body, scope, position.where) }];
    case '$geoNear':
      return [{ $geoNear: rewriteGeoNear(body, scope, position) }];
    case '$vectorSearch':
      return [{ $vectorSearch: rewriteVectorSearch(body, scope, position) }];
    case '$merge':
      return rewriteMerge(body, scope, position);
    default:
      return [{ [name]: body }];
  }
}

function rewritePipeline(stages: readonly unknown[], scope: PipelineScope, source: PipelineSource, where: string, topLevel: boolean): Document[] {
  const parts = stages.map((stage, index) => stageParts(stage, `${where}.${index}`));
  const firstName = parts[0]?.[0];
  const rewritten: Document[] = [];
  // $geoNear and $vectorSearch must be first; they carry the tenant filter themselves.
  if (source === 'tenant' && firstName !== '$geoNear' && firstName !== '$vectorSearch') {
    rewritten.push({ $match: tenantEquality(scope) });
  }
  parts.forEach(([name, body], index) => {
    const position: StagePosition = {
      source,
      first: index === 0,
      lastOfTopLevel: topLevel && index === parts.length - 1,
      where: `${where}.${index}.${name}`,
    };
    rewritten.push(...rewriteStage(name, body, scope, position));
  });
  return rewritten;
}

/**
 * Scopes an aggregation pipeline on a tenant-scoped collection to the tenant in scope. The
 * pipeline is first copied and checked (no `$where`, `$function`, `$accumulator` or
 * `__proto__` anywhere, see {@link copyQueryValue}); then:
 * - it starts with `{ $match: { [tenantField]: tenantId } }` (a leading `$geoNear` gets the
 *   tenant in its `query`, a leading `$vectorSearch` in its `filter`, as both must come first);
 * - `$lookup`, `$unionWith` and `$graphLookup` into a tenant-scoped collection read only the
 *   tenant's documents: sub-pipelines start with the tenant `$match` (a localField/foreignField
 *   `$lookup` gains such a pipeline, the concise correlated form of MongoDB 5.0+), and
 *   `restrictSearchWithMatch` is scoped like a filter; into a global collection they are left
 *   as they are; into any other collection they are refused;
 * - every sub-pipeline (`$facet` branches, joins inside joins) is rewritten the same way;
 * - `$merge` is allowed only with `allowMerge`, last, into a tenant-scoped collection, matching
 *   `on` the tenant field; it is preceded by a stage forcing the tenant field to the tenant;
 * - `$out`, `$documents`, statistics, server-reporting, change-stream and Atlas Search stages,
 *   and stages this code does not know, are refused.
 *
 * @throws TenantContextError `TENANT_ISOLATION_VIOLATION` for anything that would read or write
 *   outside the tenant; `VALIDATION_FAILED` for a malformed pipeline or stage.
 *
 * @example
 * ```ts
 * scopeAggregationPipeline([{ $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' } }], scope);
 * // [{ $match: { tenantId: 'tnt_a' } },
 * //  { $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer',
 * //               pipeline: [{ $match: { tenantId: 'tnt_a' } }] } }]
 * ```
 */
export function scopeAggregationPipeline(pipeline: unknown, scope: PipelineScope): Document[] {
  if (pipeline === undefined) return rewritePipeline([], scope, 'tenant', 'pipeline', true);
  if (!Array.isArray(pipeline)) throw invalid('pipeline', 'must be an array of stages');
  const stages = copyQueryValue(pipeline, 'pipeline') as unknown[];
  return rewritePipeline(stages, scope, 'tenant', 'pipeline', true);
}

/**
 * Scopes one stage appended to an already scoped top-level pipeline (an aggregation cursor's
 * `addStage()`, `lookup()`, `out()` ...), with the same rules as
 * {@link scopeAggregationPipeline}. May return two stages (`$merge` is preceded by the stage
 * forcing the tenant).
 *
 * @example
 * ```ts
 * scopeAppendedStage({ $unionWith: 'archived_invoices' }, scope);
 * // [{ $unionWith: { coll: 'archived_invoices', pipeline: [{ $match: { tenantId: 'tnt_a' } }] } }]
 * ```
 */
export function scopeAppendedStage(stage: unknown, scope: PipelineScope): Document[] {
  const [name, body] = stageParts(copyQueryValue(stage, 'stage'), 'stage');
  return rewriteStage(name, body, scope, { source: 'tenant', first: false, lastOfTopLevel: true, where: `stage.${name}` });
}
