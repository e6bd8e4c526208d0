import { fileURLToPath } from 'node:url';
import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryRbacStore } from '../../src/adapters/memory.js';
import { createRbac } from '../../src/create-rbac.js';
import { definePolicy } from '../../src/policy/define-policy.js';
import { loadPolicyFile } from '../../src/policy/load-policy-file.js';
import { planRulesFromPolicy } from '../../src/policy/plan-rules-from-policy.js';
import { syncPolicy } from '../../src/policy/sync-policy.js';

const policy = definePolicy({
  roles: {},
  plans: { free: { permissions: ['docs:*', '!docs:export'] }, pro: { permissions: ['*'] } },
});

describe('planRulesFromPolicy', () => {
  it("returns the rules of the tenant's plan, the same frozen array each time", async () => {
    const plans = new Map([['tnt_free', 'free'], ['tnt_pro', 'pro']]);
    const planRules = planRulesFromPolicy(policy, { planOf: (tenantId) => plans.get(tenantId) });
    const first = await planRules('tnt_free');
    expect(first).toEqual([
      { effect: 'allow', permission: 'docs:*' },
      { effect: 'deny', permission: 'docs:export' },
    ]);
    expect(await planRules('tnt_free')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(await planRules('tnt_pro')).toEqual([{ effect: 'allow', permission: '*' }]);
  });

  it('fails closed: no plan, or a plan the policy does not declare, allows nothing', async () => {
    const plans = new Map<string, string | null>([['tnt_typo', 'fre'], ['tnt_none', null], ['tnt_proto', '__proto__'], ['tnt_ctor', 'constructor']]);
    const planRules = planRulesFromPolicy(policy, { planOf: async (tenantId) => plans.get(tenantId) });
    for (const tenantId of ['tnt_typo', 'tnt_none', 'tnt_proto', 'tnt_ctor', 'tnt_unknown']) {
      expect(await planRules(tenantId)).toEqual([]);
    }
  });

  it('validates its arguments when called', () => {
    expect(() => planRulesFromPolicy({ plans: {} } as never, { planOf: () => 'free' })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    expect(() => planRulesFromPolicy(policy, {} as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('caps what roles grant in createRbac, by plan', async () => {
    const fromFile = await loadPolicyFile(fileURLToPath(new URL('./fixtures/policy.yaml', import.meta.url)));
    const clock = createManualClock();
    const store = memoryRbacStore();
    const plans = new Map([['tnt_free', 'free'], ['tnt_pro', 'pro']]);
    const rbac = createRbac({ store, clock, planRules: planRulesFromPolicy(fromFile, { planOf: (tenantId) => plans.get(tenantId) }) });
    try {
      for (const tenantId of plans.keys()) {
        await syncPolicy(store, fromFile, { tenantId, clock });
        for (const roleKey of ['editor', 'billing_admin']) {
          await rbac.assignments.assignAsSystem({ reason: 'test' }, { subject: { type: 'user', id: 'usr_1' }, roleKey }, { tenantId });
        }
      }
      const alice = { id: 'usr_1' };
      expect(await rbac.can(alice, 'docs:export', undefined, { tenantId: 'tnt_pro' })).toBe(true);
      expect(await rbac.can(alice, 'docs:export', undefined, { tenantId: 'tnt_free' })).toBe(false);
      expect(await rbac.can(alice, 'docs:update', undefined, { tenantId: 'tnt_free' })).toBe(true);
      expect(await rbac.can(alice, 'billing:refund', undefined, { tenantId: 'tnt_pro' })).toBe(true);
      expect(await rbac.can(alice, 'billing:refund', undefined, { tenantId: 'tnt_free' })).toBe(false);
      // The role's own deny still wins on every plan.
      expect(await rbac.can(alice, 'docs:delete', undefined, { tenantId: 'tnt_pro' })).toBe(false);
      expect((await rbac.explain(alice, 'docs:export', undefined, { tenantId: 'tnt_free' })).allowed).toBe(false);
    } finally {
      await rbac.close();
    }
  });

  it('leaves a tenant_admin on the smallest plan of the example policy able to manage roles and groups', async () => {
    const fromFile = await loadPolicyFile(fileURLToPath(new URL('./fixtures/policy.yaml', import.meta.url)));
    const clock = createManualClock();
    const rbac = createRbac({ store: memoryRbacStore(), clock, planRules: planRulesFromPolicy(fromFile, { planOf: () => 'free' }) });
    const inFree = { tenantId: 'tnt_free' };
    const owner = { id: 'usr_owner' };
    try {
      await rbac.seedDefaultRoles('tnt_free');
      await rbac.syncPolicy(fromFile, { tenantId: 'tnt_free', reason: 'test' });
      await rbac.assignments.assignAsSystem({ reason: 'test' }, { subject: { type: 'user', id: owner.id }, roleKey: 'tenant_admin' }, inFree);
      const grant = await rbac.assignments.assign(owner, { subject: { type: 'user', id: 'usr_2' }, roleKey: 'reader' }, inFree);
      expect(grant.status).toBe('active');
      expect(await rbac.can({ id: 'usr_2' }, 'docs:list', undefined, inFree)).toBe(true);
      await rbac.assignments.assign(owner, { subject: { type: 'user', id: 'usr_3' }, roleKey: 'author' }, inFree);
      const team = await rbac.groups.create(owner, { name: 'Writers' }, inFree);
      expect(await rbac.groups.addMember(owner, team.id, 'usr_2', inFree)).toBe(true);
      await rbac.roles.create(owner, { key: 'commenter', permissions: ['comments:create'] }, inFree);
      await rbac.assignments.revoke(owner, grant.id, inFree);
      // The ceiling still caps the admin: billing is not on the plan.
      expect(await rbac.can(owner, 'billing:refund', undefined, inFree)).toBe(false);
    } finally {
      await rbac.close();
    }
  });
});
