import { describe, expect, it } from 'vitest';
import { type PipelineScope, scopeAggregationPipeline, scopeAppendedStage } from '../../../src/isolation/mongodb/pipeline-scoping.js';
import { assertPipelineIsolated, expectCode, pipelineScope, tenantMatch } from './isolation-fixtures.js';

const mergeScope: PipelineScope = { ...pipelineScope, allowMerge: true };
const restore = { $set: { tenantId: { $literal: 'tnt_a' } } };

describe('scopeAggregationPipeline: the top level', () => {
  it('starts every pipeline with the tenant $match', () => {
    expect(scopeAggregationPipeline(undefined, pipelineScope)).toEqual([tenantMatch]);
    expect(scopeAggregationPipeline([], pipelineScope)).toEqual([tenantMatch]);
    const stages = [{ $match: { status: 'open' } }, { $group: { _id: '$status', total: { $sum: '$total' } } }, { $sort: { total: -1 } }];
    expect(scopeAggregationPipeline(stages, pipelineScope)).toEqual([tenantMatch, ...stages]);
  });

  it('keeps a caller $match that names another tenant after the tenant $match, where it matches nothing', () => {
    expect(scopeAggregationPipeline([{ $match: { tenantId: 'tnt_b' } }], pipelineScope)).toEqual([tenantMatch, { $match: { tenantId: 'tnt_b' } }]);
  });

  it('puts the tenant into a leading $geoNear query instead, as $geoNear must come first', () => {
    const geoNear = { near: { type: 'Point', coordinates: [0, 0] }, distanceField: 'distance', query: { open: true } };
    expect(scopeAggregationPipeline([{ $geoNear: geoNear }, { $limit: 5 }], pipelineScope)).toEqual([
      { $geoNear: { ...geoNear, query: { $and: [{ tenantId: 'tnt_a' }, { open: true }] } } },
      { $limit: 5 },
    ]);
    const { query: _, ...withoutQuery } = geoNear;
    expect(scopeAggregationPipeline([{ $geoNear: withoutQuery }], pipelineScope)).toEqual([
      { $geoNear: { ...withoutQuery, query: { $and: [{ tenantId: 'tnt_a' }] } } },
    ]);
  });

  it('puts the tenant into a leading $vectorSearch filter', () => {
    const search = { index: 'embeddings', path: 'embedding', queryVector: [0.1, 0.2], numCandidates: 50, limit: 5 };
    expect(scopeAggregationPipeline([{ $vectorSearch: search }], pipelineScope)).toEqual([
      { $vectorSearch: { ...search, filter: { $and: [{ tenantId: { $eq: 'tnt_a' } }] } } },
    ]);
    expect(scopeAggregationPipeline([{ $vectorSearch: { ...search, filter: { lang: 'en' } } }], pipelineScope)).toEqual([
      { $vectorSearch: { ...search, filter: { $and: [{ tenantId: { $eq: 'tnt_a' } }, { lang: 'en' }] } } },
    ]);
  });

  it('leaves a $geoNear that is not first alone: the tenant $match comes first and the server refuses it', () => {
    const geoNear = { near: [0, 0], distanceField: 'd' };
    expect(scopeAggregationPipeline([{ $limit: 1 }, { $geoNear: geoNear }], pipelineScope)).toEqual([tenantMatch, { $limit: 1 }, { $geoNear: geoNear }]);
  });

  it('does not modify the caller pipeline', () => {
    const stages = [{ $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' } }];
    const before = structuredClone(stages);
    scopeAggregationPipeline(stages, pipelineScope);
    expect(stages).toEqual(before);
  });
});

describe('scopeAggregationPipeline: $lookup', () => {
  it('rewrites a localField/foreignField join into a tenant collection to the concise correlated form', () => {
    const lookup = { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' };
    expect(scopeAggregationPipeline([{ $lookup: lookup }], pipelineScope)).toEqual([
      tenantMatch,
      { $lookup: { ...lookup, pipeline: [tenantMatch] } },
    ]);
  });

  it('adds the tenant $match before the caller sub-pipeline of a combined localField + pipeline join', () => {
    const lookup = { from: 'customers', localField: 'customerId', foreignField: '_id', pipeline: [{ $project: { name: 1 } }], as: 'customer' };
    expect(scopeAggregationPipeline([{ $lookup: lookup }], pipelineScope)).toEqual([
      tenantMatch,
      { $lookup: { ...lookup, pipeline: [tenantMatch, { $project: { name: 1 } }] } },
    ]);
  });

  it('starts a let/pipeline join into a tenant collection with the tenant $match', () => {
    const lookup = {
      from: 'invoices',
      let: { customer: '$_id' },
      pipeline: [{ $match: { $expr: { $eq: ['$customerId', '$$customer'] } } }],
      as: 'invoices',
    };
    expect(scopeAggregationPipeline([{ $lookup: lookup }], pipelineScope)).toEqual([
      tenantMatch,
      { $lookup: { ...lookup, pipeline: [tenantMatch, ...lookup.pipeline] } },
    ]);
  });

  it('leaves a join into a global collection as it is', () => {
    const lookup = { from: 'currencies', localField: 'currency', foreignField: 'code', as: 'currency' };
    expect(scopeAggregationPipeline([{ $lookup: lookup }], pipelineScope)).toEqual([tenantMatch, { $lookup: lookup }]);
    const piped = { from: 'currencies', pipeline: [{ $match: { active: true } }], as: 'currencies' };
    expect(scopeAggregationPipeline([{ $lookup: piped }], pipelineScope)).toEqual([tenantMatch, { $lookup: piped }]);
  });

  it('scopes a tenant join nested inside a global join', () => {
    const inner = { from: 'customers', localField: 'code', foreignField: 'currency', as: 'customers' };
    const outer = { from: 'currencies', pipeline: [{ $lookup: inner }], as: 'currencies' };
    expect(scopeAggregationPipeline([{ $lookup: outer }], pipelineScope)).toEqual([
      tenantMatch,
      { $lookup: { ...outer, pipeline: [{ $lookup: { ...inner, pipeline: [tenantMatch] } }] } },
    ]);
  });

  it('refuses a join into an undeclared collection, naming how to declare it', () => {
    const error = expectCode(
      () => scopeAggregationPipeline([{ $lookup: { from: 'users', localField: 'a', foreignField: 'b', as: 'c' } }], pipelineScope),
      'TENANT_ISOLATION_VIOLATION',
    );
    expect(error.message).toContain('"users"');
    expect(error.message).toContain('tenantScopedCollections');
    expect(error.details).toEqual({ path: 'pipeline.0.$lookup.from' });
  });

  it('refuses a join over $documents (no from) or into another database', () => {
    expectCode(() => scopeAggregationPipeline([{ $lookup: { pipeline: [{ $documents: [{ a: 1 }] }], as: 'x' } }], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(
      () => scopeAggregationPipeline([{ $lookup: { from: { db: 'other', coll: 'customers' }, localField: 'a', foreignField: 'b', as: 'c' } }], pipelineScope),
      'TENANT_ISOLATION_VIOLATION',
    );
  });

  it('refuses malformed joins with VALIDATION_FAILED', () => {
    const bad = [
      { from: 'customers', localField: 'a', as: 'c' },
      { from: 'customers', foreignField: 'a', as: 'c' },
      { from: 'customers', as: 'c' },
      { from: 'customers', pipeline: { $match: {} }, as: 'c' },
      { from: 'customers', localField: 'a', foreignField: 'b', as: 'c', unknownOption: true },
      'customers',
    ];
    for (const lookup of bad) expectCode(() => scopeAggregationPipeline([{ $lookup: lookup }], pipelineScope), 'VALIDATION_FAILED');
  });

  it('refuses escaping stages inside a join pipeline', () => {
    expectCode(
      () => scopeAggregationPipeline([{ $lookup: { from: 'currencies', pipeline: [{ $unionWith: 'users' }], as: 'c' } }], pipelineScope),
      'TENANT_ISOLATION_VIOLATION',
    );
  });
});

describe('scopeAggregationPipeline: $unionWith, $graphLookup, $facet', () => {
  it('rewrites $unionWith into a tenant collection to the object form with the tenant $match', () => {
    expect(scopeAggregationPipeline([{ $unionWith: 'customers' }], pipelineScope)).toEqual([
      tenantMatch,
      { $unionWith: { coll: 'customers', pipeline: [tenantMatch] } },
    ]);
    expect(scopeAggregationPipeline([{ $unionWith: { coll: 'customers', pipeline: [{ $project: { name: 1 } }] } }], pipelineScope)).toEqual([
      tenantMatch,
      { $unionWith: { coll: 'customers', pipeline: [tenantMatch, { $project: { name: 1 } }] } },
    ]);
  });

  it('leaves $unionWith into a global collection unfiltered, and refuses undeclared or $documents ones', () => {
    expect(scopeAggregationPipeline([{ $unionWith: 'currencies' }], pipelineScope)).toEqual([tenantMatch, { $unionWith: { coll: 'currencies' } }]);
    expectCode(() => scopeAggregationPipeline([{ $unionWith: 'audit_log' }], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => scopeAggregationPipeline([{ $unionWith: { pipeline: [{ $documents: [{}] }] } }], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => scopeAggregationPipeline([{ $unionWith: { coll: 'customers', extra: 1 } }], pipelineScope), 'VALIDATION_FAILED');
    expectCode(() => scopeAggregationPipeline([{ $unionWith: 5 }], pipelineScope), 'VALIDATION_FAILED');
  });

  it('restricts every $graphLookup hop into a tenant collection to the tenant', () => {
    const graph = { from: 'customers', startWith: '$referredBy', connectFromField: 'referredBy', connectToField: '_id', as: 'chain' };
    expect(scopeAggregationPipeline([{ $graphLookup: graph }], pipelineScope)).toEqual([
      tenantMatch,
      { $graphLookup: { ...graph, restrictSearchWithMatch: { $and: [{ tenantId: 'tnt_a' }] } } },
    ]);
    expect(scopeAggregationPipeline([{ $graphLookup: { ...graph, restrictSearchWithMatch: { active: true } } }], pipelineScope)).toEqual([
      tenantMatch,
      { $graphLookup: { ...graph, restrictSearchWithMatch: { $and: [{ tenantId: 'tnt_a' }, { active: true }] } } },
    ]);
  });

  it('leaves $graphLookup into a global collection alone and refuses undeclared ones', () => {
    const graph = { from: 'currencies', startWith: '$base', connectFromField: 'base', connectToField: 'code', as: 'chain' };
    expect(scopeAggregationPipeline([{ $graphLookup: graph }], pipelineScope)).toEqual([tenantMatch, { $graphLookup: graph }]);
    expectCode(() => scopeAggregationPipeline([{ $graphLookup: { ...graph, from: 'users' } }], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => scopeAggregationPipeline([{ $graphLookup: { ...graph, restrictSearchWithMatch: { $where: '1' } } }], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => scopeAggregationPipeline([{ $graphLookup: { ...graph, restrictSearchWithMatch: 'x' } }], pipelineScope), 'VALIDATION_FAILED');
  });

  it('rewrites joins inside $facet branches without filtering the branches themselves', () => {
    const lookup = { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' };
    const facet = { byStatus: [{ $sortByCount: '$status' }], withCustomers: [{ $lookup: lookup }, { $limit: 3 }] };
    expect(scopeAggregationPipeline([{ $facet: facet }], pipelineScope)).toEqual([
      tenantMatch,
      { $facet: { byStatus: [{ $sortByCount: '$status' }], withCustomers: [{ $lookup: { ...lookup, pipeline: [tenantMatch] } }, { $limit: 3 }] } },
    ]);
    expectCode(() => scopeAggregationPipeline([{ $facet: { a: [{ $collStats: {} }] } }], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => scopeAggregationPipeline([{ $facet: { a: { $limit: 1 } } }], pipelineScope), 'VALIDATION_FAILED');
  });

  it('rewrites arbitrarily nested joins (facet in lookup in unionWith)', () => {
    const pipeline = [
      {
        $unionWith: {
          coll: 'customers',
          pipeline: [{ $lookup: { from: 'invoices', pipeline: [{ $facet: { x: [{ $unionWith: 'customers' }] } }], as: 'i' } }],
        },
      },
    ];
    const scoped = scopeAggregationPipeline(pipeline, pipelineScope);
    expect(assertPipelineIsolated(scoped, true)).toBe(5);
    expect(scoped).toEqual([
      tenantMatch,
      {
        $unionWith: {
          coll: 'customers',
          pipeline: [
            tenantMatch,
            {
              $lookup: {
                from: 'invoices',
                pipeline: [tenantMatch, { $facet: { x: [{ $unionWith: { coll: 'customers', pipeline: [tenantMatch] } }] } }],
                as: 'i',
              },
            },
          ],
        },
      },
    ]);
  });
});

describe('scopeAggregationPipeline: refused stages', () => {
  it.each([
    ['$out', { $out: 'copy' }],
    ['$documents', { $documents: [{ tenantId: 'tnt_b' }] }],
    ['$collStats', { $collStats: { count: {} } }],
    ['$indexStats', { $indexStats: {} }],
    ['$planCacheStats', { $planCacheStats: {} }],
    ['$currentOp', { $currentOp: {} }],
    ['$listSessions', { $listSessions: {} }],
    ['$listLocalSessions', { $listLocalSessions: {} }],
    ['$listSearchIndexes', { $listSearchIndexes: {} }],
    ['$changeStream', { $changeStream: {} }],
    ['$search', { $search: { text: { query: 'x', path: 'name' } } }],
    ['$searchMeta', { $searchMeta: { count: {} } }],
    ['$rankFusion', { $rankFusion: { input: { pipelines: {} } } }],
    ['an unknown stage', { $futureStage: {} }],
  ])('refuses %s with TENANT_ISOLATION_VIOLATION', (_, stage) => {
    expectCode(() => scopeAggregationPipeline([stage], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
  });

  it('refuses server-side JavaScript in any stage', () => {
    expectCode(() => scopeAggregationPipeline([{ $match: { $where: 'true' } }], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(
      () => scopeAggregationPipeline([{ $group: { _id: null, all: { $accumulator: { init: 'function() {}' } } } }], pipelineScope),
      'TENANT_ISOLATION_VIOLATION',
    );
    expectCode(() => scopeAggregationPipeline([{ $project: { x: { $function: {} } } }], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
  });

  it('refuses malformed pipelines and stages with VALIDATION_FAILED', () => {
    for (const pipeline of [{ $match: {} }, 'pipeline', null, [null], [{}], [{ $match: {}, $limit: 1 }], [{ match: {} }]]) {
      expectCode(() => scopeAggregationPipeline(pipeline, pipelineScope), 'VALIDATION_FAILED');
    }
  });
});

describe('scopeAggregationPipeline: $merge', () => {
  const merge = { into: 'customers', on: ['tenantId', 'code'], whenMatched: 'merge', whenNotMatched: 'insert' };

  it('is refused unless allowMerge is set', () => {
    const error = expectCode(() => scopeAggregationPipeline([{ $merge: merge }], pipelineScope), 'TENANT_ISOLATION_VIOLATION');
    expect(error.message).toContain('allowMerge');
  });

  it('with allowMerge, forces the tenant on every merged document', () => {
    expect(scopeAggregationPipeline([{ $project: { code: 1 } }, { $merge: merge }], mergeScope)).toEqual([
      tenantMatch,
      { $project: { code: 1 } },
      restore,
      { $merge: merge },
    ]);
  });

  it('with allowMerge, guards a whenMatched pipeline like an update pipeline', () => {
    const whenMatched = [{ $set: { total: { $add: ['$total', '$$new.total'] } } }];
    expect(scopeAggregationPipeline([{ $merge: { ...merge, whenMatched } }], mergeScope)).toEqual([
      tenantMatch,
      restore,
      { $merge: { ...merge, whenMatched: [...whenMatched, restore] } },
    ]);
    expectCode(() => scopeAggregationPipeline([{ $merge: { ...merge, whenMatched: [{ $set: { tenantId: '$$new.x' } }] } }], mergeScope), 'TENANT_ISOLATION_VIOLATION');
  });

  it('accepts { db, coll } of the same database, normalised to the collection name', () => {
    expect(scopeAggregationPipeline([{ $merge: { ...merge, into: { db: 'app', coll: 'customers' } } }], mergeScope)).toEqual([
      tenantMatch,
      restore,
      { $merge: merge },
    ]);
  });

  it.each([
    ['into another database', { ...merge, into: { db: 'other', coll: 'customers' } }],
    ['into a global collection', { ...merge, into: 'currencies' }],
    ['into an undeclared collection', { ...merge, into: 'users' }],
    ['without on (matching by _id only)', { into: 'customers' }],
    ['with on not naming the tenant field', { ...merge, on: 'code' }],
    ['in the string form', 'customers'],
  ])('refuses a $merge %s', (_, body) => {
    expectCode(() => scopeAggregationPipeline([{ $merge: body }], mergeScope), 'TENANT_ISOLATION_VIOLATION');
  });

  it('refuses a $merge that is not the last top-level stage, or sits in a sub-pipeline', () => {
    expectCode(() => scopeAggregationPipeline([{ $merge: merge }, { $limit: 1 }], mergeScope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => scopeAggregationPipeline([{ $facet: { a: [{ $merge: merge }] } }], mergeScope), 'TENANT_ISOLATION_VIOLATION');
  });

  it('refuses malformed $merge options with VALIDATION_FAILED', () => {
    expectCode(() => scopeAggregationPipeline([{ $merge: { ...merge, whenMatched: 'overwrite' } }], mergeScope), 'VALIDATION_FAILED');
    expectCode(() => scopeAggregationPipeline([{ $merge: { ...merge, whenNotMatched: 'upsert' } }], mergeScope), 'VALIDATION_FAILED');
    expectCode(() => scopeAggregationPipeline([{ $merge: { ...merge, extra: 1 } }], mergeScope), 'VALIDATION_FAILED');
    expectCode(() => scopeAggregationPipeline([{ $merge: { ...merge, into: 5 } }], mergeScope), 'VALIDATION_FAILED');
  });
});

describe('scopeAppendedStage', () => {
  it('scopes a stage appended to a scoped pipeline', () => {
    expect(scopeAppendedStage({ $unionWith: 'customers' }, pipelineScope)).toEqual([{ $unionWith: { coll: 'customers', pipeline: [tenantMatch] } }]);
    expect(scopeAppendedStage({ $limit: 1 }, pipelineScope)).toEqual([{ $limit: 1 }]);
    expect(scopeAppendedStage({ $merge: { into: 'customers', on: 'tenantId' } }, mergeScope)).toEqual([restore, { $merge: { into: 'customers', on: 'tenantId' } }]);
    expectCode(() => scopeAppendedStage({ $out: 'x' }, pipelineScope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => scopeAppendedStage({ $match: { $where: '1' } }, pipelineScope), 'TENANT_ISOLATION_VIOLATION');
  });
});
