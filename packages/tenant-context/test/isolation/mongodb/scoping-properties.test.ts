import fc from 'fast-check';
import type { Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { TenantContextError } from '../../../src/errors.js';
import { scopeFilter } from '../../../src/isolation/mongodb/filter-scoping.js';
import { scopeAggregationPipeline } from '../../../src/isolation/mongodb/pipeline-scoping.js';
import { guardUpdate } from '../../../src/isolation/mongodb/update-guards.js';
import { assertPipelineIsolated, isTenantScopedFilter, pipelineScope, scope } from './isolation-fixtures.js';

const serverSideJavaScript = ['$where', '$function', '$accumulator'] as const;

/** Filters with $or/$nor/$and/$not/$elemMatch/$expr, tenant spoofing, and, rarely, server-side JavaScript. */
const { filter } = fc.letrec<{ filter: Document; condition: unknown }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: fc.dictionary(fc.constantFrom('tenantId', 'status', 'total', 'tenantId.x', 'lines.tenantId', 'constructor'), tie('condition'), { maxKeys: 3 }), weight: 4 },
    { arbitrary: fc.record({ $or: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }) }), weight: 2 },
    { arbitrary: fc.record({ $nor: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }) }), weight: 2 },
    { arbitrary: fc.record({ $and: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }) }), weight: 2 },
    { arbitrary: fc.record({ $expr: fc.constantFrom<unknown>({ $eq: ['$tenantId', 'tnt_b'] }, { $ne: ['$tenantId', null] }) }), weight: 2 },
    { arbitrary: fc.record({ tenantId: fc.constantFrom('tnt_b', 'tnt_a'), status: tie('condition') }), weight: 2 },
    { arbitrary: fc.constantFrom(...serverSideJavaScript).map((operator): Document => ({ [operator]: 'return true' })), weight: 1 },
  ),
  condition: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom<unknown>('tnt_a', 'tnt_b', 'open', 1, null, true),
    fc.record({ $ne: fc.constantFrom('tnt_a', 'tnt_b') }),
    fc.record({ $in: fc.array(fc.constantFrom('tnt_a', 'tnt_b'), { maxLength: 3 }) }),
    fc.record({ $exists: fc.boolean() }),
    fc.record({ $not: fc.record({ $eq: fc.constantFrom('tnt_a', 'tnt_b') }) }),
    fc.record({ $elemMatch: tie('filter') }),
  ),
}));

function containsKey(value: unknown, keys: ReadonlySet<string>): boolean {
  if (Array.isArray(value)) return value.some((item) => containsKey(item, keys));
  if (typeof value !== 'object' || value === null) return false;
  return Object.keys(value).some((key) => keys.has(key) || containsKey((value as Record<string, unknown>)[key], keys));
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (error instanceof TenantContextError) return error.code;
    throw error;
  }
}

const collection = fc.oneof(
  { arbitrary: fc.constantFrom('invoices', 'customers', 'currencies'), weight: 15 },
  { arbitrary: fc.constant('users'), weight: 1 },
);

/** Pipelines over declared, global and (rarely) undeclared collections, nested joins and facets, and escaping stages. */
const { pipeline } = fc.letrec<{ pipeline: Document[]; stage: Document }>((tie) => ({
  pipeline: fc.array(tie('stage'), { maxLength: 4 }),
  stage: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { arbitrary: filter.map((match) => ({ $match: match })), weight: 3 },
    { arbitrary: fc.constantFrom<Document>({ $project: { number: 1 } }, { $limit: 3 }, { $sort: { number: 1 } }, { $unwind: '$lines' }), weight: 3 },
    { arbitrary: fc.constantFrom<Document>({ $group: { _id: '$status', n: { $sum: 1 } } }, { $set: { tenantId: 'tnt_b' } }), weight: 3 },
    { arbitrary: collection.map((from) => ({ $lookup: { from, localField: 'a', foreignField: 'b', as: 'joined' } })), weight: 3 },
    { arbitrary: fc.tuple(collection, tie('pipeline')).map(([from, sub]) => ({ $lookup: { from, let: { v: '$a' }, pipeline: sub, as: 'joined' } })), weight: 3 },
    { arbitrary: fc.tuple(collection, tie('pipeline')).map(([from, sub]) => ({ $lookup: { from, localField: 'a', foreignField: 'b', pipeline: sub, as: 'joined' } })), weight: 3 },
    { arbitrary: collection.map((coll) => ({ $unionWith: coll })), weight: 3 },
    { arbitrary: fc.tuple(collection, tie('pipeline')).map(([coll, sub]) => ({ $unionWith: { coll, pipeline: sub } })), weight: 3 },
    {
      arbitrary: fc.tuple(collection, fc.option(filter, { nil: undefined })).map(([from, restrict]) => ({
        $graphLookup: {
          from,
          startWith: '$parent',
          connectFromField: 'parent',
          connectToField: '_id',
          as: 'ancestors',
          ...(restrict === undefined ? {} : { restrictSearchWithMatch: restrict }),
        },
      })),
      weight: 3,
    },
    { arbitrary: fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('pipeline'), { minKeys: 1, maxKeys: 2 }).map((facet) => ({ $facet: facet })), weight: 3 },
    { arbitrary: fc.constantFrom<Document>({ $out: 'copy' }, { $collStats: {} }, { $documents: [{}] }, { $search: {} }, { $unknownStage: {} }), weight: 1 },
  ),
}));

const escapingStages = new Set(['$out', '$collStats', '$documents', '$search', '$unknownStage', ...serverSideJavaScript]);

/** Whether the input reaches outside the tenant: an escaping stage, server-side JavaScript or an undeclared collection. */
function escapes(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(escapes);
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  for (const [key, item] of Object.entries(record)) {
    if (escapingStages.has(key)) return true;
    if ((key === '$lookup' || key === '$graphLookup') && (item as Document)['from'] === 'users') return true;
    if (key === '$unionWith' && (item === 'users' || (item as Document)['coll'] === 'users')) return true;
    if (escapes(item)) return true;
  }
  return false;
}

describe('isolation properties', () => {
  it('a scoped filter always has the tenant equality as its first top-level $and member, and keeps the caller filter whole', () => {
    fc.assert(
      fc.property(filter, (input) => {
        const before = structuredClone(input);
        const hostile = containsKey(input, new Set(serverSideJavaScript));
        const code = codeOf(() => scopeFilter(input, scope));
        if (hostile) {
          expect(code).toBe('TENANT_ISOLATION_VIOLATION');
          return;
        }
        expect(code).toBeUndefined();
        const scoped = scopeFilter(input, scope);
        expect(isTenantScopedFilter(scoped)).toBe(true);
        const members = scoped['$and'] as Document[];
        expect(members.length).toBe(Object.keys(input).length === 0 ? 1 : 2);
        if (members.length === 2) {
          expect(members[1]).toEqual(input);
          expect(members[1]).not.toBe(input);
        }
        expect(input).toEqual(before);
      }),
      { numRuns: 500 },
    );
  });

  it('every pipeline reachable from a scoped pipeline that reads a tenant collection starts with the tenant $match', () => {
    let checkedPipelines = 0;
    let scopedRuns = 0;
    let refusedRuns = 0;
    fc.assert(
      fc.property(pipeline, (input) => {
        const before = structuredClone(input);
        const code = codeOf(() => scopeAggregationPipeline(input, pipelineScope));
        if (escapes(input)) {
          expect(code).toBe('TENANT_ISOLATION_VIOLATION');
          refusedRuns += 1;
          return;
        }
        expect(code).toBeUndefined();
        scopedRuns += 1;
        checkedPipelines += assertPipelineIsolated(scopeAggregationPipeline(input, pipelineScope), true);
        expect(input).toEqual(before);
      }),
      { numRuns: 500 },
    );
    // Both outcomes must be exercised, and nested pipelines reached, for the property to mean anything.
    expect(refusedRuns).toBeGreaterThan(25);
    expect(scopedRuns).toBeGreaterThan(200);
    expect(checkedPipelines - scopedRuns).toBeGreaterThan(200);
  });

  it('an update either leaves the tenant field alone or is refused', () => {
    const path = fc.constantFrom('tenantId', 'tenantId.x', 'tenantIdx', 'status', 'meta.tenantId');
    const operator = fc.constantFrom('$set', '$unset', '$inc', '$setOnInsert', '$rename', '$push', '$currentDate');
    const update = fc.dictionary(operator, fc.dictionary(path, fc.constantFrom<unknown>('tnt_a', 'tnt_b', 'status', 1), { minKeys: 1, maxKeys: 2 }), {
      minKeys: 1,
      maxKeys: 3,
    });
    fc.assert(
      fc.property(update, (input) => {
        const touches = Object.entries(input).some(([op, fields]) =>
          Object.entries(fields).some(([field, value]) => {
            const reaches = (target: unknown) => target === 'tenantId' || (typeof target === 'string' && target.startsWith('tenantId.'));
            const noOp = (op === '$set' || op === '$setOnInsert') && field === 'tenantId' && value === 'tnt_a';
            return (reaches(field) && !noOp) || (op === '$rename' && reaches(value));
          }),
        );
        const renameToNonString = Object.entries(input).some(([op, fields]) => op === '$rename' && Object.values(fields).some((v) => typeof v !== 'string'));
        const code = codeOf(() => guardUpdate(input, scope, 'update'));
        if (touches) expect(['TENANT_ISOLATION_VIOLATION', 'VALIDATION_FAILED']).toContain(code);
        else if (renameToNonString) expect(code).toBe('VALIDATION_FAILED');
        else expect(code).toBeUndefined();
        if (touches && !renameToNonString) expect(code).toBe('TENANT_ISOLATION_VIOLATION');
      }),
      { numRuns: 500 },
    );
  });
});
