import { describe, expect, it } from 'vitest';
import type { Condition, PermissionRule, Role } from '../../src/index.js';
import { compilePermissions, evaluateCondition, normalizePermissionRules, parsePermissionPattern } from '../../src/index.js';
import { compile, grant, role, rolesOf, START, TENANT } from '../compiler/fixtures.js';
import { createManualClock } from '@tenantkit/core';

/* Adversarial review of the engine (issue 4, helper J). */

const code = (c: string) => expect.objectContaining({ code: c });

function single(permissions: Parameters<typeof role>[0]['permissions'], principal = { id: 'usr_1', kind: 'user' as const }) {
  return compile(rolesOf(role({ key: 'r', permissions })), [grant('r')], { principal });
}

describe('review: permission strings cannot be confused', () => {
  const compiled = single(['docs:*', 'doc:*', '*:read']);
  it.each([
    'Docs:read',
    'docs:READ',
    'dоcs:read', // Cyrillic о
    'docs:read\u200b',
    ' docs:read',
    'docs:read ',
    'docs:read\n',
    'docs:\nread',
    'docs::read',
    'docs:read:',
    ':docs:read',
    'docs',
    'docs:*',
    '*:read',
    '*',
    'do*cs:read',
    'docs:re*',
    'docs:read:own:extra',
    'docs:read:*',
    `docs:${'a'.repeat(65)}`,
    `${'a'.repeat(100_000)}:read`,
    '',
    '!docs:read',
  ])('can(permission %#) throws PERMISSION_INVALID rather than matching', (permission) => {
    expect(() => compiled.can(permission)).toThrow(code('PERMISSION_INVALID'));
    expect(() => compiled.explain(permission)).toThrow(code('PERMISSION_INVALID'));
    expect(() => compiled.queryConditions(permission)).toThrow(code('PERMISSION_INVALID'));
  });

  it('rejects non-string permissions (String objects, objects with toString)', () => {
    expect(() => compiled.can(new String('docs:read') as never)).toThrow(code('PERMISSION_INVALID'));
    expect(() => compiled.can({ toString: () => 'docs:read' } as never)).toThrow(code('PERMISSION_INVALID'));
  });

  it.each(['Docs:read', 'docs:rea*', 'docs::read', 'docs:read:', 'docs:read:own:x', ' *', '**', '*:', 'dоcs:*', `${'a'.repeat(1_000_000)}`])(
    'a stored rule or scope (%#) fails to compile loudly',
    (permission) => {
      expect(() => normalizePermissionRules([permission])).toThrow(code('PERMISSION_INVALID'));
      const stored = role({ key: 'r', permissions: ['docs:read'] });
      const tampered: Role = { ...stored, rules: [{ effect: 'deny', permission }] };
      expect(() => compile(rolesOf(tampered), [grant('r')])).toThrow(code('PERMISSION_INVALID'));
      expect(() => compile(rolesOf(stored), [grant('r')], { principal: { id: 'u', scopes: [permission] } })).toThrow(code('PERMISSION_INVALID'));
    },
  );

  it('a wildcard is a whole segment and never crosses resources', () => {
    const c = single(['doc:*', '*:read', 'docs:read:own']);
    expect(c.can('document:read')).toBe(true); // via *:read only
    expect(c.can('document:write')).toBe(false);
    expect(c.can('docs:write')).toBe(false);
    expect(c.can('docs:write:own')).toBe(false);
    expect(c.can('doc:write:x')).toBe(true);
    const narrow = single(['docs:read:own']);
    expect(narrow.can('docs:read')).toBe(false);
    expect(narrow.can('docs:read:other')).toBe(false);
    expect(single(['*:*:own']).can('docs:read')).toBe(false);
  });

  it('a stored rule with an unknown effect or a "!" inside an object is refused', () => {
    const stored = role({ key: 'r', permissions: ['docs:read'] });
    expect(() => compile(rolesOf({ ...stored, rules: [{ effect: 'DENY' as never, permission: 'docs:read' }] }), [grant('r')])).toThrow(code('PERMISSION_INVALID'));
    expect(() => compile(rolesOf({ ...stored, rules: [{ effect: 'allow', permission: '!docs:read' }] }), [grant('r')])).toThrow(code('PERMISSION_INVALID'));
  });
});

describe('review: deny overrides allow everywhere', () => {
  const locked: Condition = { field: 'resource.status', op: 'eq', value: 'locked' };

  it('a conditional deny beats an unconditional allow, also when its attribute is missing, across repeated checks', () => {
    const c = single(['*', { permission: 'docs:update', effect: 'deny', condition: locked }]);
    expect(c.can('docs:update', { status: 'open' })).toBe(true);
    expect(c.can('docs:update', { status: 'locked' })).toBe(false);
    expect(c.can('docs:update', { status: 'open' })).toBe(true);
    expect(c.can('docs:update')).toBe(false);
    expect(c.can('docs:update', {})).toBe(false);
    expect(c.can('docs:update', { status: undefined })).toBe(false);
    expect(c.explain('docs:update', { status: 'locked' }).reason).toBe('denied-by-rule');
    // The memo never keeps a decision that depended on the resource.
    for (let i = 0; i < 5000; i += 1) c.can(`docs:p${i}`);
    expect(c.can('docs:update', { status: 'locked' })).toBe(false);
  });

  it('a deny reached through a diamond, a group grant or a later grant still wins', () => {
    const roles = rolesOf(
      role({ key: 'base', permissions: ['!docs:delete'] }),
      role({ key: 'left', permissions: ['docs:*'], inherits: ['base'] }),
      role({ key: 'right', permissions: ['*'], inherits: ['base'] }),
      role({ key: 'top', permissions: [], inherits: ['left', 'right'] }),
      role({ key: 'admin', permissions: ['*'] }),
    );
    expect(compile(roles, [grant('top')]).can('docs:delete')).toBe(false);
    expect(compile(roles, [grant('admin'), grant('base', { via: { type: 'group', groupId: 'g', groupPath: '/g/' } })]).can('docs:delete')).toBe(false);
    expect(compile(roles, [grant('admin'), grant('left')]).can('docs:delete')).toBe(false);
    expect(compile(roles, [grant('admin'), grant('left')]).can('docs:read')).toBe(true);
  });

  it('a deny in the plan or outside the scopes is a ceiling on an unconditional allow', () => {
    const roles = rolesOf(role({ key: 'r', permissions: ['*'] }));
    const planRules: PermissionRule[] = [
      { effect: 'allow', permission: '*' },
      { effect: 'deny', permission: 'billing:*', condition: { field: 'context.mfa', op: 'eq', value: true } },
    ];
    const c = compile(roles, [grant('r')], { planRules });
    expect(c.can('billing:read')).toBe(false); // missing context: the deny applies
    expect(c.can('billing:read', undefined, { mfa: true })).toBe(false);
    expect(c.can('billing:read', undefined, { mfa: false })).toBe(true);
    expect(c.queryConditions('billing:read').kind).toBe('none');
    const scoped = compile(roles, [grant('r')], { principal: { id: 'k', kind: 'api-key', scopes: ['docs:read'] } });
    expect(scoped.can('docs:read')).toBe(true);
    expect(scoped.can('docs:write')).toBe(false);
    expect(scoped.queryConditions('docs:write').kind).toBe('none');
    expect(compile(roles, [grant('r')], { principal: { id: 'k', scopes: [] } }).can('docs:read')).toBe(false);
  });

  it('roles of another tenant and global templates grant nothing', () => {
    const other = role({ key: 'r', permissions: ['*'] }, 'tnt_2');
    const template = role({ key: 'g', permissions: ['*'] }, null);
    expect(compile(rolesOf(other, template), [grant('r'), grant('g')]).can('docs:read')).toBe(false);
  });

  it('an expired grant grants nothing and validUntil is its expiry', () => {
    const clock = createManualClock(START);
    const roles = rolesOf(role({ key: 'r', permissions: ['*'] }));
    expect(compile(roles, [grant('r', { expiresAt: START })], { clock }).can('docs:read')).toBe(false);
    expect(compile(roles, [grant('r', { expiresAt: START + 1 })], { clock }).validUntil).toBe(START + 1);
  });
});

describe('review: missing or odd attributes fail closed', () => {
  const principal = { id: 'usr_1', kind: 'user' as const, attributes: { dept: 'eng' } };
  const check = (condition: Condition, resource?: Record<string, unknown>, context?: Record<string, unknown>) =>
    evaluateCondition(condition, { principal, resource, context }).outcome;

  it('stays unknown under not/any/all', () => {
    const eq: Condition = { field: 'resource.a', op: 'eq', value: 1 };
    expect(check({ not: eq }, {})).toBe('unknown');
    expect(check({ not: { not: eq } }, {})).toBe('unknown');
    expect(check({ any: [eq, { field: 'resource.b', op: 'eq', value: 1 }] }, { b: 2 })).toBe('unknown');
    expect(check({ all: [eq, { field: 'resource.b', op: 'eq', value: 1 }] }, { b: 1 })).toBe('unknown');
    expect(check({ not: { field: 'resource.a', op: 'ne', value: 1 } }, { a: undefined })).toBe('unknown');
    expect(check({ field: 'resource.a', op: 'nin', value: [1] }, {})).toBe('unknown');
    expect(check({ field: 'resource.a', op: 'ne', value: { ref: 'context.x' } }, { a: 1 }, {})).toBe('unknown');
    expect(check({ field: 'resource.a', op: 'ne', value: { ref: 'principal.attributes.nope' } }, { a: 1 })).toBe('unknown');
  });

  it('never reads through the prototype chain or __proto__ keys', () => {
    const self: Condition = { self: 'resource.ownerId' };
    expect(check(self, JSON.parse('{"__proto__": {"ownerId": "usr_1"}}'))).toBe('unknown');
    expect(check(self, Object.create({ ownerId: 'usr_1' }))).toBe('unknown');
    expect(check(self, Object.assign(Object.create(null), { ownerId: 'usr_1' }))).toBe(true);
    expect(check({ field: 'resource.meta.owner', op: 'eq', value: 'x' }, { meta: Object.create({ owner: 'x' }) })).toBe('unknown');
    expect(check({ field: 'resource.length', op: 'eq', value: 0 }, [] as never)).toBe('unknown');
    expect(check({ field: 'resource.a.length', op: 'gt', value: 0 }, { a: 'abc' })).toBe('unknown');
    expect(() => check({ field: 'resource.__proto__.x', op: 'eq', value: 1 } as Condition, {})).toThrow(code('CONDITION_INVALID'));
    expect(() => check({ field: 'resource.constructor', op: 'exists', value: true } as Condition, {})).toThrow(code('CONDITION_INVALID'));
    expect(() => normalizePermissionRules([JSON.parse('{"permission":"docs:read","condition":{"field":"resource.a","op":"eq","value":{"ref":"context.__proto__"}}}')])).toThrow(code('CONDITION_INVALID'));
  });

  it('treats null as a value, distinct from a missing attribute', () => {
    expect(check({ field: 'resource.a', op: 'eq', value: null }, { a: null })).toBe(true);
    expect(check({ field: 'resource.a', op: 'eq', value: null }, {})).toBe('unknown');
    expect(check({ field: 'resource.a', op: 'exists', value: true }, { a: null })).toBe(true);
    expect(check({ field: 'resource.a', op: 'exists', value: false })).toBe('unknown');
  });

  it('never equates numbers with numeric strings, or Dates with strings: undecidable, not false', () => {
    expect(check({ field: 'resource.a', op: 'eq', value: 1 }, { a: '1' })).toBe('unknown');
    expect(check({ field: 'resource.a', op: 'in', value: [1] }, { a: '1' })).toBe('unknown');
    expect(check({ self: 'resource.ownerId' }, { ownerId: new String('usr_1') })).toBe('unknown');
    expect(check({ field: 'resource.at', op: 'eq', value: '2026-01-01T00:00:00.000Z' }, { at: new Date('2026-01-01T00:00:00Z') })).toBe('unknown');
  });

  it('time windows ignore context.now whatever its type: only the clock counts', () => {
    const window: Condition = { timeWindow: { notBefore: '2026-01-01T00:00:00Z' } };
    for (const now of [new Date(START), String(START), Number.NaN, Infinity, START, Date.parse('2000-01-01T00:00:00Z')]) {
      expect(check(window, undefined, { now })).toBe('unknown'); // no clock given
      expect(evaluateCondition(window, { principal: { id: 'usr_1' }, context: { now }, clock: createManualClock(START) }).outcome).toBe(true);
    }
  });
});

describe('review: time windows', () => {
  const principal = { id: 'u' };
  const at = (condition: Condition, iso: string) => evaluateCondition(condition, { principal, clock: createManualClock(Date.parse(iso)) }).outcome;

  it('reads local time across DST changes', () => {
    const night: Condition = { timeWindow: { fromTime: '02:00', toTime: '03:00', timeZone: 'Europe/Berlin' } };
    // 2026-10-25: 02:30 happens twice in Berlin (CEST then CET); both are inside.
    expect(at(night, '2026-10-25T00:30:00Z')).toBe(true);
    expect(at(night, '2026-10-25T01:30:00Z')).toBe(true);
    // 2026-03-29: 02:00-03:00 does not exist in Berlin.
    expect(at(night, '2026-03-29T01:00:00Z')).toBe(false);
    expect(at(night, '2026-03-29T00:59:00Z')).toBe(false);
  });

  it('refuses invalid windows when parsed', () => {
    for (const timeWindow of [
      { notBefore: '2026-02-01T00:00:00Z', notAfter: '2026-01-01T00:00:00Z' },
      { fromTime: '09:00', toTime: '09:00' },
      { fromTime: '24:00', toTime: '09:00' },
      { daysOfWeek: [] },
      { daysOfWeek: [7] },
      { notBefore: '2026-02-30T00:00:00Z' },
      { notBefore: '2026-01-01' },
      { daysOfWeek: [1], timeZone: 'Mars/Olympus' },
      { timeZone: 'UTC' },
    ]) {
      expect(() => normalizePermissionRules([{ permission: 'docs:read', condition: { timeWindow } as Condition }]), JSON.stringify(timeWindow)).toThrow(code('CONDITION_INVALID'));
    }
  });

  it('a stored (unvalidated) deny window that could never apply fails to compile instead of being dropped', () => {
    const stored = role({ key: 'r', permissions: ['*'] });
    for (const timeWindow of [
      { notBefore: '2026-02-01T00:00:00Z', notAfter: '2026-01-01T00:00:00Z' },
      { daysOfWeek: [] },
      { daysOfWeek: '1' },
      { daysOfWeek: [1.5] },
      { daysOfWeek: [1], timeZone: 'Mars/Olympus' },
      { notBefore: 5 },
      { notBfore: '2027-01-01T00:00:00Z' },
      {},
    ]) {
      const tampered: Role = { ...stored, rules: [...stored.rules, { effect: 'deny', permission: 'docs:*', condition: { timeWindow } as never }] };
      expect(() => compile(rolesOf(tampered), [grant('r')]), JSON.stringify(timeWindow)).toThrow(code('CONDITION_INVALID'));
    }
  });
});

describe('review: holds() never over-approximates', () => {
  const owner: Condition = { self: 'resource.ownerId' };
  const holds = (permissions: Parameters<typeof single>[0], rule: PermissionRule) => single(permissions).holds(rule);
  const allow = (permission: string, condition?: Condition): PermissionRule => (condition === undefined ? { effect: 'allow', permission } : { effect: 'allow', permission, condition });

  it('a deny inside a wildcard means the wildcard is not held', () => {
    expect(holds(['docs:*', '!docs:delete'], allow('docs:*'))).toBe(false);
    expect(holds(['docs:*', '!docs:delete'], allow('docs'))).toBe(false);
    expect(holds(['*', '!docs:delete:any'], allow('docs:delete'))).toBe(false);
    expect(holds(['*', { permission: 'docs:delete', effect: 'deny', condition: owner }], allow('docs:*'))).toBe(false);
    expect(holds(['docs:*', '!docs:delete'], allow('docs:read'))).toBe(true);
    expect(holds(['*', '!*:delete'], allow('docs:*'))).toBe(false);
  });

  it('a conditional allow never holds an unconditional or differently conditioned one', () => {
    expect(holds([{ permission: 'docs:*', condition: owner }], allow('docs:read'))).toBe(false);
    expect(holds([{ permission: 'docs:*', condition: owner }], allow('docs:read', { self: 'resource.authorId' }))).toBe(false);
    expect(holds([{ permission: 'docs:*', condition: owner }], allow('docs:read', owner))).toBe(true);
    expect(holds([{ permission: 'docs:*', condition: owner }, 'docs:read'], allow('docs:read'))).toBe(true);
  });

  it('wildcards in different positions do not subsume each other; longer never holds shorter', () => {
    expect(holds(['*:read'], allow('docs:*'))).toBe(false);
    expect(holds(['docs:*'], allow('*:read'))).toBe(false);
    expect(holds(['docs:*'], allow('*'))).toBe(false);
    expect(holds(['docs:read:own'], allow('docs:read'))).toBe(false);
    expect(holds(['docs:*:*'], allow('docs:read'))).toBe(false);
    expect(holds(['docs:*:*'], allow('docs'))).toBe(false);
    expect(holds(['*:*:own'], allow('*:*'))).toBe(false);
    expect(holds(['docs:read'], allow('docs:read:own'))).toBe(true);
    expect(holds(['docs'], allow('docs:*:*'))).toBe(true);
    expect(holds(['*'], allow('billing:*:*'))).toBe(true);
  });

  it('the plan and scopes cap what is held', () => {
    const roles = rolesOf(role({ key: 'r', permissions: ['*'] }));
    const planned = compile(roles, [grant('r')], { planRules: [{ effect: 'allow', permission: 'docs:*' }] });
    expect(planned.holds(allow('docs:read'))).toBe(true);
    expect(planned.holds(allow('billing:read'))).toBe(false);
    expect(planned.holds(allow('*'))).toBe(false);
    const planDeny = compile(roles, [grant('r')], { planRules: [{ effect: 'allow', permission: '*' }, { effect: 'deny', permission: 'docs:delete' }] });
    expect(planDeny.holds(allow('docs:*'))).toBe(false);
    const scoped = compile(roles, [grant('r')], { principal: { id: 'k', scopes: ['docs:read'] } });
    expect(scoped.holds(allow('docs:read'))).toBe(true);
    expect(scoped.holds(allow('docs:*'))).toBe(false);
  });

  it('an expired grant holds nothing', () => {
    const roles = rolesOf(role({ key: 'r', permissions: ['*'] }));
    const c = compilePermissions({ tenantId: TENANT, principal: { id: 'u' }, grants: [grant('r', { expiresAt: START - 1 })], roles, clock: createManualClock(START) });
    expect(c.holds(allow('docs:read'))).toBe(false);
  });

  it('rejects an invalid pattern', () => {
    expect(() => holds(['*'], allow('Docs:*'))).toThrow(code('PERMISSION_INVALID'));
    expect(parsePermissionPattern('*').matchesEverything).toBe(true);
  });
});
