import { describe, expect, it } from 'vitest';
import { definePolicy } from '../../src/policy/define-policy.js';
import type { PolicyDefinition } from '../../src/policy/policy-definition.js';

/** Runs `run`, expecting a POLICY_INVALID naming `path`; returns the error for further checks. */
function policyError(run: () => unknown, path: string): { details: Record<string, unknown>; cause?: unknown; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toMatchObject({ code: 'POLICY_INVALID', details: expect.objectContaining({ path }) });
    expect((error as Error).message).toContain(path);
    return error as never;
  }
  throw new Error(`expected POLICY_INVALID at ${path}`);
}

describe('definePolicy', () => {
  it('parses roles, global roles and plans with every default filled in, frozen', () => {
    const policy = definePolicy({
      roles: {
        viewer: { permissions: ['*:read'] },
        editor: {
          key: 'editor',
          name: 'Editor',
          description: 'Edits docs',
          permissions: ['docs:*', '!docs:delete', { permission: 'docs:publish', condition: { self: 'resource.ownerId' } }],
          inherits: ['viewer'],
          assignment: { restricted: true },
        },
      },
      globalRoles: { auditor: { permissions: ['audit:read'] } },
      plans: { free: { permissions: ['docs:read'] }, 'pro.2026': { permissions: ['*'] } },
    });
    expect([...policy.roles.keys()]).toEqual(['viewer', 'editor']);
    expect(policy.roles.get('viewer')).toEqual({
      key: 'viewer',
      name: 'viewer',
      description: '',
      rules: [{ effect: 'allow', permission: '*:read' }],
      inherits: [],
      assignment: { restricted: false, selfAssignable: false, maxAssignments: null, requiresApproval: false },
    });
    expect(policy.roles.get('editor')).toMatchObject({
      name: 'Editor',
      description: 'Edits docs',
      rules: [
        { effect: 'allow', permission: 'docs:*' },
        { effect: 'deny', permission: 'docs:delete' },
        { effect: 'allow', permission: 'docs:publish', condition: { self: 'resource.ownerId' } },
      ],
      inherits: ['viewer'],
      assignment: { restricted: true, selfAssignable: false },
    });
    expect(policy.globalRoles.get('auditor')?.rules).toEqual([{ effect: 'allow', permission: 'audit:read' }]);
    expect(policy.plans.get('pro.2026')).toEqual([{ effect: 'allow', permission: '*' }]);
    expect(Object.isFrozen(policy)).toBe(true);
    expect(Object.isFrozen(policy.roles.get('editor')?.rules[2]?.condition)).toBe(true);
    expect(definePolicy({ roles: {} }).globalRoles.size).toBe(0);
  });

  it('allows inheriting roles the policy does not declare (they may be in the store) and diamonds', () => {
    const policy = definePolicy({
      roles: {
        base: { permissions: [] },
        left: { permissions: ['a:b'], inherits: ['base'] },
        right: { permissions: ['c:d'], inherits: ['base', 'viewer'] },
        top: { permissions: [], inherits: ['left', 'right'] },
      },
    });
    expect(policy.roles.get('right')?.inherits).toEqual(['base', 'viewer']);
  });

  it('names the bad entry of a rule, with the rule validator as cause', () => {
    const error = policyError(() => definePolicy({ roles: { editor: { permissions: ['docs:read', 'docs:*x'] } } }), 'roles.editor.permissions.1');
    expect(error.details.reason).toBe('PERMISSION_INVALID');
    expect(error.cause).toMatchObject({ code: 'PERMISSION_INVALID' });

    const condition = policyError(
      () => definePolicy({ roles: { editor: { permissions: [{ permission: 'docs:read', condition: { field: 'resource.x', op: 'near', value: 1 } as never }] } } }),
      'roles.editor.permissions.0',
    );
    expect(condition.details.reason).toBe('CONDITION_INVALID');
    policyError(() => definePolicy({ roles: {}, plans: { free: { permissions: ['ok:read', '!', 'x:y'] } } }), 'plans.free.permissions.1');
  });

  it('names the bad field of a role', () => {
    policyError(() => definePolicy({ roles: { editor: { key: 'writer', permissions: [] } } }), 'roles.editor.key');
    policyError(() => definePolicy({ roles: { Editor: { permissions: [] } } }), 'roles.Editor.key');
    policyError(() => definePolicy({ roles: { editor: { permissions: [], inherits: ['Bad Key'] } } }), 'roles.editor.inherits.0');
    policyError(() => definePolicy({ roles: { editor: { permissions: [], name: '' } } }), 'roles.editor.name');
    policyError(() => definePolicy({ roles: { editor: { permissions: [], assignment: { maxAssignments: 0 } } } }), 'roles.editor.assignment.maxAssignments');
    policyError(() => definePolicy({ roles: { editor: { permissions: 'docs:*' as never } } }), 'roles.editor.permissions');
    policyError(() => definePolicy({ roles: { editor: 'docs:*' as never } }), 'roles.editor');
    const self = policyError(() => definePolicy({ roles: { editor: { permissions: [], inherits: ['editor'] } } }), 'roles.editor.inherits');
    expect(self.details.reason).toBe('ROLE_INHERITANCE_CYCLE');
  });

  it('refuses unknown keys at every level', () => {
    policyError(() => definePolicy({ roles: {}, role: {} } as never), 'role');
    policyError(() => definePolicy({ roles: { editor: { permissions: [], permisions: [] } as never } }), 'roles.editor.permisions');
    policyError(() => definePolicy({ roles: {}, plans: { free: { permissions: [], price: 0 } as never } }), 'plans.free.price');
    const nested = policyError(() => definePolicy({ roles: { editor: { permissions: [], assignment: { approval: true } as never } } }), 'roles.editor.assignment');
    expect(nested.details.reason).toBe('ROLE_INVALID');
    policyError(() => definePolicy({ roles: { editor: { permissions: [{ permission: 'a:b', effekt: 'deny' } as never] } } }), 'roles.editor.permissions.0');
  });

  it('refuses prototype keys anywhere and objects whose prototype was replaced', () => {
    policyError(() => definePolicy(JSON.parse('{"roles":{"__proto__":{"permissions":[]}}}')), 'roles.__proto__');
    policyError(() => definePolicy(JSON.parse('{"roles":{},"plans":{"constructor":{"permissions":[]}}}')), 'plans.constructor');
    policyError(
      () => definePolicy(JSON.parse('{"roles":{"a":{"permissions":[{"permission":"a:b","condition":{"field":"resource.x","op":"eq","value":{"prototype":1}}}]}}}')),
      'roles.a.permissions.0.condition.value.prototype',
    );
    // Written in code, `__proto__:` sets the prototype instead of adding a key: refused, not silently ignored.
    policyError(() => definePolicy({ roles: { __proto__: { editor: { permissions: ['*'] } } } as never }), 'roles');
    policyError(() => definePolicy(Object.create({ roles: {} }) as never), '(root)');
  });

  it('refuses values that are not plain data', () => {
    policyError(() => definePolicy({ roles: { a: { permissions: [], description: new Date() as never } } }), 'roles.a.description');
    policyError(() => definePolicy({ roles: { a: { permissions: [() => 'x:y'] as never } } }), 'roles.a.permissions.0');
    policyError(() => definePolicy({ roles: new Map() as never }), 'roles');
    policyError(() => definePolicy({ roles: { a: { permissions: [], assignment: { maxAssignments: Number.NaN } } } }), 'roles.a.assignment.maxAssignments');
    policyError(() => definePolicy(null as never), '(root)');
    policyError(() => definePolicy({} as never), 'roles');
    policyError(() => definePolicy([] as never), '(root)');
    let deep: unknown = 'x';
    for (let index = 0; index < 80; index += 1) deep = [deep];
    policyError(() => definePolicy({ roles: { a: { permissions: deep as never } } }), 'roles.a.permissions.' + Array(62).fill(0).join('.'));
  });

  it('refuses bad plan keys', () => {
    policyError(() => definePolicy({ roles: {}, plans: { '-free': { permissions: [] } } }), 'plans.-free');
    policyError(() => definePolicy({ roles: {}, plans: { 'has space': { permissions: [] } } }), 'plans.has space');
    policyError(() => definePolicy({ roles: {}, plans: { free: { permissions: 'x' as never } } }), 'plans.free.permissions');
  });

  it('refuses an inheritance cycle among declared roles, naming it', () => {
    const definition: PolicyDefinition = {
      roles: {
        a: { permissions: [], inherits: ['b'] },
        b: { permissions: [], inherits: ['c'] },
        c: { permissions: [], inherits: ['a'] },
        d: { permissions: [], inherits: ['a'] },
      },
    };
    const error = policyError(() => definePolicy(definition), 'roles.a.inherits');
    expect(error.details).toMatchObject({ reason: 'ROLE_INHERITANCE_CYCLE', cycle: ['a', 'b', 'c', 'a'] });
    // Global roles are checked on their own.
    policyError(
      () => definePolicy({ roles: {}, globalRoles: { x: { permissions: [], inherits: ['y'] }, y: { permissions: [], inherits: ['x'] } } }),
      'globalRoles.x.inherits',
    );
  });
});
