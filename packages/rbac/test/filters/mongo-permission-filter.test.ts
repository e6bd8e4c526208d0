import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueryConditions } from '../../src/compiler/compiled-permissions.js';
import { mongoPermissionFilter } from '../../src/filters/mongo-permission-filter.js';
import { type FieldDomain, queryConditionsArbitrary, referenceVisible } from './condition-reference.js';
import { matchesMongoFilter } from './mongo-query-matcher.js';

const notAnArray = { $not: { $type: 'array' } };

function some(allow: QueryConditions & { kind: 'some' } extends { allow: infer A } ? A : never, deny: typeof allow = []): QueryConditions {
  return { kind: 'some', allow, deny };
}

describe('mongoPermissionFilter', () => {
  it('matches nothing for none and everything for all', () => {
    expect(mongoPermissionFilter({ kind: 'none' })).toEqual({ $nor: [{}] });
    expect(mongoPermissionFilter({ kind: 'all' })).toEqual({});
  });

  it('maps resource.x.y to x.y by default, guarding each prefix against arrays', () => {
    expect(mongoPermissionFilter(some([{ field: 'resource.meta.owner.id', op: 'eq', value: 'usr_1' }]))).toEqual({
      $and: [{ meta: notAnArray }, { 'meta.owner': notAnArray }, { 'meta.owner.id': { $eq: 'usr_1', ...notAnArray } }],
    });
  });

  it('is OR of the allows AND every deny definitely false, never letting a missing field pass a negation', () => {
    const query = some(
      [{ field: 'resource.ownerId', op: 'eq', value: 'usr_1' }, { not: { field: 'resource.status', op: 'in', value: ['draft'] } }],
      [{ field: 'resource.archived', op: 'eq', value: true }],
    );
    expect(mongoPermissionFilter(query, { fields: { 'resource.ownerId': 'owner', 'resource.status': 'status', 'resource.archived': 'flags.archived' } })).toEqual({
      $and: [
        // Negated tests name the types they can decide: a number or an array status is neither in nor out.
        { $or: [{ owner: { $eq: 'usr_1', ...notAnArray } }, { status: { $type: ['string', 'null'], $nin: ['draft'], ...notAnArray } }] },
        { $and: [{ flags: notAnArray }, { 'flags.archived': { $type: ['bool', 'null'], $ne: true, ...notAnArray } }] },
      ],
    });
  });

  it('renders eq null as the null value only, exists as $exists, and contains as $elemMatch', () => {
    expect(mongoPermissionFilter(some([{ field: 'resource.deletedAt', op: 'eq', value: null }]))).toEqual({ deletedAt: { $type: 'null', ...notAnArray } });
    expect(mongoPermissionFilter(some([{ field: 'resource.deletedAt', op: 'exists', value: false }]))).toEqual({ deletedAt: { $exists: false } });
    expect(mongoPermissionFilter(some([{ field: 'resource.tags', op: 'contains', value: 'x' }]))).toEqual({
      tags: { $elemMatch: { $eq: 'x', ...notAnArray } },
    });
    // Between comparable values a negated order is the flipped operator; numbers stay finite.
    expect(mongoPermissionFilter(some([{ not: { field: 'resource.level', op: 'lt', value: 3 } }]))).toEqual({
      level: { $gte: 3, $lt: Infinity, ...notAnArray },
    });
    expect(mongoPermissionFilter(some([{ field: 'resource.level', op: 'lt', value: 3 }]))).toEqual({
      level: { $lt: 3, $gt: -Infinity, ...notAnArray },
    });
    expect(mongoPermissionFilter(some([{ field: 'resource.name', op: 'gte', value: 'm' }]))).toEqual({ name: { $gte: 'm', ...notAnArray } });
  });

  it('guards negated tests with the types the in-memory check can compare', () => {
    const finite = { $gt: -Infinity, $lt: Infinity };
    expect(mongoPermissionFilter(some([{ field: 'resource.level', op: 'ne', value: 3 }]))).toEqual({
      $or: [{ level: { $type: 'null', $ne: 3, ...notAnArray } }, { level: { ...finite, $ne: 3, ...notAnArray } }],
    });
    expect(mongoPermissionFilter(some([{ field: 'resource.level', op: 'ne', value: null }]))).toEqual({
      $or: [{ level: { $type: ['string', 'bool'], ...notAnArray } }, { level: { ...finite, ...notAnArray } }],
    });
    expect(mongoPermissionFilter(some([{ field: 'resource.level', op: 'nin', value: [] }]))).toEqual({
      $or: [{ level: { $type: ['string', 'bool', 'null'], ...notAnArray } }, { level: { ...finite, ...notAnArray } }],
    });
    // A deny on contains is only lifted for an array of comparable elements without the value.
    expect(mongoPermissionFilter(some([true], [{ field: 'resource.tags', op: 'contains', value: 'x' }]))).toEqual({
      $and: [
        { tags: { $type: 'array', $not: { $elemMatch: { $eq: 'x' } } } },
        { tags: { $not: { $elemMatch: { $type: 'array' } } } },
        { tags: { $not: { $elemMatch: { $not: { $type: ['string', 'null'] } } } } },
      ],
    });
  });

  it('keeps operator-looking values as values', () => {
    const filter = mongoPermissionFilter(some([{ field: 'resource.ownerId', op: 'eq', value: '$where' }]));
    expect(filter).toEqual({ ownerId: { $eq: '$where', ...notAnArray } });
    expect(() => mongoPermissionFilter(some([{ field: 'resource.ownerId', op: 'eq', value: { $gt: '' } as never }]))).toThrow(
      expect.objectContaining({ code: 'CONDITION_INVALID' }),
    );
  });

  it('refuses a field missing from an explicit map with FILTER_UNSUPPORTED, and contains null', () => {
    const fields = { 'resource.ownerId': 'owner' };
    expect(() => mongoPermissionFilter(some([{ field: 'resource.status', op: 'eq', value: 'x' }]), { fields })).toThrow(
      expect.objectContaining({ code: 'FILTER_UNSUPPORTED' }),
    );
    expect(() => mongoPermissionFilter(some([{ any: [true, { field: 'resource.status', op: 'eq', value: 'x' }] }]), { fields })).toThrow(
      expect.objectContaining({ code: 'FILTER_UNSUPPORTED' }),
    );
    expect(() => mongoPermissionFilter(some([{ field: 'resource.tags', op: 'contains', value: null }]))).toThrow(
      expect.objectContaining({ code: 'FILTER_UNSUPPORTED' }),
    );
  });

  it('refuses document paths that are operators or empty with CONFIGURATION_INVALID', () => {
    const query = some([{ field: 'resource.ownerId', op: 'eq', value: 'x' }]);
    for (const path of ['$where', 'a..b', '', 'a.$gt', 'a.__proto__']) {
      expect(() => mongoPermissionFilter(query, { fields: { 'resource.ownerId': path } })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    }
  });

  it('selects, in a worked example, what the in-memory check allows', () => {
    const documents = [
      { id: 1, owner: 'usr_1', status: 'draft', tags: [] },
      { id: 2, owner: 'usr_2', status: 'published', tags: ['x'] },
      { id: 3, owner: ['usr_1'], status: 'published', tags: ['y', null] },
      { id: 4, status: null, tags: [] },
      { id: 5, owner: 'usr_2', tags: ['y'] },
      { id: 6, owner: 'usr_1' },
    ];
    const query = some(
      [{ field: 'resource.owner', op: 'eq', value: 'usr_1' }, { not: { field: 'resource.status', op: 'eq', value: 'draft' } }],
      [{ field: 'resource.tags', op: 'contains', value: 'x' }],
    );
    const filter = mongoPermissionFilter(query);
    expect(documents.filter((document) => matchesMongoFilter(document, filter)).map((document) => document.id)).toEqual([1, 3, 4]);
    expect(documents.filter((document) => referenceVisible(query, document)).map((document) => document.id)).toEqual([1, 3, 4]);
  });

  describe('evaluated with a model of MongoDB matching', () => {
    const domains: FieldDomain[] = [
      { field: 'resource.owner', kind: 'string', values: ['a', 'b', 'B', ''] },
      { field: 'resource.level', kind: 'number', values: [-1, 0, 1, 2] },
      { field: 'resource.flag', kind: 'boolean', values: [true, false] },
      { field: 'resource.tags', kind: 'array', values: ['a', 'b', 'z'] },
      { field: 'resource.meta.level', kind: 'number', values: [0, 1, 2] },
    ];
    const string = fc.constantFrom('a', 'b', 'B', '');
    const number = fc.constantFrom(-1, 0, 1, 2);
    const nullable = <T>(arbitrary: fc.Arbitrary<T>) => fc.oneof(arbitrary, fc.constant(null));
    const tameDocument = fc.record(
      {
        owner: nullable(string),
        level: nullable(number),
        flag: nullable(fc.boolean()),
        tags: nullable(fc.array(nullable(string), { maxLength: 3 })),
        meta: nullable(fc.record({ level: nullable(number) }, { requiredKeys: [] })),
      },
      { requiredKeys: [] },
    );
    // Shapes the in-memory check reads differently from MongoDB: arrays in scalar fields,
    // values of other types, arrays on the way down a path, nested arrays.
    // Values of foreign types too (numeric strings, NaN, ±Infinity, objects), which the
    // in-memory check cannot compare: a filter must never select on them.
    const foreign = fc.constantFrom<unknown>('1', '0', '-1', 'true', Number.NaN, Infinity, -Infinity, {}, { level: 1 });
    const wildValue = fc.oneof(
      string,
      number,
      fc.boolean(),
      fc.constant(null),
      foreign,
      fc.array(fc.oneof(string, number, fc.constant(null), foreign, fc.array(string, { maxLength: 2 })), { maxLength: 3 }),
    );
    const wildDocument = fc.record(
      {
        owner: wildValue,
        level: wildValue,
        flag: wildValue,
        tags: wildValue,
        meta: fc.oneof(wildValue, fc.record({ level: wildValue }, { requiredKeys: [] }), fc.array(fc.record({ level: wildValue }), { maxLength: 2 })),
      },
      { requiredKeys: [] },
    );

    it('selects exactly the documents the in-memory check allows, for documents of the declared shapes', () => {
      fc.assert(
        fc.property(queryConditionsArbitrary(domains), fc.array(tameDocument, { minLength: 1, maxLength: 30 }), (query, documents) => {
          const filter = mongoPermissionFilter(query);
          for (const document of documents) {
            expect(matchesMongoFilter(document, filter)).toBe(referenceVisible(query, document));
          }
        }),
        { numRuns: 500 },
      );
    });

    it('never selects a document the in-memory check refuses, whatever its shape', () => {
      fc.assert(
        fc.property(queryConditionsArbitrary(domains), fc.array(wildDocument, { minLength: 1, maxLength: 30 }), (query, documents) => {
          const filter = mongoPermissionFilter(query);
          for (const document of documents) {
            if (matchesMongoFilter(document, filter)) expect(referenceVisible(query, document)).toBe(true);
          }
        }),
        { numRuns: 500 },
      );
    });
  });
});
