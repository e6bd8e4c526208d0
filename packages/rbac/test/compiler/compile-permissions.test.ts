import { createManualClock } from '@tenantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizePermissionRules, patternCovers, RbacError, type Role } from '../../src/index.js';
import { compile, grant, role, rolesOf, START, TENANT } from './fixtures.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(RbacError);
    return (err as RbacError).code;
  }
  return undefined;
}

const viewer = role({ key: 'viewer', permissions: ['*:read', '*:list'] });
const editor = role({
  key: 'editor',
  permissions: ['docs:*', '!docs:delete', { permission: 'docs:publish', condition: { self: 'resource.ownerId' } }],
  inherits: ['viewer'],
});
const auditor = role({ key: 'auditor', permissions: ['audit:read'], inherits: ['viewer'] });
const admin = role({ key: 'admin', permissions: ['members:*'], inherits: ['editor', 'auditor'] });
const standard = rolesOf(viewer, editor, auditor, admin);

describe('compilePermissions: matching', () => {
  it('denies by default', () => {
    const compiled = compile(standard, []);
    expect(compiled.can('docs:read')).toBe(false);
    expect(compiled.explain('docs:read')).toEqual({ allowed: false, permission: 'docs:read', reason: 'no-matching-rule', rule: null, missing: [] });
  });

  it('grants through inheritance and diamonds', () => {
    const compiled = compile(standard, [grant('admin')]);
    expect(compiled.can('members:invite')).toBe(true);
    expect(compiled.can('docs:update')).toBe(true);
    expect(compiled.can('audit:read')).toBe(true);
    expect(compiled.can('billing:read')).toBe(true);
    expect(compiled.can('billing:write')).toBe(false);
    expect(compiled.explain('billing:list').rule?.roleChain).toEqual(['admin', 'editor', 'viewer']);
  });

  it('wildcards are whole segments and never cross resources or match prefixes', () => {
    const compiled = compile(rolesOf(role({ key: 'r', permissions: ['doc:*', '*:read'] })), [grant('r')]);
    expect(compiled.can('doc:write')).toBe(true);
    expect(compiled.can('document:write')).toBe(false);
    expect(compiled.can('docs:write')).toBe(false);
    expect(compiled.can('doc:write:own')).toBe(true);
    expect(compiled.can('anything:read')).toBe(true);
    expect(compiled.can('anything:readall')).toBe(false);
    expect(compiled.can('anything:rea')).toBe(false);
  });

  it('a shorter pattern covers longer permissions, never the reverse', () => {
    const compiled = compile(rolesOf(role({ key: 'r', permissions: ['docs:read', 'files:write:own'] })), [grant('r')]);
    expect(compiled.can('docs:read:own')).toBe(true);
    expect(compiled.can('files:write:own')).toBe(true);
    expect(compiled.can('files:write')).toBe(false);
    expect(compiled.can('files:write:all')).toBe(false);
  });

  it('a deny beats any allow, wherever it sits in the graph', () => {
    const compiled = compile(standard, [grant('admin')]);
    expect(compiled.can('docs:delete')).toBe(false);
    expect(compiled.can('docs:delete:own')).toBe(false);
    const decision = compiled.explain('docs:delete');
    expect(decision.reason).toBe('denied-by-rule');
    expect(decision.rule).toMatchObject({ effect: 'deny', permission: 'docs:delete', source: 'role', roleChain: ['admin', 'editor'] });
    expect(decision.rule?.grant?.assignmentId).toBe('asg_admin');
  });

  it('a deny in one grant beats an allow in another', () => {
    const roles = rolesOf(role({ key: 'all', permissions: ['*'] }), role({ key: 'nobilling', permissions: ['!billing:*'] }));
    const compiled = compile(roles, [grant('all'), grant('nobilling')]);
    expect(compiled.can('billing:read')).toBe(false);
    expect(compiled.can('docs:read')).toBe(true);
  });

  it('* alone covers everything; a deny of * blocks everything', () => {
    expect(compile(rolesOf(role({ key: 'r', permissions: ['*'] })), [grant('r')]).can('x:y:z')).toBe(true);
    expect(compile(rolesOf(role({ key: 'r', permissions: ['*', '!*'] })), [grant('r')]).can('x:y')).toBe(false);
  });

  it('rejects invalid permissions with PERMISSION_INVALID instead of denying them', () => {
    const compiled = compile(standard, [grant('admin')]);
    for (const bad of ['docs', 'docs:*', '*', 'Docs:read', 'docs:read:own:x', '', 'docs:read ']) {
      expect(codeOf(() => compiled.can(bad))).toBe('PERMISSION_INVALID');
      expect(codeOf(() => compiled.explain(bad))).toBe('PERMISSION_INVALID');
      expect(codeOf(() => compiled.queryConditions(bad))).toBe('PERMISSION_INVALID');
    }
    expect(codeOf(() => compiled.can(42 as unknown as string))).toBe('PERMISSION_INVALID');
  });

  it('agrees with a brute-force reference on random rule sets', () => {
    const segment = fc.constantFrom('a', 'b', 'ab');
    const pattern = fc.array(fc.oneof(segment, fc.constant('*')), { minLength: 1, maxLength: 3 }).map((s) => s.join(':'));
    const rule = fc.tuple(fc.boolean(), pattern).map(([deny, p]) => (deny ? `!${p}` : p));
    const permission = fc.array(segment, { minLength: 2, maxLength: 3 }).map((s) => s.join(':'));
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 8 }), fc.array(rule, { maxLength: 8 }), fc.array(permission, { minLength: 1, maxLength: 10 }), (a, b, checks) => {
        const roles = rolesOf(role({ key: 'child', permissions: b }), role({ key: 'parent', permissions: a, inherits: ['child'] }));
        const compiled = compile(roles, [grant('parent')]);
        const rules = normalizePermissionRules([...a, ...b]);
        for (const check of [...checks, ...checks]) {
          const matching = rules.filter((r) => patternCovers(r.permission, check));
          const expected = matching.some((r) => r.effect === 'allow') && !matching.some((r) => r.effect === 'deny');
          expect(compiled.can(check)).toBe(expected);
          expect(compiled.explain(check).allowed).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('compilePermissions: roles and grants', () => {
  it('ignores roles of other tenants and global templates', () => {
    const roles = new Map<string, Role>([
      ['viewer', role({ key: 'viewer', permissions: ['*:read'] }, 'tnt_2')],
      ['editor', role({ key: 'editor', permissions: ['docs:*'] }, null)],
    ]);
    const compiled = compile(roles, [grant('viewer'), grant('editor')]);
    expect(compiled.can('docs:read')).toBe(false);
    expect(compiled.permissions()).toEqual([]);
  });

  it('ignores a role filed under another key', () => {
    const roles = new Map<string, Role>([['viewer', role({ key: 'admin', permissions: ['*'] })]]);
    expect(compile(roles, [grant('viewer')]).can('docs:read')).toBe(false);
  });

  it('ignores grants of unknown roles and unknown inherited roles', () => {
    const roles = rolesOf(role({ key: 'r', permissions: ['docs:read'], inherits: ['ghost'] }));
    const compiled = compile(roles, [grant('missing'), grant('r')]);
    expect(compiled.can('docs:read')).toBe(true);
  });

  it('survives a stored inheritance cycle', () => {
    const a = { ...role({ key: 'a', permissions: ['a:read'] }), inherits: ['b'] };
    const b = { ...role({ key: 'b', permissions: ['b:read'] }), inherits: ['a'] };
    const compiled = compile(rolesOf(a, b), [grant('a')]);
    expect(compiled.can('a:read')).toBe(true);
    expect(compiled.can('b:read')).toBe(true);
  });

  it('ignores expired grants and reports the earliest remaining expiry as validUntil', () => {
    const clock = createManualClock(START);
    const roles = rolesOf(role({ key: 'a', permissions: ['a:read'] }), role({ key: 'b', permissions: ['b:read'] }), role({ key: 'c', permissions: ['c:read'] }));
    const compiled = compile(roles, [grant('a', { expiresAt: START }), grant('b', { expiresAt: START + 60_000 }), grant('c', { expiresAt: START + 5_000 })], { clock });
    expect(compiled.can('a:read')).toBe(false);
    expect(compiled.can('b:read')).toBe(true);
    expect(compiled.can('c:read')).toBe(true);
    expect(compiled.validUntil).toBe(START + 5_000);
    expect(compile(roles, [grant('a')]).validUntil).toBe(Infinity);
    expect(compile(roles, [grant('a', { expiresAt: START - 1 })]).validUntil).toBe(Infinity);
  });

  it('an expired grant does not cite itself when another grant holds the role', () => {
    const roles = rolesOf(role({ key: 'a', permissions: ['a:read'] }));
    const compiled = compile(roles, [grant('a', { assignmentId: 'old', expiresAt: START - 1 }), grant('a', { assignmentId: 'new' })]);
    expect(compiled.explain('a:read').rule?.grant?.assignmentId).toBe('new');
  });

  it('cites group grants', () => {
    const via = { type: 'group' as const, groupId: 'grp_1', groupPath: '/grp_0/grp_1/' };
    const compiled = compile(standard, [grant('viewer', { via })]);
    expect(compiled.explain('docs:read').rule?.grant?.via).toEqual(via);
  });

  it('rejects corrupted stored rules loudly', () => {
    const bad = { ...role({ key: 'r', permissions: [] }), rules: [{ effect: 'allow' as const, permission: 'doc*:read' }] };
    expect(codeOf(() => compile(rolesOf(bad), [grant('r')]))).toBe('PERMISSION_INVALID');
    const badEffect = { ...role({ key: 'r', permissions: [] }), rules: [{ effect: 'maybe' as never, permission: 'docs:read' }] };
    expect(codeOf(() => compile(rolesOf(badEffect), [grant('r')]))).toBe('PERMISSION_INVALID');
    const badCondition = { ...role({ key: 'r', permissions: [] }), rules: [{ effect: 'deny' as const, permission: 'docs:read', condition: { field: 'resource.__proto__', op: 'eq', value: 1 } as never }] };
    expect(codeOf(() => compile(rolesOf(badCondition), [grant('r')]))).toBe('CONDITION_INVALID');
  });

  it('permissions() lists every rule with its grant and chain, diamonds once per grant', () => {
    const compiled = compile(standard, [grant('admin')]);
    const list = compiled.permissions();
    expect(list.map((p) => `${p.effect} ${p.permission} ${p.roleChain.join('>')}`)).toEqual([
      'allow members:* admin',
      'allow docs:* admin>editor',
      'deny docs:delete admin>editor',
      'allow docs:publish admin>editor',
      'allow audit:read admin>auditor',
      'allow *:read admin>editor>viewer',
      'allow *:list admin>editor>viewer',
    ]);
    expect(list[3]?.condition).toEqual({ self: 'resource.ownerId' });
    expect(list.every((p) => p.grant.assignmentId === 'asg_admin')).toBe(true);
    expect(compiled.permissions()).toBe(list);
  });

  it('is frozen', () => {
    const compiled = compile(standard, [grant('admin')]);
    expect(Object.isFrozen(compiled)).toBe(true);
    expect(compiled.tenantId).toBe(TENANT);
  });
});

describe('compilePermissions: conditions', () => {
  const roles = rolesOf(
    role({
      key: 'writer',
      permissions: [
        { permission: 'docs:update', condition: { self: 'resource.ownerId' } },
        { permission: 'docs:update', condition: { field: 'resource.team', op: 'eq', value: { ref: 'principal.attributes.team' } } },
        { permission: 'docs:archive', effect: 'deny', condition: { field: 'resource.locked', op: 'eq', value: true } },
        'docs:archive',
        { permission: 'admin:access', condition: { field: 'context.ip', op: 'in', value: ['10.0.0.1'] } },
        { permission: 'docs:export', effect: 'deny', condition: { not: { field: 'context.mfa', op: 'eq', value: true } } },
        'docs:export',
        { permission: 'shifts:clock', condition: { timeWindow: { daysOfWeek: [1, 2, 3, 4, 5], fromTime: '09:00', toTime: '17:00' } } },
      ],
    }),
  );
  const principal = { id: 'usr_1', attributes: { team: 'blue' } };
  const compiled = compile(roles, [grant('writer')], { principal });

  it('evaluates conditions against the resource', () => {
    expect(compiled.can('docs:update', { ownerId: 'usr_1' })).toBe(true);
    expect(compiled.can('docs:update', { ownerId: 'usr_2', team: 'blue' })).toBe(true);
    expect(compiled.can('docs:update', { ownerId: 'usr_2', team: 'red' })).toBe(false);
    expect(compiled.explain('docs:update', { ownerId: 'usr_2', team: 'red' })).toMatchObject({ reason: 'condition-not-met', missing: [] });
    expect(compiled.explain('docs:update', { ownerId: 'usr_2', team: 'blue' }).rule?.condition).toEqual({
      field: 'resource.team',
      op: 'eq',
      value: { ref: 'principal.attributes.team' },
    });
  });

  it('missing attributes fail closed on the allow side and say which', () => {
    expect(compiled.can('docs:update')).toBe(false);
    expect(compiled.explain('docs:update')).toMatchObject({ allowed: false, reason: 'missing-attributes', missing: ['resource.ownerId', 'resource.team'] });
    expect(compiled.explain('docs:update', { ownerId: 'usr_2' })).toMatchObject({ reason: 'missing-attributes', missing: ['resource.team'] });
    expect(compiled.can('admin:access')).toBe(false);
    expect(compiled.explain('admin:access')).toMatchObject({ reason: 'missing-attributes', missing: ['context.ip'] });
    expect(compiled.can('admin:access', undefined, { ip: '10.0.0.1' })).toBe(true);
  });

  it('missing attributes fail closed on the deny side: the deny applies', () => {
    expect(compiled.can('docs:archive', { locked: false })).toBe(true);
    expect(compiled.can('docs:archive', { locked: true })).toBe(false);
    expect(compiled.can('docs:archive')).toBe(false);
    expect(compiled.explain('docs:archive', {})).toMatchObject({ reason: 'denied-by-rule', missing: ['resource.locked'], rule: { effect: 'deny' } });
  });

  it('missing attributes under not still fail closed', () => {
    expect(compiled.can('docs:export', undefined, { mfa: true })).toBe(true);
    expect(compiled.can('docs:export', undefined, { mfa: false })).toBe(false);
    expect(compiled.can('docs:export')).toBe(false);
    expect(compiled.can('docs:export', undefined, {})).toBe(false);
    expect(compiled.explain('docs:export')).toMatchObject({ reason: 'denied-by-rule', missing: ['context.mfa'] });
  });

  it('a __proto__ resource cannot satisfy a condition through the prototype', () => {
    const resource = JSON.parse('{"__proto__":{"ownerId":"usr_1","team":"blue"}}');
    expect(compiled.can('docs:update', resource)).toBe(false);
    expect(compiled.can('docs:update', Object.create({ ownerId: 'usr_1' }))).toBe(false);
    const locked = JSON.parse('{"__proto__":{"locked":false}}');
    expect(compiled.can('docs:archive', locked)).toBe(false);
  });

  it('time windows read the compile-time clock, never context.now', () => {
    expect(compiled.can('shifts:clock')).toBe(true); // Monday 10:00 UTC
    expect(compiled.can('shifts:clock', undefined, { now: Date.UTC(2026, 0, 5, 18) })).toBe(true);
    const clock = createManualClock(START);
    const timed = compile(roles, [grant('writer')], { principal, clock });
    expect(timed.can('shifts:clock')).toBe(true);
    clock.advance(8 * 3_600_000);
    expect(timed.can('shifts:clock')).toBe(false);
  });

  it('repeated conditional checks re-evaluate the condition each time', () => {
    for (let i = 0; i < 3; i += 1) {
      expect(compiled.can('docs:update', { ownerId: 'usr_1' })).toBe(true);
      expect(compiled.can('docs:update', { ownerId: 'usr_9', team: 'red' })).toBe(false);
    }
  });

  it('explain reports the same decision as can', () => {
    const cases: [string, Record<string, unknown> | undefined, Record<string, unknown> | undefined][] = [
      ['docs:update', { ownerId: 'usr_1' }, undefined],
      ['docs:update', undefined, undefined],
      ['docs:archive', { locked: true }, undefined],
      ['docs:export', undefined, { mfa: true }],
      ['admin:access', undefined, { ip: '1.1.1.1' }],
      ['other:thing', undefined, undefined],
    ];
    for (const [permission, resource, context] of cases) {
      expect(compiled.explain(permission, resource, context).allowed).toBe(compiled.can(permission, resource, context));
    }
  });
});

describe('compilePermissions: plan and scope ceilings', () => {
  const everything = rolesOf(role({ key: 'owner', permissions: ['*'] }));

  it('a permission must also be allowed by the plan', () => {
    const compiled = compile(everything, [grant('owner')], { planRules: normalizePermissionRules(['docs:*', 'members:*', '!docs:export']) });
    expect(compiled.can('docs:read')).toBe(true);
    expect(compiled.can('sso:configure')).toBe(false);
    expect(compiled.explain('sso:configure')).toEqual({ allowed: false, permission: 'sso:configure', reason: 'outside-plan', rule: null, missing: [] });
    expect(compiled.can('docs:export')).toBe(false);
    expect(compiled.explain('docs:export')).toMatchObject({ reason: 'outside-plan', rule: { effect: 'deny', permission: 'docs:export', source: 'plan' } });
  });

  it('roles decide first: a permission the roles deny is reported as such', () => {
    const compiled = compile(rolesOf(role({ key: 'r', permissions: ['docs:read'] })), [grant('r')], { planRules: [] });
    expect(compiled.explain('docs:write').reason).toBe('no-matching-rule');
    expect(compiled.explain('docs:read').reason).toBe('outside-plan');
  });

  it('null or undefined planRules is no ceiling; an empty plan allows nothing', () => {
    expect(compile(everything, [grant('owner')], { planRules: null }).can('x:y')).toBe(true);
    expect(compile(everything, [grant('owner')]).can('x:y')).toBe(true);
    expect(compile(everything, [grant('owner')], { planRules: [] }).can('x:y')).toBe(false);
  });

  it('plan rules may carry conditions', () => {
    const planRules = normalizePermissionRules([{ permission: 'docs:*', condition: { field: 'resource.size', op: 'lte', value: 100 } }]);
    const compiled = compile(everything, [grant('owner')], { planRules });
    expect(compiled.can('docs:upload', { size: 10 })).toBe(true);
    expect(compiled.can('docs:upload', { size: 1000 })).toBe(false);
    expect(compiled.explain('docs:upload')).toMatchObject({ reason: 'outside-plan', missing: ['resource.size'] });
  });

  it('scopes cap the principal; [] allows nothing; undefined is no ceiling', () => {
    const key = { id: 'key_1', kind: 'api-key' as const, grantsFrom: 'usr_1', scopes: ['reports:read', 'docs:*'] };
    const compiled = compile(everything, [grant('owner')], { principal: key });
    expect(compiled.can('reports:read')).toBe(true);
    expect(compiled.can('docs:delete:own')).toBe(true);
    expect(compiled.can('reports:write')).toBe(false);
    expect(compiled.explain('reports:write')).toEqual({ allowed: false, permission: 'reports:write', reason: 'outside-scopes', rule: null, missing: [] });
    expect(compile(everything, [grant('owner')], { principal: { ...key, scopes: [] } }).can('reports:read')).toBe(false);
    expect(compile(everything, [grant('owner')], { principal: { id: 'key_2', kind: 'api-key' } }).can('reports:read')).toBe(true);
  });

  it('scopes never widen what the roles allow', () => {
    const compiled = compile(rolesOf(role({ key: 'r', permissions: ['docs:read'] })), [grant('r')], { principal: { id: 'k', scopes: ['*'] } });
    expect(compiled.can('docs:read')).toBe(true);
    expect(compiled.can('docs:write')).toBe(false);
  });

  it('rejects an invalid scope', () => {
    expect(codeOf(() => compile(everything, [grant('owner')], { principal: { id: 'k', scopes: ['doc*'] } }))).toBe('PERMISSION_INVALID');
  });
});

describe('compilePermissions: queryConditions', () => {
  const roles = rolesOf(
    role({ key: 'reader', permissions: ['docs:read'] }),
    role({ key: 'own', permissions: [{ permission: 'docs:read', condition: { self: 'resource.ownerId' } }] }),
    role({ key: 'public', permissions: [{ permission: 'docs:read', condition: { field: 'resource.visibility', op: 'eq', value: 'public' } }] }),
    role({ key: 'noarchive', permissions: [{ permission: 'docs:read', effect: 'deny', condition: { field: 'resource.status', op: 'eq', value: 'archived' } }] }),
    role({ key: 'nodocs', permissions: ['!docs:*'] }),
    role({ key: 'office', permissions: [{ permission: 'docs:read', effect: 'deny', condition: { not: { field: 'context.ip', op: 'in', value: ['10.0.0.1'] } } }] }),
    role({ key: 'region', permissions: [{ permission: 'docs:read', condition: { field: 'resource.region', op: 'eq', value: { ref: 'context.region' } } }] }),
  );
  const owner = { field: 'resource.ownerId', op: 'eq', value: 'usr_1' };
  const archived = { field: 'resource.status', op: 'eq', value: 'archived' };

  it('all: an unconditional allow and no deny that can apply', () => {
    expect(compile(roles, [grant('reader')]).queryConditions('docs:read')).toEqual({ kind: 'all' });
    expect(compile(roles, [grant('reader'), grant('own')]).queryConditions('docs:read')).toEqual({ kind: 'all' });
  });

  it('none: nothing allows, or an unconditional deny applies', () => {
    expect(compile(roles, []).queryConditions('docs:read')).toEqual({ kind: 'none' });
    expect(compile(roles, [grant('reader'), grant('nodocs')]).queryConditions('docs:read')).toEqual({ kind: 'none' });
    expect(compile(roles, [grant('reader')]).queryConditions('docs:write')).toEqual({ kind: 'none' });
  });

  it('some: conditional allows, with principal references reduced to constants', () => {
    expect(compile(roles, [grant('own'), grant('public')]).queryConditions('docs:read')).toEqual({
      kind: 'some',
      allow: [owner, { field: 'resource.visibility', op: 'eq', value: 'public' }],
      deny: [],
    });
  });

  it('some: an unconditional allow with a conditional deny', () => {
    expect(compile(roles, [grant('reader'), grant('noarchive')]).queryConditions('docs:read')).toEqual({
      kind: 'some',
      allow: [true],
      deny: [{ any: [archived, { field: 'resource.status', op: 'exists', value: false }] }],
    });
  });

  it('a deny on context the query lacks applies (none); with the context it drops out', () => {
    const compiled = compile(roles, [grant('reader'), grant('office')]);
    expect(compiled.queryConditions('docs:read')).toEqual({ kind: 'none' });
    expect(compiled.queryConditions('docs:read', { ip: '10.0.0.2' })).toEqual({ kind: 'none' });
    expect(compiled.queryConditions('docs:read', { ip: '10.0.0.1' })).toEqual({ kind: 'all' });
  });

  it('an allow on context the query lacks does not apply', () => {
    const compiled = compile(roles, [grant('region')]);
    expect(compiled.queryConditions('docs:read')).toEqual({ kind: 'none' });
    expect(compiled.queryConditions('docs:read', { region: 'eu' })).toEqual({ kind: 'some', allow: [{ field: 'resource.region', op: 'eq', value: 'eu' }], deny: [] });
  });

  it('applies the plan and scope ceilings', () => {
    const planRules = normalizePermissionRules([{ permission: 'docs:*', condition: { field: 'resource.tier', op: 'eq', value: 'free' } }]);
    expect(compile(roles, [grant('reader')], { planRules: [] }).queryConditions('docs:read')).toEqual({ kind: 'none' });
    expect(compile(roles, [grant('reader')], { planRules: normalizePermissionRules(['docs:*']) }).queryConditions('docs:read')).toEqual({ kind: 'all' });
    expect(compile(roles, [grant('reader')], { planRules }).queryConditions('docs:read')).toEqual({
      kind: 'some',
      allow: [{ field: 'resource.tier', op: 'eq', value: 'free' }],
      deny: [],
    });
    expect(compile(roles, [grant('own'), grant('noarchive')], { planRules }).queryConditions('docs:read')).toEqual({
      kind: 'some',
      allow: [{ all: [owner, { field: 'resource.tier', op: 'eq', value: 'free' }] }],
      deny: [{ any: [archived, { field: 'resource.status', op: 'exists', value: false }] }],
    });
    expect(compile(roles, [grant('reader')], { principal: { id: 'k', scopes: ['billing:*'] } }).queryConditions('docs:read')).toEqual({ kind: 'none' });
    expect(compile(roles, [grant('reader')], { principal: { id: 'k', scopes: ['docs:read'] } }).queryConditions('docs:read')).toEqual({ kind: 'all' });
  });
});

describe('compilePermissions: holds', () => {
  const roles = rolesOf(
    role({
      key: 'manager',
      permissions: ['docs:*', '!docs:purge', 'members:read', { permission: 'reports:read', condition: { self: 'resource.ownerId' } }],
    }),
  );
  const compiled = compile(roles, [grant('manager')]);

  it.each<[string, { permission: string; condition?: unknown }, boolean]>([
    ['an equal pattern', { permission: 'members:read' }, true],
    ['a narrower pattern', { permission: 'docs:read' }, true],
    ['a narrower qualified pattern', { permission: 'docs:read:own' }, true],
    ['a conditional rule the actor holds unconditionally', { permission: 'docs:read', condition: { self: 'resource.ownerId' } }, true],
    ['a wider pattern', { permission: 'members:*' }, false],
    ['everything', { permission: '*' }, false],
    ['a pattern a deny overlaps', { permission: 'docs:*' }, false],
    ['a pattern a deny overlaps through a wildcard', { permission: '*:purge' }, false],
    ['the denied permission itself', { permission: 'docs:purge' }, false],
    ['an unrelated permission', { permission: 'billing:read' }, false],
    ['a conditional allow with the same condition', { permission: 'reports:read', condition: { self: 'resource.ownerId' } }, true],
    ['a conditional allow without the condition', { permission: 'reports:read' }, false],
    ['a conditional allow with another condition', { permission: 'reports:read', condition: { self: 'resource.authorId' } }, false],
  ])('%s → %s', (_label, rule, expected) => {
    expect(compiled.holds({ effect: 'allow', ...rule } as never)).toBe(expected);
  });

  it('condition equality ignores key order', () => {
    const local = compile(rolesOf(role({ key: 'r', permissions: [{ permission: 'a:b', condition: { field: 'resource.x', op: 'eq', value: 1 } }] })), [grant('r')]);
    expect(local.holds({ effect: 'allow', permission: 'a:b', condition: { value: 1, op: 'eq', field: 'resource.x' } as never })).toBe(true);
  });

  it('a deny rule is trivially held', () => {
    expect(compiled.holds({ effect: 'deny', permission: '*' })).toBe(true);
    expect(compile(roles, []).holds({ effect: 'deny', permission: 'billing:*' })).toBe(true);
  });

  it('a principal with nothing holds no allow', () => {
    expect(compile(roles, []).holds({ effect: 'allow', permission: 'docs:read' })).toBe(false);
  });

  it('respects the plan and scope ceilings', () => {
    const everything = rolesOf(role({ key: 'owner', permissions: ['*'] }));
    expect(compile(everything, [grant('owner')]).holds({ effect: 'allow', permission: '*' })).toBe(true);
    expect(compile(everything, [grant('owner')], { planRules: normalizePermissionRules(['docs:*']) }).holds({ effect: 'allow', permission: 'billing:read' })).toBe(false);
    expect(compile(everything, [grant('owner')], { planRules: normalizePermissionRules(['docs:*']) }).holds({ effect: 'allow', permission: 'docs:read' })).toBe(true);
    const key = { id: 'k', scopes: ['docs:read'] };
    expect(compile(everything, [grant('owner')], { principal: key }).holds({ effect: 'allow', permission: 'docs:read' })).toBe(true);
    expect(compile(everything, [grant('owner')], { principal: key }).holds({ effect: 'allow', permission: 'docs:write' })).toBe(false);
  });

  it('rejects an invalid rule pattern', () => {
    expect(codeOf(() => compiled.holds({ effect: 'allow', permission: 'doc*:read' }))).toBe('PERMISSION_INVALID');
  });
});

describe('compilePermissions: scale', () => {
  it('compiles 100k rules across an inheritance chain and answers correctly (not timed)', () => {
    const roles = new Map<string, Role>();
    const perRole = 10_000;
    for (let r = 0; r < 10; r += 1) {
      const rules = Array.from({ length: perRole }, (_, i) => ({
        effect: i % 100 === 0 ? ('deny' as const) : ('allow' as const),
        permission: `res${r}_${i}:act${i % 7}`,
      }));
      roles.set(`role${r}`, { ...role({ key: `role${r}`, permissions: [], inherits: r < 9 ? [`role${r + 1}`] : ['base'] }), rules });
    }
    roles.set('base', role({ key: 'base', permissions: ['docs:*', '*:read'] }));
    const compiled = compile(roles, [grant('role0')]);
    expect(compiled.permissions()).toHaveLength(100_002);
    expect(compiled.can('res3_5:act5')).toBe(true);
    expect(compiled.can('res3_5:act5:own')).toBe(true);
    expect(compiled.can('res3_100:act2')).toBe(false); // a deny
    expect(compiled.can('res3_5:act4')).toBe(false);
    expect(compiled.can('res3_5:read')).toBe(true);
    expect(compiled.can('docs:anything')).toBe(true);
    expect(compiled.explain('res9_1:act1').rule?.roleChain).toHaveLength(10);
    expect(compiled.explain('docs:x').rule?.roleChain).toEqual([...Array.from({ length: 10 }, (_, i) => `role${i}`), 'base']);
  });

  it('stays correct past the decision cache size', () => {
    const compiled = compile(rolesOf(role({ key: 'r', permissions: ['even:*', '!even:x1'] })), [grant('r')]);
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 10_000; i += 1) {
        expect(compiled.can(`even:x${i}`)).toBe(i !== 1);
        expect(compiled.can(`odd:x${i}`)).toBe(false);
      }
    }
  });
});

describe('compilePermissions: a matcher kept past validUntil', () => {
  const roles = rolesOf(
    role({ key: 'temp', permissions: ['invoices:approve', { permission: 'docs:read', condition: { self: 'resource.ownerId' } }], inherits: ['base'] }),
    role({ key: 'base', permissions: ['docs:list'] }),
    role({ key: 'viewer', permissions: ['reports:read'] }),
    role({ key: 'freeze', permissions: ['!reports:read'] }),
  );

  it('stops allowing what an expired grant gave, in every method, by its own clock', () => {
    const clock = createManualClock(START);
    const compiled = compile(roles, [grant('temp', { expiresAt: START + 1_000 }), grant('viewer')], { clock });
    const own = { ownerId: 'usr_1' };
    expect(compiled.validUntil).toBe(START + 1_000);
    expect(compiled.can('invoices:approve')).toBe(true);
    expect(compiled.can('docs:read', own)).toBe(true);
    expect(compiled.queryConditions('docs:list')).toEqual({ kind: 'all' });
    expect(compiled.holds({ effect: 'allow', permission: 'invoices:approve' })).toBe(true);
    clock.advance(999);
    expect(compiled.can('invoices:approve')).toBe(true);
    clock.advance(1); // now === validUntil: the grant has expired (expiresAt <= now)
    expect(compiled.can('invoices:approve')).toBe(false);
    expect(compiled.can('docs:read', own)).toBe(false);
    expect(compiled.can('docs:list')).toBe(false); // inherited through the expired grant only
    expect(compiled.can('reports:read')).toBe(true); // the unlimited grant still counts
    expect(compiled.explain('invoices:approve')).toMatchObject({ allowed: false, reason: 'no-matching-rule' });
    expect(compiled.queryConditions('docs:list')).toEqual({ kind: 'none' });
    expect(compiled.queryConditions('reports:read')).toEqual({ kind: 'all' });
    expect(compiled.holds({ effect: 'allow', permission: 'invoices:approve' })).toBe(false);
    expect(compiled.permissions().map((entry) => entry.permission)).toEqual(['reports:read']);
    expect(compiled.validUntil).toBe(START + 1_000); // frozen: it still says when to recompile
  });

  it('keeps a role another grant still reaches, and expires grants one after the other', () => {
    const clock = createManualClock(START);
    const compiled = compile(
      roles,
      [grant('temp', { assignmentId: 'short', expiresAt: START + 1_000 }), grant('base', { assignmentId: 'long', expiresAt: START + 5_000 })],
      { clock },
    );
    // base is reached through the first grant first; it is still held through the second.
    expect(compiled.explain('docs:list').rule?.grant?.assignmentId).toBe('short');
    clock.advance(1_000);
    expect(compiled.can('invoices:approve')).toBe(false);
    expect(compiled.can('docs:list')).toBe(true);
    expect(compiled.explain('docs:list').rule?.grant?.assignmentId).toBe('long');
    clock.advance(4_000);
    expect(compiled.can('docs:list')).toBe(false);
    expect(compiled.queryConditions('docs:list')).toEqual({ kind: 'none' });
  });

  it('an expired deny grant stops denying, and a clock set back restores the original answers', () => {
    const clock = createManualClock(START);
    const compiled = compile(roles, [grant('viewer'), grant('freeze', { expiresAt: START + 10 })], { clock });
    expect(compiled.can('reports:read')).toBe(false);
    clock.advance(10);
    expect(compiled.can('reports:read')).toBe(true);
    clock.set(START);
    expect(compiled.can('reports:read')).toBe(false);
  });

  it('never reads the clock for checks when nothing expires', () => {
    let reads = 0;
    const clock = { now: () => (reads += 1, START) };
    const compiled = compile(roles, [grant('viewer')], { clock });
    const before = reads;
    for (let index = 0; index < 10; index += 1) compiled.can('reports:read');
    compiled.explain('reports:read');
    compiled.queryConditions('reports:read');
    expect(reads).toBe(before);
  });
});
