import { describe, expect, it } from 'vitest';
import {
  guardOperatorUpdate,
  guardUpdate,
  guardUpdatePipeline,
  restoreTenantStage,
  touchesTenantField,
} from '../../../src/isolation/mongodb/update-guards.js';
import { expectCode, scope } from './isolation-fixtures.js';

const restore = { $set: { tenantId: { $literal: 'tnt_a' } } };

describe('touchesTenantField', () => {
  it('matches the field and paths under it, not fields sharing its prefix', () => {
    expect(touchesTenantField('tenantId', 'tenantId')).toBe(true);
    expect(touchesTenantField('tenantId.x', 'tenantId')).toBe(true);
    expect(touchesTenantField('tenantId.$', 'tenantId')).toBe(true);
    expect(touchesTenantField('tenantId.$[]', 'tenantId')).toBe(true);
    expect(touchesTenantField('tenantIdentity', 'tenantId')).toBe(false);
    expect(touchesTenantField('meta.tenantId', 'tenantId')).toBe(false);
  });
});

describe('guardOperatorUpdate', () => {
  it('returns an equal copy of an update that leaves the tenant alone', () => {
    const update = { $set: { status: 'paid', 'lines.0.total': 3 }, $inc: { version: 1 }, $push: { log: { $each: ['x'] } } };
    const guarded = guardOperatorUpdate(update, scope, 'update');
    expect(guarded).toEqual(update);
    expect(guarded).not.toBe(update);
  });

  it.each([
    ['$set', { $set: { tenantId: 'tnt_b' } }],
    ['$set of a dotted path under it', { $set: { 'tenantId.x': 1 } }],
    ['$set of an array element', { $set: { 'tenantId.$': 'tnt_b' } }],
    ['$unset', { $unset: { tenantId: '' } }],
    ['$setOnInsert to another tenant', { $setOnInsert: { tenantId: 'tnt_b' } }],
    ['$inc', { $inc: { tenantId: 1 } }],
    ['$mul', { $mul: { tenantId: 2 } }],
    ['$min', { $min: { tenantId: 'a' } }],
    ['$max', { $max: { tenantId: 'z' } }],
    ['$currentDate', { $currentDate: { tenantId: true } }],
    ['$push', { $push: { tenantId: 'tnt_b' } }],
    ['$addToSet', { $addToSet: { tenantId: 'tnt_b' } }],
    ['$pull', { $pull: { tenantId: 'tnt_a' } }],
    ['$pullAll', { $pullAll: { tenantId: ['tnt_a'] } }],
    ['$pop', { $pop: { tenantId: 1 } }],
    ['$bit', { $bit: { tenantId: { or: 1 } } }],
    ['$rename from it', { $rename: { tenantId: 'formerTenant' } }],
    ['$rename onto it', { $rename: { claimedTenant: 'tenantId' } }],
    ['$rename onto a path under it', { $rename: { x: 'tenantId.x' } }],
    ['$set to the same tenant under a dotted path', { $set: { 'tenantId.0': 'tnt_a' } }],
    ['$set to the same tenant, but as an operator object', { $set: { tenantId: { $literal: 'tnt_a' } } }],
  ])('refuses %s with TENANT_ISOLATION_VIOLATION', (_, update) => {
    expectCode(() => guardOperatorUpdate(update, scope, 'update'), 'TENANT_ISOLATION_VIOLATION');
  });

  it('allows $set and $setOnInsert of exactly the tenant in scope, a no-op', () => {
    expect(guardOperatorUpdate({ $set: { tenantId: 'tnt_a', a: 1 } }, scope, 'update')).toEqual({ $set: { tenantId: 'tnt_a', a: 1 } });
    expect(guardOperatorUpdate({ $setOnInsert: { tenantId: 'tnt_a' } }, scope, 'update')).toEqual({ $setOnInsert: { tenantId: 'tnt_a' } });
  });

  it('refuses malformed updates with VALIDATION_FAILED', () => {
    expectCode(() => guardOperatorUpdate({}, scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardOperatorUpdate({ status: 'paid' }, scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardOperatorUpdate({ $set: { a: 1 }, status: 'paid' }, scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardOperatorUpdate({ $setTenant: { a: 1 } }, scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardOperatorUpdate({ $set: 'a' }, scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardOperatorUpdate({ $set: [{ a: 1 }] }, scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardOperatorUpdate({ $rename: { a: 1 } }, scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardOperatorUpdate(null, scope, 'update'), 'VALIDATION_FAILED');
  });

  it('refuses server-side JavaScript inside update values', () => {
    expectCode(() => guardOperatorUpdate({ $pull: { items: { $where: 'true' } } }, scope, 'update'), 'TENANT_ISOLATION_VIOLATION');
  });

  it('guards another tenant field name', () => {
    const org = { tenantField: 'orgId', tenantId: 'org_1' };
    expectCode(() => guardOperatorUpdate({ $unset: { orgId: 1 } }, org, 'update'), 'TENANT_ISOLATION_VIOLATION');
    expect(guardOperatorUpdate({ $unset: { tenantId: 1 } }, org, 'update')).toEqual({ $unset: { tenantId: 1 } });
  });
});

describe('guardUpdatePipeline', () => {
  it('copies the stages and ends them with the stage restoring the tenant', () => {
    const pipeline = [{ $set: { total: { $add: ['$net', '$tax'] } } }, { $unset: ['draft'] }];
    expect(guardUpdatePipeline(pipeline, scope, 'update')).toEqual([...pipeline, restore]);
    expect(restoreTenantStage(scope)).toEqual(restore);
  });

  it('allows an empty pipeline (a no-op apart from the restoring stage)', () => {
    expect(guardUpdatePipeline([], scope, 'update')).toEqual([restore]);
  });

  it('allows the stages that rebuild the document, because the last stage restores the tenant', () => {
    for (const stage of [{ $replaceWith: { tenantId: 'tnt_b' } }, { $replaceRoot: { newRoot: '$archived' } }, { $project: { total: 1 } }]) {
      expect(guardUpdatePipeline([stage], scope, 'update')).toEqual([stage, restore]);
    }
  });

  it.each([
    ['$set', { $set: { tenantId: 'tnt_b' } }],
    ['$set from a field', { $set: { tenantId: '$otherTenant' } }],
    ['$addFields', { $addFields: { tenantId: { $concat: ['tnt_', 'b'] } } }],
    ['$set of a path under it', { $set: { 'tenantId.x': 1 } }],
    ['$unset (string)', { $unset: 'tenantId' }],
    ['$unset (array)', { $unset: ['a', 'tenantId'] }],
    ['$project excluding it', { $project: { tenantId: 0 } }],
    ['$project computing it', { $project: { tenantId: { $literal: 'tnt_b' } } }],
  ])('refuses %s with TENANT_ISOLATION_VIOLATION', (_, stage) => {
    expectCode(() => guardUpdatePipeline([stage], scope, 'update'), 'TENANT_ISOLATION_VIOLATION');
  });

  it('allows setting the tenant in scope and including it in a $project', () => {
    expect(guardUpdatePipeline([{ $set: { tenantId: 'tnt_a' } }], scope, 'u')).toEqual([{ $set: { tenantId: 'tnt_a' } }, restore]);
    expect(guardUpdatePipeline([{ $project: { tenantId: 1, a: 1 } }], scope, 'u')).toEqual([{ $project: { tenantId: 1, a: 1 } }, restore]);
  });

  it('refuses stages MongoDB does not allow in update pipelines, and malformed stages', () => {
    for (const stage of [{ $lookup: { from: 'x', as: 'y', pipeline: [] } }, { $match: { a: 1 } }, { $merge: 'x' }, { $out: 'x' }]) {
      expectCode(() => guardUpdatePipeline([stage], scope, 'update'), 'VALIDATION_FAILED');
    }
    expectCode(() => guardUpdatePipeline([{ $set: { a: 1 }, $unset: 'b' }], scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardUpdatePipeline(['$set'], scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardUpdatePipeline([{ $unset: 1 }], scope, 'update'), 'VALIDATION_FAILED');
    expectCode(() => guardUpdatePipeline([{ $set: 'x' }], scope, 'update'), 'VALIDATION_FAILED');
  });

  it('refuses $function and $accumulator in pipeline expressions', () => {
    expectCode(
      () => guardUpdatePipeline([{ $set: { x: { $function: { body: 'return 1', args: [], lang: 'js' } } } }], scope, 'update'),
      'TENANT_ISOLATION_VIOLATION',
    );
  });
});

describe('guardUpdate', () => {
  it('dispatches arrays to the pipeline guard and documents to the operator guard', () => {
    expect(guardUpdate([{ $set: { a: 1 } }], scope, 'u')).toEqual([{ $set: { a: 1 } }, restore]);
    expect(guardUpdate({ $set: { a: 1 } }, scope, 'u')).toEqual({ $set: { a: 1 } });
  });
});
