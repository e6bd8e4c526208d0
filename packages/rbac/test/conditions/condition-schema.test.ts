import { describe, expect, it } from 'vitest';
import { conditionSchema, parseCondition, RBAC_LIMITS, RbacError } from '../../src/index.js';

function problems(value: unknown): string[] {
  const result = conditionSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

function nest(depth: number) {
  let condition: unknown = { field: 'resource.a', op: 'eq', value: 1 };
  for (let i = 1; i < depth; i += 1) condition = { not: condition };
  return condition;
}

describe('conditionSchema', () => {
  it.each([
    { field: 'resource.status', op: 'eq', value: 'published' },
    { field: 'resource.status', op: 'ne', value: null },
    { field: 'resource.tags', op: 'contains', value: 'x' },
    { field: 'resource.level', op: 'in', value: [1, 2, 'three', true] },
    { field: 'resource.level', op: 'nin', value: { ref: 'principal.attributes.levels' } },
    { field: 'resource.size', op: 'lte', value: 10 },
    { field: 'resource.createdAt', op: 'gt', value: '2026-01-01T00:00:00Z' },
    { field: 'resource.deletedAt', op: 'exists', value: false },
    { field: 'principal.attributes.department', op: 'eq', value: 'sales' },
    { field: 'principal.kind', op: 'eq', value: 'user' },
    { field: 'context.ip', op: 'in', value: ['10.0.0.1'] },
    { field: 'resource.ownerId', op: 'eq', value: { ref: 'principal.id' } },
    { field: 'resource.region', op: 'eq', value: { ref: 'context.region' } },
    { self: 'resource.ownerId' },
    { self: 'resource.meta.owner' },
    { timeWindow: { notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-12-31T23:59:59.999+02:00' } },
    { timeWindow: { daysOfWeek: [1, 2, 3, 4, 5], fromTime: '09:00', toTime: '17:00', timeZone: 'Europe/Berlin' } },
    { timeWindow: { fromTime: '22:00', toTime: '06:00' } },
    { all: [{ self: 'resource.ownerId' }, { not: { field: 'resource.locked', op: 'eq', value: true } }] },
    { any: [{ self: 'resource.ownerId' }, { field: 'resource.visibility', op: 'eq', value: 'public' }] },
  ])('accepts %j', (condition) => {
    expect(problems(condition)).toEqual([]);
    expect(parseCondition(condition)).toEqual(condition);
  });

  it('returns a copy', () => {
    const input = { all: [{ self: 'resource.ownerId' }] };
    const output = parseCondition(input);
    expect(output).toEqual(input);
    expect(output).not.toBe(input);
    expect((output as { all: unknown[] }).all[0]).not.toBe(input.all[0]);
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'resource.a == 1', 'must be an object'],
    ['an array', [], 'must be an object'],
    ['no node key', { op: 'eq', value: 1 }, 'must have one of'],
    ['two node keys', { self: 'resource.a', not: { self: 'resource.b' } }, 'exactly one of'],
    ['an extra key on a field node', { field: 'resource.a', op: 'eq', value: 1, note: 'x' }, 'Unrecognized key'],
    ['an extra key on self', { self: 'resource.a', op: 'eq' }, 'Unrecognized key'],
    ['an extra key in a time window', { timeWindow: { fromTime: '09:00', toTime: '10:00', weekend: true } }, 'Unrecognized key'],
    ['an unknown operator', { field: 'resource.a', op: 'regex', value: '.*' }, 'op'],
    ['a field outside resource/principal/context', { field: 'request.ip', op: 'eq', value: 1 }, 'must start with'],
    ['a bare root', { field: 'resource', op: 'eq', value: 1 }, 'needs a property'],
    ['an empty path segment', { field: 'resource..a', op: 'eq', value: 1 }, 'identifier'],
    ['a $ in a path', { field: 'resource.$where', op: 'eq', value: 1 }, 'identifier'],
    ['an array index path', { field: 'resource.tags.0', op: 'eq', value: 1 }, 'identifier'],
    ['an unknown principal field', { field: 'principal.scopes', op: 'eq', value: 1 }, 'principal.id'],
    ['principal.attributes alone', { field: 'principal.attributes', op: 'eq', value: 1 }, 'needs a property'],
    ['a reference into the resource', { field: 'resource.a', op: 'eq', value: { ref: 'resource.b' } }, 'ref must start with'],
    ['a reference with extra keys', { field: 'resource.a', op: 'eq', value: { ref: 'principal.id', x: 1 } }, 'exactly { ref'],
    ['a list for eq', { field: 'resource.a', op: 'eq', value: [1] }, 'in/nin'],
    ['a scalar for in', { field: 'resource.a', op: 'in', value: 1 }, 'list'],
    ['null in a list', { field: 'resource.a', op: 'in', value: [null] }, 'must not be null'],
    ['an object in a list', { field: 'resource.a', op: 'in', value: [{}] }, 'must be a string'],
    ['a boolean for lt', { field: 'resource.a', op: 'lt', value: true }, 'number or a string'],
    ['a string for exists', { field: 'resource.a', op: 'exists', value: 'yes' }, 'true or false'],
    ['a reference for exists', { field: 'resource.a', op: 'exists', value: { ref: 'principal.id' } }, 'not a reference'],
    ['an infinite number', { field: 'resource.a', op: 'eq', value: Infinity }, 'finite'],
    ['self outside the resource', { self: 'principal.id' }, 'must start with "resource."'],
    ['an empty all', { all: [] }, 'at least one'],
    ['an empty any', { any: [] }, 'at least one'],
    ['an empty time window', { timeWindow: {} }, 'at least one of'],
    ['only a time zone', { timeWindow: { timeZone: 'UTC' } }, 'at least one of'],
    ['a bad time zone', { timeWindow: { fromTime: '09:00', toTime: '10:00', timeZone: 'Mars/Olympus' } }, 'IANA'],
    ['a bad clock time', { timeWindow: { fromTime: '24:00', toTime: '10:00' } }, 'HH:MM'],
    ['fromTime without toTime', { timeWindow: { fromTime: '09:00' } }, 'go together'],
    ['equal from and to', { timeWindow: { fromTime: '09:00', toTime: '09:00' } }, 'must differ'],
    ['a day out of range', { timeWindow: { daysOfWeek: [7] } }, '0 (Sunday) to 6'],
    ['a repeated day', { timeWindow: { daysOfWeek: [1, 1] } }, 'repeat'],
    ['a fractional day', { timeWindow: { daysOfWeek: [1.5] } }, ''],
    ['a local date-time', { timeWindow: { notBefore: '2026-01-01T00:00:00' } }, 'ISO-8601'],
    ['an impossible date', { timeWindow: { notBefore: '2026-13-45T00:00:00Z' } }, 'not a valid date'],
    ['notBefore after notAfter', { timeWindow: { notBefore: '2026-02-01T00:00:00Z', notAfter: '2026-01-01T00:00:00Z' } }, 'after notAfter'],
  ])('rejects %s', (_label, condition, message) => {
    const found = problems(condition);
    expect(found.length).toBeGreaterThan(0);
    expect(found.join(' | ')).toContain(message);
  });

  it('reports the path of a nested problem', () => {
    expect(problems({ all: [{ self: 'resource.a' }, { not: { field: 'resource.b', op: 'eq', value: [1] } }] })).toEqual([
      'all.1.not.value: eq takes a single value; use in/nin for lists',
    ]);
  });

  it(`allows depth ${RBAC_LIMITS.maxConditionDepth} and rejects one more (maxConditionDepth)`, () => {
    expect(RBAC_LIMITS.maxConditionDepth).toBe(8);
    expect(problems(nest(8))).toEqual([]);
    expect(problems(nest(9)).join()).toContain('at most 8 levels');
  });

  it(`rejects more than maxConditionNodes (${RBAC_LIMITS.maxConditionNodes}) nodes`, () => {
    const leaves = (n: number) => ({ any: Array.from({ length: n }, (_, i) => ({ field: 'resource.a', op: 'eq', value: i })) });
    expect(problems(leaves(RBAC_LIMITS.maxConditionNodes - 1))).toEqual([]);
    expect(problems(leaves(RBAC_LIMITS.maxConditionNodes)).join()).toContain(`at most ${RBAC_LIMITS.maxConditionNodes} nodes`);
  });

  it(`rejects lists over maxConditionListLength (${RBAC_LIMITS.maxConditionListLength})`, () => {
    const list = (n: number) => ({ field: 'resource.a', op: 'in', value: Array.from({ length: n }, (_, i) => i) });
    expect(problems(list(RBAC_LIMITS.maxConditionListLength))).toEqual([]);
    expect(problems(list(RBAC_LIMITS.maxConditionListLength + 1)).join()).toContain('at most');
  });

  it(`rejects strings over maxConditionStringLength (${RBAC_LIMITS.maxConditionStringLength})`, () => {
    const value = (n: number) => ({ field: 'resource.a', op: 'eq', value: 'x'.repeat(n) });
    expect(problems(value(RBAC_LIMITS.maxConditionStringLength))).toEqual([]);
    expect(problems(value(RBAC_LIMITS.maxConditionStringLength + 1)).join()).toContain('at most');
  });

  it(`rejects paths over maxAttributePathSegments (${RBAC_LIMITS.maxAttributePathSegments}) and long segments`, () => {
    const path = (n: number) => `resource.${Array.from({ length: n }, () => 'a').join('.')}`;
    expect(problems({ field: path(RBAC_LIMITS.maxAttributePathSegments), op: 'eq', value: 1 })).toEqual([]);
    expect(problems({ field: path(RBAC_LIMITS.maxAttributePathSegments + 1), op: 'eq', value: 1 }).join()).toContain('more than');
    expect(problems({ field: `resource.${'a'.repeat(RBAC_LIMITS.maxAttributePathSegmentLength + 1)}`, op: 'eq', value: 1 }).join()).toContain('longer than');
  });

  it.each([
    '{"__proto__":{"field":"resource.a","op":"eq","value":1}}',
    '{"field":"resource.a","op":"eq","value":1,"constructor":1}',
    '{"timeWindow":{"fromTime":"09:00","toTime":"10:00","__proto__":{}}}',
    '{"field":"resource.a","op":"eq","value":{"__proto__":"x"}}',
    '{"field":"resource.__proto__","op":"eq","value":1}',
  ])('rejects the forbidden key in %s', (json) => {
    expect(problems(JSON.parse(json)).join()).toMatch(/forbidden key/);
  });

  it('parseCondition throws CONDITION_INVALID with the issues in details', () => {
    try {
      parseCondition({ field: 'resource.a', op: 'eq' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RbacError);
      expect((err as RbacError).code).toBe('CONDITION_INVALID');
      expect((err as RbacError).details).toHaveProperty('issues');
    }
  });
});
