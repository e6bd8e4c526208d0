import { createServer } from 'node:net';
import { buildDomain, buildLifecycleRun, buildMembership, buildTenant, fixtureEpochMs } from '@tenantkit/test-utils';
import fc from 'fast-check';
import { MongoClient, MongoNetworkError, MongoNetworkTimeoutError, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defaultCollectionPrefix,
  ensureTenantContextIndexes,
  mongoLifecycleRunStore,
  mongoMembershipStore,
  mongoTenantContextStores,
  mongoTenantStore,
  mongoUsageCounterStore,
  tenantContextIndexes,
} from '../../src/adapters/mongodb.js';
import {
  decodeMembershipCursor,
  decodeTenantCursor,
  encodeMembershipCursor,
  encodeTenantCursor,
} from '../../src/adapters/keyset-cursor.js';
import { lifecycleRunFromDocument, lifecycleRunToDocument } from '../../src/adapters/mongodb/lifecycle-run-documents.js';
import { lifecycleRunListFilter, lifecycleRunListSort, lifecycleRunVersionFilter } from '../../src/adapters/mongodb/lifecycle-run-queries.js';
import { membershipFromDocument, membershipToDocument } from '../../src/adapters/mongodb/membership-documents.js';
import { membershipChangeUpdate, membershipFilter, membershipListFilter } from '../../src/adapters/mongodb/membership-queries.js';
import {
  duplicateKeyFields,
  isDuplicateKeyError,
  isMongoUnavailableError,
  translateMongoError,
} from '../../src/adapters/mongodb/mongo-errors.js';
import { resolveCollectionNames } from '../../src/adapters/mongodb/tenant-context-collections.js';
import { domainFromDocument, domainToDocument, tenantFromDocument, tenantToDocument } from '../../src/adapters/mongodb/tenant-documents.js';
import {
  domainVerificationUpdate,
  escapeRegexLiteral,
  tenantDomainFilter,
  tenantListFilter,
  tenantListSort,
  tenantSearchCondition,
  tenantsAfterCondition,
  tenantVersionFilter,
} from '../../src/adapters/mongodb/tenant-queries.js';
import {
  usageCounterFilter,
  usageCountersOfTenantFilter,
  usageDecrementPipeline,
  usageIncrementFilter,
  usageIncrementUpdate,
  usageSetUpdate,
} from '../../src/adapters/mongodb/usage-counter-queries.js';
import { TenantContextError } from '../../src/errors.js';
import type { Tenant } from '../../src/tenant.js';

/** Something a caller might smuggle in where a string belongs, to widen a query. */
const operatorObject = { $ne: null } as unknown as string;

function expectCode(run: () => unknown, code: string): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TenantContextError);
    expect(error).toMatchObject({ code });
    return;
  }
  expect.fail(`expected ${code} to be thrown`);
}

describe('escapeRegexLiteral', () => {
  it('backslash-escapes every regular expression metacharacter', () => {
    expect(escapeRegexLiteral('.*+?^${}()|[]\\')).toBe('\\.\\*\\+\\?\\^\\$\\{\\}\\(\\)\\|\\[\\]\\\\');
  });

  it('leaves ordinary characters alone, SQL wildcards included', () => {
    expect(escapeRegexLiteral('acme-corp 100%_Grüß/#')).toBe('acme-corp 100%_Grüß/#');
  });

  it('writes NUL as \\x00, since MongoDB refuses a pattern that contains it', () => {
    expect(escapeRegexLiteral('a\0b')).toBe('a\\x00b');
  });

  it('makes any string match exactly itself and its superstrings, nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (needle, haystack) => {
        const pattern = new RegExp(escapeRegexLiteral(needle));
        expect(new RegExp(`^${escapeRegexLiteral(needle)}$`).test(needle)).toBe(true);
        expect(pattern.test(haystack)).toBe(haystack.includes(needle));
      }),
      { numRuns: 500 },
    );
    // Metacharacter-heavy needles, which random strings rarely produce.
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'.*+?^${}()|[]\\ab') }), fc.string({ unit: fc.constantFrom(...'.*+?^${}()|[]\\ab') }), (needle, haystack) => {
        expect(new RegExp(escapeRegexLiteral(needle)).test(haystack)).toBe(haystack.includes(needle));
      }),
      { numRuns: 500 },
    );
  });
});

describe('tenant queries', () => {
  it('searches slug and name case-insensitively with the escaped text', () => {
    expect(tenantSearchCondition('a.c(me)')).toEqual({
      $or: [{ slug: { $regex: 'a\\.c\\(me\\)', $options: 'i' } }, { name: { $regex: 'a\\.c\\(me\\)', $options: 'i' } }],
    });
  });

  it('lists every status but deleted when no status filter is given', () => {
    expect(tenantListFilter({ limit: 10 }, null)).toEqual({ status: { $ne: 'deleted' } });
  });

  it('lists exactly the given statuses, and nothing for an empty list', () => {
    expect(tenantListFilter({ limit: 10, status: ['active', 'deleted'] }, null)).toEqual({ status: { $in: ['active', 'deleted'] } });
    expect(tenantListFilter({ limit: 10, status: [] }, null)).toEqual({ status: { $in: [] } });
  });

  it('combines status, plan, search and cursor with AND', () => {
    expect(
      tenantListFilter({ limit: 10, status: ['active'], plan: 'pro', search: 'ac*me' }, { createdAt: fixtureEpochMs, id: 'tnt_a' }),
    ).toEqual({
      status: { $in: ['active'] },
      plan: 'pro',
      $and: [
        { $or: [{ slug: { $regex: 'ac\\*me', $options: 'i' } }, { name: { $regex: 'ac\\*me', $options: 'i' } }] },
        { $or: [{ createdAt: { $gt: fixtureEpochMs } }, { createdAt: fixtureEpochMs, _id: { $gt: 'tnt_a' } }] },
      ],
    });
  });

  it('resumes after the cursor position in (createdAt, id) order, which is the sort order', () => {
    expect(tenantsAfterCondition({ createdAt: 5, id: 'tnt_b' })).toEqual({
      $or: [{ createdAt: { $gt: 5 } }, { createdAt: 5, _id: { $gt: 'tnt_b' } }],
    });
    expect(Object.entries(tenantListSort)).toEqual([
      ['createdAt', 1],
      ['_id', 1],
    ]);
  });

  it('accepts a search of up to 200 characters and refuses a longer one with VALIDATION_FAILED', () => {
    expect(tenantSearchCondition('a'.repeat(200))).toEqual({
      $or: [{ slug: { $regex: 'a'.repeat(200), $options: 'i' } }, { name: { $regex: 'a'.repeat(200), $options: 'i' } }],
    });
    expect(() => tenantSearchCondition('🚀'.repeat(100))).not.toThrow();
    for (const search of ['a'.repeat(201), '🚀'.repeat(101), 'a'.repeat(50_000)]) {
      expectCode(() => tenantSearchCondition(search), 'VALIDATION_FAILED');
      expectCode(() => tenantListFilter({ limit: 10, search, status: [] }, null), 'VALIDATION_FAILED');
    }
  });

  it('refuses a status, plan or search that is not a string, before it can become an operator', () => {
    expectCode(() => tenantListFilter({ limit: 10, plan: operatorObject }, null), 'VALIDATION_FAILED');
    expectCode(() => tenantListFilter({ limit: 10, search: operatorObject }, null), 'VALIDATION_FAILED');
    expectCode(() => tenantListFilter({ limit: 10, status: [operatorObject as never] }, null), 'VALIDATION_FAILED');
    expectCode(() => tenantListFilter({ limit: 10, status: 'active' as never }, null), 'VALIDATION_FAILED');
  });

  it('builds the compare-and-set filter of an update from the id and the version read', () => {
    expect(tenantVersionFilter('tnt_a', 3)).toEqual({ _id: 'tnt_a', version: 3 });
    expectCode(() => tenantVersionFilter(operatorObject, 3), 'VALIDATION_FAILED');
  });

  it('scopes domain changes to the owning tenant', () => {
    expect(tenantDomainFilter('tnt_a', 'app.acme.test')).toEqual({ _id: 'app.acme.test', tenantId: 'tnt_a' });
    expectCode(() => tenantDomainFilter(operatorObject, 'app.acme.test'), 'VALIDATION_FAILED');
    expectCode(() => tenantDomainFilter('tnt_a', operatorObject), 'VALIDATION_FAILED');
    const domain = buildDomain({ tenantId: 'tnt_a', hostname: 'app.acme.test', status: 'verified', verificationToken: 'tk', verifiedAt: 7 });
    expect(domainVerificationUpdate(domain)).toEqual({ $set: { status: 'verified', verificationToken: 'tk', verifiedAt: 7 } });
  });
});

describe('keyset cursors', () => {
  it('round-trip their position', () => {
    expect(decodeTenantCursor(encodeTenantCursor({ createdAt: fixtureEpochMs, id: 'tnt_a' }))).toEqual({ createdAt: fixtureEpochMs, id: 'tnt_a' });
    expect(decodeMembershipCursor(encodeMembershipCursor('auth0|usr.1'))).toBe('auth0|usr.1');
  });

  it('refuse malformed and foreign cursors with VALIDATION_FAILED', () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const malformed = ['', 'not a cursor', encode({ $gt: '' }), encode(['t', '5', 'tnt_a']), encode(['t', 5, { $gt: '' }]), encode(['t', 5, 'a', 'extra']), encode(['t', null, 'a'])];
    for (const cursor of malformed) expectCode(() => decodeTenantCursor(cursor), 'VALIDATION_FAILED');
    expectCode(() => decodeTenantCursor(encodeMembershipCursor('usr_1')), 'VALIDATION_FAILED');
    expectCode(() => decodeMembershipCursor(encodeTenantCursor({ createdAt: 1, id: 'tnt_a' })), 'VALIDATION_FAILED');
    expectCode(() => decodeMembershipCursor(encode(['m', { $gt: '' }])), 'VALIDATION_FAILED');
    expectCode(() => decodeMembershipCursor(12 as unknown as string), 'VALIDATION_FAILED');
  });
});

describe('membership queries', () => {
  it('address one membership by its (tenantId, userId) _id, fields in a fixed order', () => {
    const filter = membershipFilter('tnt_a', 'usr_1');
    expect(filter).toEqual({ _id: { tenantId: 'tnt_a', userId: 'usr_1' } });
    expect(Object.keys(filter._id as object)).toEqual(['tenantId', 'userId']);
    expectCode(() => membershipFilter('tnt_a', operatorObject), 'VALIDATION_FAILED');
  });

  it('page one tenant by user id, with the status filter', () => {
    expect(membershipListFilter('tnt_a', { limit: 5 }, null)).toEqual({ tenantId: 'tnt_a' });
    expect(membershipListFilter('tnt_a', { limit: 5, status: ['active', 'invited'] }, 'usr_5')).toEqual({
      tenantId: 'tnt_a',
      status: { $in: ['active', 'invited'] },
      userId: { $gt: 'usr_5' },
    });
    expect(membershipListFilter('tnt_a', { limit: 5, status: [] }, null)).toEqual({ tenantId: 'tnt_a', status: { $in: [] } });
    expectCode(() => membershipListFilter(operatorObject, { limit: 5 }, null), 'VALIDATION_FAILED');
  });

  it('change only status, inviter and updatedAt', () => {
    const membership = buildMembership({ tenantId: 'tnt_a', userId: 'usr_1', status: 'suspended', updatedAt: 9 });
    expect(membershipChangeUpdate(membership)).toEqual({ $set: { status: 'suspended', invitedBy: null, updatedAt: 9 } });
  });
});

describe('lifecycle run queries', () => {
  it('filter by tenant, kind and states, each only when given', () => {
    expect(lifecycleRunListFilter({ limit: 10 })).toEqual({});
    expect(lifecycleRunListFilter({ limit: 10, tenantId: 'tnt_a', kind: 'onboarding', state: ['running', 'compensating'] })).toEqual({
      tenantId: 'tnt_a',
      kind: 'onboarding',
      state: { $in: ['running', 'compensating'] },
    });
    expect(lifecycleRunListFilter({ limit: 10, state: [] })).toEqual({ state: { $in: [] } });
    expectCode(() => lifecycleRunListFilter({ limit: 10, tenantId: operatorObject }), 'VALIDATION_FAILED');
    expectCode(() => lifecycleRunListFilter({ limit: 10, kind: operatorObject as never }), 'VALIDATION_FAILED');
  });

  it('filter on a free or expired lease with leaseExpiredBefore, alongside the other conditions', () => {
    expect(lifecycleRunListFilter({ limit: 10, leaseExpiredBefore: fixtureEpochMs })).toEqual({
      $or: [{ leaseExpiresAt: null }, { leaseExpiresAt: { $lt: fixtureEpochMs } }],
    });
    expect(
      lifecycleRunListFilter({ limit: 10, kind: 'offboarding', state: ['running', 'failed'], tenantId: 'tnt_a', leaseExpiredBefore: 0 }),
    ).toEqual({
      tenantId: 'tnt_a',
      kind: 'offboarding',
      state: { $in: ['running', 'failed'] },
      $or: [{ leaseExpiresAt: null }, { leaseExpiresAt: { $lt: 0 } }],
    });
    expect(lifecycleRunListFilter({ limit: 10, leaseExpiredBefore: undefined })).toEqual({});
  });

  it('refuse a leaseExpiredBefore that is not a safe integer, before it can become an operator', () => {
    for (const leaseExpiredBefore of [{ $gt: 0 }, '5', null, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2]) {
      expectCode(() => lifecycleRunListFilter({ limit: 10, leaseExpiredBefore: leaseExpiredBefore as number }), 'VALIDATION_FAILED');
    }
  });

  it('are served by the state index when crash recovery lists unfinished runs', () => {
    // The lease condition is checked on the few unfinished runs the state index finds.
    const stateIndex = tenantContextIndexes.find((index) => index.collection === 'lifecycleRuns' && index.name === 'state_createdAt_id');
    expect(stateIndex?.key).toEqual({ state: 1, createdAt: 1, _id: 1 });
    const filter = lifecycleRunListFilter({ limit: 50, state: ['running', 'compensating', 'failed'], leaseExpiredBefore: 1 });
    expect(Object.keys(filter)).toEqual(['state', '$or']);
  });

  it('list oldest first and compare-and-set on the version', () => {
    expect(Object.entries(lifecycleRunListSort)).toEqual([
      ['createdAt', 1],
      ['_id', 1],
    ]);
    expect(lifecycleRunVersionFilter('run_1', 4)).toEqual({ _id: 'run_1', version: 4 });
  });
});

describe('usage counter queries', () => {
  it('address one counter by its (tenantId, resource) _id', () => {
    expect(usageCounterFilter('tnt_a', 'storage.bytes')).toEqual({ _id: { tenantId: 'tnt_a', resource: 'storage.bytes' } });
    expect(usageCountersOfTenantFilter('tnt_a')).toEqual({ tenantId: 'tnt_a' });
    expectCode(() => usageCounterFilter('tnt_a', operatorObject), 'VALIDATION_FAILED');
    expectCode(() => usageCountersOfTenantFilter(operatorObject), 'VALIDATION_FAILED');
  });

  it('admit an increment only while value <= limit - amount', () => {
    const _id = { tenantId: 'tnt_a', resource: 'users' };
    expect(usageIncrementFilter('tnt_a', 'users', 1, 10)).toEqual({ _id, value: { $lte: 9 } });
    expect(usageIncrementFilter('tnt_a', 'users', 10, 10)).toEqual({ _id, value: { $lte: 0 } });
    expect(usageIncrementFilter('tnt_a', 'users', 3, 150)).toEqual({ _id, value: { $lte: 147 } });
  });

  it('refuse outright an amount above the limit, which an upsert would otherwise insert', () => {
    expect(usageIncrementFilter('tnt_a', 'users', 11, 10)).toBeNull();
    expect(usageIncrementFilter('tnt_a', 'users', 1, 0)).toBeNull();
  });

  it('cap unlimited counters at the largest safe integer', () => {
    expect(usageIncrementFilter('tnt_a', 'users', 5, -1)).toEqual({
      _id: { tenantId: 'tnt_a', resource: 'users' },
      value: { $lte: Number.MAX_SAFE_INTEGER - 5 },
    });
  });

  it('increment with $inc and fill the pair on insert', () => {
    expect(usageIncrementUpdate('tnt_a', 'users', 2)).toEqual({ $inc: { value: 2 }, $setOnInsert: { tenantId: 'tnt_a', resource: 'users' } });
    expect(usageSetUpdate('tnt_a', 'users', 12)).toEqual({ $set: { value: 12 }, $setOnInsert: { tenantId: 'tnt_a', resource: 'users' } });
  });

  it('decrement with a server-side pipeline that floors at 0', () => {
    expect(usageDecrementPipeline(3)).toEqual([{ $set: { value: { $max: [0, { $subtract: ['$value', 3] }] } } }]);
  });
});

describe('documents', () => {
  const tenant = buildTenant({
    id: 'tnt_a',
    slug: 'alpha',
    settings: { nested: { list: [1, 'two', null] }, 'dotted.key': true },
    limits: { users: -1 },
    deletedAt: fixtureEpochMs,
  });

  it('store a tenant under its id as _id and read it back unchanged', () => {
    const document = tenantToDocument(tenant);
    expect(document._id).toBe('tnt_a');
    expect(document).not.toHaveProperty('id');
    expect(tenantFromDocument(document)).toEqual(tenant);
    // Fields the collection holds besides the record never leak out.
    expect(tenantFromDocument({ ...document, extra: 'x' } as never)).toEqual(tenant);
  });

  it('keep exactly what JSON keeps, and refuse what it cannot hold', () => {
    const settings = { when: new Date(fixtureEpochMs), gone: undefined } as unknown as Tenant['settings'];
    expect(tenantToDocument({ ...tenant, settings }).settings).toStrictEqual({ when: new Date(fixtureEpochMs).toISOString() });
    const big = { big: 1n } as unknown as Tenant['settings'];
    expectCode(() => tenantToDocument({ ...tenant, settings: big }), 'VALIDATION_FAILED');
    const input = { self: {} as Record<string, unknown> };
    input.self.self = input;
    expectCode(() => lifecycleRunToDocument(buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a', input: input as never })), 'VALIDATION_FAILED');
  });

  it('store domains under their host name, memberships and runs under their keys', () => {
    const domain = buildDomain({ tenantId: 'tnt_a', hostname: 'app.acme.test' });
    expect(domainToDocument(domain)._id).toBe('app.acme.test');
    expect(domainFromDocument(domainToDocument(domain))).toEqual(domain);

    const membership = buildMembership({ tenantId: 'tnt_a', userId: 'usr_1', invitedBy: 'usr_0' });
    const membershipDocument = membershipToDocument(membership);
    expect(membershipDocument._id).toEqual({ tenantId: 'tnt_a', userId: 'usr_1' });
    expect(Object.keys(membershipDocument._id)).toEqual(['tenantId', 'userId']);
    expect(membershipFromDocument(membershipDocument)).toEqual(membership);

    const run = buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a', completedSteps: ['a'], error: { step: 'b', code: 'X', message: 'm' } });
    const runDocument = lifecycleRunToDocument(run);
    expect(runDocument._id).toBe('run_1');
    expect(lifecycleRunFromDocument(runDocument)).toEqual(run);
  });

  it('store a run\'s artifacts in its document and read them back', () => {
    const artifacts = [
      { step: 'export:s3', location: 's3://exports/tnt_a.zip', details: { bytes: 2048, parts: ['a', null], when: { at: 1 } }, recordedAt: fixtureEpochMs },
      { step: 'delete-data:rows', location: 'ticket #42', recordedAt: fixtureEpochMs + 1 },
    ];
    const run = buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a', kind: 'offboarding', artifacts });
    const document = lifecycleRunToDocument(run);
    expect(document.artifacts).toEqual(artifacts);
    expect(lifecycleRunFromDocument(document)).toStrictEqual(run);
    const emptied = buildLifecycleRun({ id: 'run_2', tenantId: 'tnt_a', artifacts: [] });
    expect(lifecycleRunFromDocument(lifecycleRunToDocument(emptied))).toStrictEqual(emptied);
  });

  it('leave artifacts out of the document of a run without them, and out of the run read back', () => {
    const run = buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a' });
    expect(lifecycleRunToDocument(run)).not.toHaveProperty('artifacts');
    expect(lifecycleRunToDocument({ ...run, artifacts: undefined })).not.toHaveProperty('artifacts');
    // A document written before the field existed.
    const { artifacts: _absent, ...oldDocument } = lifecycleRunToDocument(run);
    expect(lifecycleRunFromDocument(oldDocument)).toStrictEqual(run);
    expect(lifecycleRunFromDocument(oldDocument)).not.toHaveProperty('artifacts');
  });
});

describe('tenantContextIndexes', () => {
  it('lead with tenantId in every per-tenant index', () => {
    const perTenant = tenantContextIndexes.filter((index) => index.scope === 'tenant');
    expect(perTenant.length).toBeGreaterThan(0);
    for (const index of perTenant) expect(Object.keys(index.key)[0]).toBe('tenantId');
    // Every collection of per-tenant rows has one; only the tenants collection (whose _id is the
    // tenant id) and lookups that are global by nature are 'global'.
    const collectionsWithTenantIndex = new Set(perTenant.map((index) => index.collection));
    expect([...collectionsWithTenantIndex].sort()).toEqual(['lifecycleRuns', 'memberships', 'tenantDomains', 'usageCounters']);
    expect(
      tenantContextIndexes.filter((index) => index.scope === 'global').map((index) => `${index.collection}.${index.name}`),
    ).toEqual(['tenants.slug_unique', 'tenants.createdAt_id', 'memberships.userId_tenantId', 'lifecycleRuns.state_createdAt_id']);
  });

  it('make slugs, memberships and counters unique (ids and host names are _id)', () => {
    expect(tenantContextIndexes.filter((index) => index.unique).map((index) => [index.collection, index.key])).toEqual([
      ['tenants', { slug: 1 }],
      ['memberships', { tenantId: 1, userId: 1 }],
      ['usageCounters', { tenantId: 1, resource: 1 }],
    ]);
  });

  it('cover every listing sort, with unique names, and cannot be changed', () => {
    const keysOf = (collection: string) => tenantContextIndexes.filter((index) => index.collection === collection).map((index) => index.key);
    expect(keysOf('tenants')).toContainEqual({ createdAt: 1, _id: 1 });
    expect(keysOf('tenantDomains')).toContainEqual({ tenantId: 1, _id: 1 });
    expect(keysOf('memberships')).toContainEqual({ userId: 1, tenantId: 1 });
    expect(keysOf('lifecycleRuns')).toContainEqual({ tenantId: 1, createdAt: 1, _id: 1 });
    const names = tenantContextIndexes.map((index) => `${index.collection}.${index.name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(Object.isFrozen(tenantContextIndexes)).toBe(true);
    for (const index of tenantContextIndexes) {
      expect(Object.isFrozen(index)).toBe(true);
      expect(Object.isFrozen(index.key)).toBe(true);
    }
  });
});

describe('MongoDB error translation', () => {
  const tenantTaken = (fields: string[] | null) =>
    new TenantContextError('TENANT_ALREADY_EXISTS', 'taken', { details: { fields: fields?.join(',') ?? 'unknown' } });

  it('maps a duplicate key (E11000) to the store error, naming the index fields, never the values', () => {
    const duplicate = new MongoServerError({
      message: 'E11000 duplicate key error collection: app.tenantkit_tenants index: slug_unique dup key: { slug: "alpha" }',
      code: 11000,
      keyPattern: { slug: 1 },
      keyValue: { slug: 'alpha' },
    });
    expect(isDuplicateKeyError(duplicate)).toBe(true);
    expect(duplicateKeyFields(duplicate)).toEqual(['slug']);
    expect(translateMongoError(duplicate, tenantTaken)).toMatchObject({ code: 'TENANT_ALREADY_EXISTS', details: { fields: 'slug' } });
    const withoutPattern = new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 });
    expect(duplicateKeyFields(withoutPattern)).toBeNull();
    expect(translateMongoError(withoutPattern, tenantTaken)).toMatchObject({ details: { fields: 'unknown' } });
  });

  it('does not take other server errors for duplicates, and rethrows them unchanged', () => {
    const unauthorized = new MongoServerError({ message: 'not authorized', code: 13 });
    expect(isDuplicateKeyError(unauthorized)).toBe(false);
    expect(translateMongoError(unauthorized, tenantTaken)).toBe(unauthorized);
    // A duplicate where the store expects none is not translated either.
    const duplicate = new MongoServerError({ message: 'E11000', code: 11000 });
    expect(translateMongoError(duplicate)).toBe(duplicate);
  });

  it('maps network failures and stepping-down primaries to STORE_UNAVAILABLE with the cause', () => {
    const failures = [
      new MongoNetworkError('connection 3 to 10.0.0.1:27017 closed'),
      new MongoNetworkTimeoutError('connection timed out'),
      new MongoServerError({ message: 'not primary', code: 10107 }),
      new MongoServerError({ message: 'interrupted', code: 11602 }),
      new MongoServerError({ message: 'write failed', code: 999, errorLabels: ['RetryableWriteError'] }),
      Object.assign(new Error('no server'), { name: 'MongoServerSelectionError' }),
      Object.assign(new Error('closed'), { name: 'MongoTopologyClosedError' }),
    ];
    for (const failure of failures) {
      expect(isMongoUnavailableError(failure)).toBe(true);
      const translated = translateMongoError(failure, tenantTaken);
      expect(translated).toBeInstanceOf(TenantContextError);
      expect(translated).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503, cause: failure });
    }
  });

  it('passes tenant-context errors through and never lets a non-Error escape', () => {
    const own = new TenantContextError('VALIDATION_FAILED', 'bad');
    expect(translateMongoError(own)).toBe(own);
    expect(translateMongoError('boom')).toMatchObject({ code: 'STORE_UNAVAILABLE', cause: 'boom' });
  });
});

describe('MongoDB store factories', () => {
  const db = new MongoClient('mongodb://127.0.0.1:1/never-connected').db('tenantkit');

  it('validate the Db handle and the options when called', () => {
    for (const factory of [mongoTenantStore, mongoMembershipStore, mongoLifecycleRunStore, mongoUsageCounterStore, mongoTenantContextStores]) {
      expectCode(() => factory(null as never), 'CONFIGURATION_INVALID');
      expectCode(() => factory({} as never), 'CONFIGURATION_INVALID');
      expectCode(() => factory(db, { collectionPrefix: 'bad$prefix' }), 'CONFIGURATION_INVALID');
      expectCode(() => factory(db, { collectionPrefix: 'system.' }), 'CONFIGURATION_INVALID');
      expectCode(() => factory(db, { collectionPrefix: 'x'.repeat(49) }), 'CONFIGURATION_INVALID');
      expectCode(() => factory(db, { collectionPefix: 'typo_' } as never), 'CONFIGURATION_INVALID');
      expect(() => factory(db, { collectionPrefix: '' })).not.toThrow();
      expect(() => factory(db)).not.toThrow();
    }
  });

  it('name collections after the prefix', () => {
    expect(defaultCollectionPrefix).toBe('tenantkit_');
    expect(resolveCollectionNames('app_')).toEqual({
      tenants: 'app_tenants',
      tenantDomains: 'app_tenant_domains',
      memberships: 'app_memberships',
      lifecycleRuns: 'app_lifecycle_runs',
      usageCounters: 'app_usage_counters',
    });
  });
});

describe('MongoDB stores against an unreachable server', () => {
  let client: MongoClient;
  let closedPort: number;

  beforeAll(async () => {
    // A port that was just free: nothing listens there, so every connection attempt is refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closedPort = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    client = new MongoClient(`mongodb://127.0.0.1:${closedPort}/`, { serverSelectionTimeoutMS: 250, connectTimeoutMS: 250 });
  });

  afterAll(async () => {
    await client.close();
  });

  it('fail with STORE_UNAVAILABLE, keeping the driver error as cause', async () => {
    const stores = mongoTenantContextStores(client.db('tenantkit'));
    // One at a time, so no rejection goes unobserved. The first call's automatic connect times out
    // selecting a server; after that failure the driver answers at once that its topology is closed.
    const calls: (() => Promise<unknown>)[] = [
      () => stores.tenants.getTenantById('tnt_a'),
      () => stores.tenants.insertTenant(buildTenant({ id: 'tnt_a' })),
      () => stores.memberships.listMembershipsByTenant('tnt_a', { limit: 10 }),
      () => stores.lifecycleRuns.listRuns({ limit: 10 }),
      () => stores.usageCounters.increment('tnt_a', 'users', 1, 10),
      () => stores.usageCounters.set('tnt_a', 'users', 1),
      () => ensureTenantContextIndexes(client.db('tenantkit')),
    ];
    const causes: unknown[] = [];
    for (const call of calls) {
      const error = await call().then(
        () => expect.fail('expected a rejection'),
        (reason: unknown) => reason,
      );
      expect(error).toMatchObject({ name: 'TenantContextError', code: 'STORE_UNAVAILABLE', status: 503 });
      causes.push((error as Error).cause);
    }
    expect(causes[0]).toMatchObject({ name: 'MongoServerSelectionError' });
    for (const cause of causes) expect(['MongoServerSelectionError', 'MongoTopologyClosedError']).toContain((cause as Error).name);
  });

  it('reject bad arguments with VALIDATION_FAILED before any round trip', async () => {
    const stores = mongoTenantContextStores(client.db('tenantkit'));
    await expect(stores.tenants.listTenants({ limit: 0 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.tenants.listTenants({ limit: 10, cursor: 'forged' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.tenants.getTenantById(operatorObject)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.tenants.getTenantBySlug(operatorObject)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.tenants.updateTenant(buildTenant({ id: 'tnt_a', version: 3 }), 1)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(stores.memberships.getMembership('tnt_a', operatorObject)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.lifecycleRuns.listRuns({ limit: 501 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.lifecycleRuns.listRuns({ limit: 10, leaseExpiredBefore: operatorObject as never })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(stores.tenants.listTenants({ limit: 10, search: 'a'.repeat(201) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.usageCounters.increment('tnt_a', 'users', 0, 10)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.usageCounters.increment('tnt_a', 'users', 1, -2)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.usageCounters.decrement('tnt_a', 'users', 1.5)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.usageCounters.set('tnt_a', 'users', -1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stores.usageCounters.get(operatorObject, 'users')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
