import { describe, expect, it } from 'vitest';
import { normalizePermissionRules, RBAC_LIMITS, RbacError, type PermissionRuleInput } from '../../src/index.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(RbacError);
    return (err as RbacError).code;
  }
  return undefined;
}

describe('normalizePermissionRules', () => {
  it('turns strings into allows and "!" strings into denies', () => {
    expect(normalizePermissionRules(['docs:*', '!docs:delete', '*'])).toEqual([
      { effect: 'allow', permission: 'docs:*' },
      { effect: 'deny', permission: 'docs:delete' },
      { effect: 'allow', permission: '*' },
    ]);
  });

  it('defaults the effect of an object rule to allow and keeps condition and description', () => {
    const [rule] = normalizePermissionRules([{ permission: 'docs:update', condition: { self: 'resource.ownerId' }, description: 'own docs' }]);
    expect(rule).toEqual({ effect: 'allow', permission: 'docs:update', condition: { self: 'resource.ownerId' }, description: 'own docs' });
    expect(Object.keys(rule!)).toEqual(['effect', 'permission', 'condition', 'description']);
  });

  it('omits absent condition and description keys', () => {
    const [rule] = normalizePermissionRules([{ permission: 'docs:read', effect: 'deny' }]);
    expect(rule).toStrictEqual({ effect: 'deny', permission: 'docs:read' });
  });

  it('copies the condition instead of aliasing the caller object', () => {
    const condition = { field: 'resource.tags', op: 'in' as const, value: ['a'] };
    const [rule] = normalizePermissionRules([{ permission: 'docs:read', condition }]);
    condition.value.push('b');
    expect(rule!.condition).toEqual({ field: 'resource.tags', op: 'in', value: ['a'] });
  });

  it('drops identical rules, including conditions that differ only in key order', () => {
    const rules = normalizePermissionRules([
      'docs:read',
      'docs:read',
      { permission: 'docs:read' },
      { permission: 'docs:read', effect: 'deny' },
      '!docs:read',
      { permission: 'docs:edit', condition: { field: 'resource.a', op: 'eq', value: 1 }, description: 'first' },
      { permission: 'docs:edit', condition: { value: 1, op: 'eq', field: 'resource.a' } as never, description: 'second' },
      { permission: 'docs:edit', condition: { field: 'resource.a', op: 'eq', value: 2 } },
    ]);
    expect(rules).toEqual([
      { effect: 'allow', permission: 'docs:read' },
      { effect: 'deny', permission: 'docs:read' },
      { effect: 'allow', permission: 'docs:edit', condition: { field: 'resource.a', op: 'eq', value: 1 }, description: 'first' },
      { effect: 'allow', permission: 'docs:edit', condition: { field: 'resource.a', op: 'eq', value: 2 } },
    ]);
  });

  it.each<[string, unknown]>([
    ['an invalid pattern', ['doc*:read']],
    ['a double "!"', ['!!docs:read']],
    ['a lone "!"', ['!']],
    ['a "!" in object form', [{ permission: '!docs:read' }]],
    ['an unknown effect', [{ permission: 'docs:read', effect: 'maybe' }]],
    ['an extra key', [{ permission: 'docs:read', priority: 1 }]],
    ['a missing permission', [{ effect: 'allow' }]],
    ['a number', [42]],
    ['null', [null]],
    ['an array rule', [['docs:read']]],
    ['a non-array', 'docs:read'],
    ['a description over the limit', [{ permission: 'docs:read', description: 'x'.repeat(RBAC_LIMITS.maxRuleDescriptionLength + 1) }]],
  ])('rejects %s with PERMISSION_INVALID', (_label, input) => {
    expect(codeOf(() => normalizePermissionRules(input as PermissionRuleInput[]))).toBe('PERMISSION_INVALID');
  });

  it('names the index of the bad rule', () => {
    expect(() => normalizePermissionRules(['docs:read', 'bad*:x'])).toThrow(/Rule 1:/);
  });

  it('accepts exactly maxRulesPerRole (10 000) rules and rejects one more', () => {
    expect(RBAC_LIMITS.maxRulesPerRole).toBe(10_000);
    const rules = Array.from({ length: RBAC_LIMITS.maxRulesPerRole }, (_, i) => `r${i}:read`);
    expect(normalizePermissionRules(rules)).toHaveLength(10_000);
    expect(codeOf(() => normalizePermissionRules([...rules, 'extra:read']))).toBe('PERMISSION_INVALID');
  });

  it('rejects an invalid condition with CONDITION_INVALID', () => {
    expect(codeOf(() => normalizePermissionRules([{ permission: 'docs:read', condition: { field: 'doc.owner', op: 'eq', value: 1 } }]))).toBe(
      'CONDITION_INVALID',
    );
  });

  describe('prototype-polluting keys', () => {
    it.each([
      '[{"permission":"docs:read","condition":{"__proto__":{"field":"resource.a","op":"eq","value":1}}}]',
      '[{"permission":"docs:read","__proto__":{"effect":"deny"}}]',
      '[{"permission":"docs:read","constructor":{}}]',
      '[{"permission":"docs:read","condition":{"all":[{"field":"resource.a","op":"eq","value":{"prototype":1}}]}}]',
      '[{"permission":"docs:read","condition":{"field":"resource.a","op":"in","value":[{"__proto__":1}]}}]',
    ])('rejects %s with CONDITION_INVALID', (json) => {
      expect(codeOf(() => normalizePermissionRules(JSON.parse(json)))).toBe('CONDITION_INVALID');
    });

    it.each(['resource.__proto__.polluted', 'resource.constructor', 'resource.a.prototype', 'principal.attributes.__proto__'])(
      'rejects the field path %s with CONDITION_INVALID',
      (field) => {
        expect(codeOf(() => normalizePermissionRules([{ permission: 'docs:read', condition: { field, op: 'eq', value: 1 } }]))).toBe('CONDITION_INVALID');
      },
    );

    it('rejects a forbidden key in a reference or self path', () => {
      expect(codeOf(() => normalizePermissionRules([{ permission: 'a:b', condition: { field: 'resource.a', op: 'eq', value: { ref: 'principal.attributes.__proto__' } } }]))).toBe(
        'CONDITION_INVALID',
      );
      expect(codeOf(() => normalizePermissionRules([{ permission: 'a:b', condition: { self: 'resource.constructor' } }]))).toBe('CONDITION_INVALID');
    });

    it('does not pollute Object.prototype while validating', () => {
      try {
        normalizePermissionRules(JSON.parse('[{"permission":"a:b","condition":{"__proto__":{"polluted":true}}}]'));
      } catch {
        // expected
      }
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });
  });
});
