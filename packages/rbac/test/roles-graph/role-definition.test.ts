import { describe, expect, it } from 'vitest';
import { DEFAULT_ASSIGNMENT_POLICY, parseRoleDefinition, RBAC_LIMITS, RbacError, roleKeySchema, type RoleDefinition } from '../../src/index.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(RbacError);
    return (err as RbacError).code;
  }
  return undefined;
}

describe('roleKeySchema', () => {
  it.each(['a', 'viewer', 'tenant_admin', 'content-manager', 'r2d2', 'a'.repeat(64)])('accepts %s', (key) => {
    expect(roleKeySchema.safeParse(key).success).toBe(true);
  });
  it.each(['', 'Admin', '1admin', '_admin', '-admin', 'a b', 'a'.repeat(65), 'admin!', 'ädmin', '__proto__'])('rejects %j', (key) => {
    expect(roleKeySchema.safeParse(key).success).toBe(false);
  });
});

describe('parseRoleDefinition', () => {
  it('fills in defaults', () => {
    expect(parseRoleDefinition({ key: 'viewer', permissions: ['*:read', '*:list'] })).toEqual({
      key: 'viewer',
      name: 'viewer',
      description: '',
      rules: [
        { effect: 'allow', permission: '*:read' },
        { effect: 'allow', permission: '*:list' },
      ],
      inherits: [],
      assignment: { restricted: false, selfAssignable: false, maxAssignments: null, requiresApproval: false },
    });
    expect(DEFAULT_ASSIGNMENT_POLICY).toEqual({ restricted: false, selfAssignable: false, maxAssignments: null, requiresApproval: false });
  });

  it('keeps given values and merges a partial assignment policy', () => {
    const parsed = parseRoleDefinition({
      key: 'owner',
      name: 'Owner',
      description: 'Everything',
      permissions: ['*', '!billing:delete'],
      inherits: ['admin', 'admin', 'viewer'],
      assignment: { restricted: true, maxAssignments: 3 },
    });
    expect(parsed.name).toBe('Owner');
    expect(parsed.description).toBe('Everything');
    expect(parsed.inherits).toEqual(['admin', 'viewer']);
    expect(parsed.assignment).toEqual({ restricted: true, selfAssignable: false, maxAssignments: 3, requiresApproval: false });
    expect(parsed.rules[1]).toEqual({ effect: 'deny', permission: 'billing:delete' });
  });

  it.each<[string, unknown]>([
    ['a bad key', { key: 'Admin', permissions: [] }],
    ['a missing key', { permissions: [] }],
    ['missing permissions', { key: 'a' }],
    ['an extra key', { key: 'a', permissions: [], tenantId: 't1' }],
    ['an empty name', { key: 'a', name: '  ', permissions: [] }],
    ['a long name', { key: 'a', name: 'x'.repeat(RBAC_LIMITS.maxRoleNameLength + 1), permissions: [] }],
    ['a long description', { key: 'a', description: 'x'.repeat(RBAC_LIMITS.maxRoleDescriptionLength + 1), permissions: [] }],
    ['a bad inherited key', { key: 'a', permissions: [], inherits: ['Bad'] }],
    ['too many inherited roles', { key: 'a', permissions: [], inherits: Array.from({ length: RBAC_LIMITS.maxInheritedRoles + 1 }, (_, i) => `r${i}`) }],
    ['an unknown policy key', { key: 'a', permissions: [], assignment: { autoApprove: true } }],
    ['a zero maxAssignments', { key: 'a', permissions: [], assignment: { maxAssignments: 0 } }],
    ['a fractional maxAssignments', { key: 'a', permissions: [], assignment: { maxAssignments: 1.5 } }],
    ['a string restricted', { key: 'a', permissions: [], assignment: { restricted: 'yes' } }],
    ['not an object', 'admin'],
    ['null', null],
  ])('rejects %s with ROLE_INVALID', (_label, def) => {
    expect(codeOf(() => parseRoleDefinition(def as RoleDefinition))).toBe('ROLE_INVALID');
  });

  it('rejects a role that inherits itself with ROLE_INHERITANCE_CYCLE', () => {
    expect(codeOf(() => parseRoleDefinition({ key: 'a', permissions: [], inherits: ['a'] }))).toBe('ROLE_INHERITANCE_CYCLE');
  });

  it('keeps the codes of rule problems', () => {
    expect(codeOf(() => parseRoleDefinition({ key: 'a', permissions: ['doc*:read'] }))).toBe('PERMISSION_INVALID');
    expect(codeOf(() => parseRoleDefinition({ key: 'a', permissions: [{ permission: 'a:b', condition: { field: 'x.y', op: 'eq', value: 1 } }] }))).toBe(
      'CONDITION_INVALID',
    );
  });

  it.each([
    '{"key":"a","permissions":[],"__proto__":{"restricted":false}}',
    '{"key":"a","permissions":[],"assignment":{"__proto__":{"restricted":false}}}',
    '{"key":"a","permissions":[{"permission":"a:b","condition":{"constructor":{}}}]}',
  ])('rejects prototype keys anywhere with CONDITION_INVALID: %s', (json) => {
    expect(codeOf(() => parseRoleDefinition(JSON.parse(json)))).toBe('CONDITION_INVALID');
  });
});
