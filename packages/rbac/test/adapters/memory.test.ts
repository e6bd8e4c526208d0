import { buildAssignment, buildGroup, buildGroupMember, buildRole, describeRbacStoreConformance } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import { memoryRbacStore } from '../../src/adapters/memory.js';

describeRbacStoreConformance('memory', {
  setup: async () => memoryRbacStore(),
}, { leakKitOperations: 10_000, isolationRuns: 100 });

describe('memoryRbacStore initial records', () => {
  it('starts with the given records, versioned as if inserted one by one', async () => {
    const role = buildRole({ tenantId: 'tnt_a', key: 'editor' });
    const group = buildGroup({ tenantId: 'tnt_a', id: 'grp_1' });
    const member = buildGroupMember({ tenantId: 'tnt_a', groupId: 'grp_1', userId: 'usr_1' });
    const assignment = buildAssignment({ tenantId: 'tnt_a', id: 'asg_1', roleKey: 'editor' });
    const global = buildRole({ tenantId: null, key: 'viewer' });
    const store = memoryRbacStore({ initial: { roles: [role, global], groups: [group], groupMembers: [member], assignments: [assignment] } });
    expect(await store.getRole('tnt_a', 'editor')).toEqual(role);
    expect(await store.listRoles(null)).toEqual([global]);
    expect(await store.listGroupMembers('tnt_a', 'grp_1')).toEqual([member]);
    expect(await store.getAssignment('tnt_a', 'asg_1')).toEqual(assignment);
    expect(await store.getPolicyVersion('tnt_a')).toBe(4);
    expect(await store.getPolicyVersion(null)).toBe(1);
  });

  it.each([
    ['a duplicate role', { roles: [buildRole({ tenantId: 'tnt_a', key: 'editor' }), buildRole({ tenantId: 'tnt_a', key: 'editor' })] }],
    ['a membership of a missing group', { groupMembers: [buildGroupMember({ tenantId: 'tnt_a', groupId: 'grp_1', userId: 'usr_1' })] }],
    [
      'a second grant of a role, even an expired one',
      {
        assignments: [
          buildAssignment({ tenantId: 'tnt_a', id: 'asg_1', expiresAt: 1 }),
          buildAssignment({ tenantId: 'tnt_a', id: 'asg_2' }),
        ],
      },
    ],
  ] as const)('refuses %s with CONFIGURATION_INVALID', (_name, initial) => {
    expect(() => memoryRbacStore({ initial })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('refuses an assignment id that is already taken with STORE_CONFLICT', async () => {
    const store = memoryRbacStore();
    const limits = { maxAssignments: null, now: 0 };
    await store.insertAssignment(buildAssignment({ tenantId: 'tnt_a', id: 'asg_1', subjectId: 'usr_1' }), limits);
    await expect(store.insertAssignment(buildAssignment({ tenantId: 'tnt_a', id: 'asg_1', subjectId: 'usr_2' }), limits)).rejects.toMatchObject({
      code: 'STORE_CONFLICT',
    });
  });

  it('keeps separate stores apart', async () => {
    const first = memoryRbacStore();
    const second = memoryRbacStore();
    await first.insertRole(buildRole({ tenantId: 'tnt_a', key: 'editor' }));
    expect(await second.listRoles('tnt_a')).toEqual([]);
  });
});
