import { describe, expect, it } from 'vitest';
import type { Condition } from '../../src/index.js';
import { compile, grant, role, rolesOf } from '../compiler/fixtures.js';

/*
 * Review of issue 4 (helper J): type confusion between a condition's operand and the resource's
 * value makes a leaf *false* (or, for ne/nin, *true*) instead of *unknown*, so a deny silently
 * does not apply. Postgres `numeric`/`bigint` columns arrive in JavaScript as strings, so
 * `amount gt 1000` on `{ amount: '5000.00' }` is the realistic case.
 *
 * These are `it.fails` on purpose: fixing them changes the engine's semantics that E's filter
 * reference (test/filters/condition-reference.ts) and Mongo filter shape tests encode, so the
 * fix needs the lead's go-ahead (see the review report). Remove `.fails` with the fix.
 */

function deny(condition: Condition) {
  return compile(rolesOf(role({ key: 'r', permissions: ['invoices:*', { permission: 'invoices:approve', effect: 'deny', condition }] })), [grant('r')]);
}

function allow(condition: Condition) {
  return compile(rolesOf(role({ key: 'r', permissions: [{ permission: 'docs:read', condition }] })), [grant('r')]);
}

describe('review: type confusion fails closed (known issues)', () => {
  it.fails('a deny on amount gt 1000 applies to a numeric string amount', () => {
    expect(deny({ field: 'resource.amount', op: 'gt', value: 1000 }).can('invoices:approve', { amount: '5000.00' })).toBe(false);
  });

  it.fails('a deny on an ordering comparison applies to a NaN or a Date', () => {
    expect(deny({ field: 'resource.amount', op: 'gte', value: 1000 }).can('invoices:approve', { amount: Number.NaN })).toBe(false);
    expect(deny({ field: 'resource.dueAt', op: 'lt', value: '2026-01-01T00:00:00Z' }).can('invoices:approve', { dueAt: new Date(0) })).toBe(false);
  });

  it.fails('an allow on ne/nin does not apply to an array or object value', () => {
    expect(allow({ field: 'resource.classification', op: 'ne', value: 'secret' }).can('docs:read', { classification: ['secret'] })).toBe(false);
    expect(allow({ field: 'resource.classification', op: 'nin', value: ['secret'] }).can('docs:read', { classification: { level: 'secret' } })).toBe(false);
  });

  it.fails('a deny on eq applies to an array holding the value', () => {
    expect(deny({ field: 'resource.status', op: 'eq', value: 'frozen' }).can('invoices:approve', { status: ['frozen'] })).toBe(false);
  });

  it.fails('a deny on contains applies to a scalar equal to the value', () => {
    expect(deny({ field: 'resource.flags', op: 'contains', value: 'frozen' }).can('invoices:approve', { flags: 'frozen' })).toBe(false);
  });
});
