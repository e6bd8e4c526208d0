import type { Document } from 'mongodb';
import { expect } from 'vitest';
import { TenantContextError } from '../../../src/errors.js';
import type { TenantFieldScope } from '../../../src/isolation/mongodb/filter-scoping.js';
import type { PipelineScope } from '../../../src/isolation/mongodb/pipeline-scoping.js';

/** The tenant every pure rewrite test scopes to. */
export const scope: TenantFieldScope = Object.freeze({ tenantField: 'tenantId', tenantId: 'tnt_a' });

/** Collections: `invoices` (wrapped), `customers` (tenant-scoped), `currencies` (global). */
export const pipelineScope: PipelineScope = Object.freeze({
  ...scope,
  databaseName: 'app',
  tenantScopedCollections: new Set(['invoices', 'customers']),
  globalCollections: new Set(['currencies']),
  allowMerge: false,
});

export const tenantMatch: Document = Object.freeze({ $match: { tenantId: 'tnt_a' } });

/** The error `run` throws, asserting it is a TenantContextError with `code`. */
export function expectCode(run: () => unknown, code: string): TenantContextError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a TenantContextError').toBeInstanceOf(TenantContextError);
  expect((caught as TenantContextError).code).toBe(code);
  return caught as TenantContextError;
}

/** The error `promise` rejects with, asserting it is a TenantContextError with `code`. */
export async function expectRejection(promise: Promise<unknown>, code: string): Promise<TenantContextError> {
  const caught: unknown = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(caught, 'expected a TenantContextError').toBeInstanceOf(TenantContextError);
  expect((caught as TenantContextError).code).toBe(code);
  return caught as TenantContextError;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `filter` is `{ $and: [{ [tenantField]: tenantId }, ...] }` exactly at the top. */
export function isTenantScopedFilter(filter: unknown, tenant: TenantFieldScope = scope): boolean {
  if (!isRecord(filter)) return false;
  const keys = Object.keys(filter);
  const members = filter['$and'];
  if (keys.length !== 1 || keys[0] !== '$and' || !Array.isArray(members) || members.length < 1 || members.length > 2) return false;
  const first: unknown = members[0];
  return isRecord(first) && Object.keys(first).length === 1 && first[tenant.tenantField] === tenant.tenantId;
}

function stageOf(stage: unknown): [string, unknown] {
  if (!isRecord(stage)) throw new Error(`not a stage: ${JSON.stringify(stage)}`);
  const keys = Object.keys(stage);
  if (keys.length !== 1) throw new Error(`a stage with ${keys.length} keys: ${JSON.stringify(stage)}`);
  const name = keys[0]!;
  return [name, stage[name]];
}

const escapingStages = new Set(['$out', '$documents', '$collStats', '$indexStats', '$currentOp', '$search', '$searchMeta', '$changeStream']);

/**
 * Asserts the isolation invariant of a rewritten pipeline: when it reads a tenant-scoped
 * collection it starts with the tenant `$match` (or a `$geoNear`/`$vectorSearch` carrying the
 * tenant), every join into a tenant-scoped collection does so too, `$graphLookup` into one is
 * restricted to the tenant, and no escaping stage is left. Returns the number of pipelines
 * checked.
 */
export function assertPipelineIsolated(
  pipeline: unknown,
  tenantSource: boolean,
  context: PipelineScope = pipelineScope,
): number {
  if (!Array.isArray(pipeline)) throw new Error('pipeline is not an array');
  let checked = 1;
  if (tenantSource) {
    const [name, body] = stageOf(pipeline[0]);
    if (name === '$geoNear') {
      expect(isTenantScopedFilter((body as Document)['query'], context)).toBe(true);
    } else if (name === '$vectorSearch') {
      expect((body as Document)['filter']).toMatchObject({ $and: [{ [context.tenantField]: { $eq: context.tenantId } }] });
    } else {
      expect(pipeline[0]).toEqual({ $match: { [context.tenantField]: context.tenantId } });
    }
  }
  for (const [index, stage] of pipeline.entries()) {
    const [name, body] = stageOf(stage);
    expect(escapingStages.has(name), `escaping stage ${name}`).toBe(false);
    const spec = body as Document;
    if (name === '$lookup') {
      const tenant = context.tenantScopedCollections.has(spec['from'] as string);
      expect(tenant || context.globalCollections.has(spec['from'] as string)).toBe(true);
      if (tenant) expect(Array.isArray(spec['pipeline'])).toBe(true);
      if (spec['pipeline'] !== undefined) checked += assertPipelineIsolated(spec['pipeline'], tenant, context);
    } else if (name === '$unionWith') {
      const tenant = context.tenantScopedCollections.has(spec['coll'] as string);
      expect(tenant || context.globalCollections.has(spec['coll'] as string)).toBe(true);
      if (tenant) expect(Array.isArray(spec['pipeline'])).toBe(true);
      if (spec['pipeline'] !== undefined) checked += assertPipelineIsolated(spec['pipeline'], tenant, context);
    } else if (name === '$graphLookup') {
      if (context.tenantScopedCollections.has(spec['from'] as string)) {
        expect(isTenantScopedFilter(spec['restrictSearchWithMatch'], context)).toBe(true);
      } else {
        expect(context.globalCollections.has(spec['from'] as string)).toBe(true);
      }
    } else if (name === '$facet') {
      for (const branch of Object.values(spec)) checked += assertPipelineIsolated(branch, false, context);
    } else if (name === '$merge') {
      expect(pipeline[index - 1]).toEqual({ $set: { [context.tenantField]: { $literal: context.tenantId } } });
    }
  }
  return checked;
}
