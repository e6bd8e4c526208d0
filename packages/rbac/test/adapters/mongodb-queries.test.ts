import { buildAssignment, buildGroup, buildGroupMember, buildRole } from '@tenantkit/test-utils';
import type { Db } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { mongoRbacStore } from '../../src/adapters/mongodb.js';
import { resolveRbacCollections } from '../../src/adapters/mongodb/rbac-collections.js';
import {
  assignmentFromDocument,
  assignmentToDocument,
  groupFromDocument,
  groupMemberFromDocument,
  groupMemberToDocument,
  groupToDocument,
  roleFromDocument,
  roleToDocument,
} from '../../src/adapters/mongodb/rbac-documents.js';
import { rbacIndexes } from '../../src/adapters/mongodb/rbac-indexes.js';
import {
  assignmentListFilter,
  groupFilter,
  groupMoveWrites,
  policyVersionBump,
  roleFilter,
  roleVersionFilter,
  siblingNameFilter,
  subjectRoleFilter,
  subjectsFilter,
  subtreeFilter,
  unexpiredOfRoleFilter,
} from '../../src/adapters/mongodb/rbac-queries.js';
import { isDuplicateKeyErrorIn, isMongoUnavailableError, translateMongoError } from '../../src/adapters/mongodb/mongo-errors.js';

const hostile = { $ne: null } as unknown as string;

function driverError(name: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(fields.message as string | undefined), { name, ...fields });
}

describe('MongoDB RBAC documents', () => {
  it('round-trip every record exactly, with a natural _id and tenantId at the top level', () => {
    const role = buildRole({ tenantId: null, key: 'editor' });
    expect(roleToDocument(role)._id).toEqual({ tenantId: null, key: 'editor' });
    expect(roleFromDocument(roleToDocument(role))).toEqual(role);
    const group = buildGroup({ tenantId: 'tnt_1', id: 'grp_1' });
    expect(groupToDocument(group)).toMatchObject({ _id: { tenantId: 'tnt_1', id: 'grp_1' }, tenantId: 'tnt_1' });
    expect(groupFromDocument(groupToDocument(group))).toEqual(group);
    const member = buildGroupMember({ tenantId: 'tnt_1', groupId: 'grp_1', userId: 'usr_1' });
    expect(groupMemberToDocument(member)._id).toEqual({ tenantId: 'tnt_1', groupId: 'grp_1', userId: 'usr_1' });
    expect(groupMemberFromDocument(groupMemberToDocument(member))).toEqual(member);
    const assignment = buildAssignment({ tenantId: 'tnt_1', id: 'asg_1', expiresAt: null, approvedBy: null });
    expect(assignmentFromDocument(assignmentToDocument(assignment))).toEqual(assignment);
  });

  it('drop undefined members rather than storing them as null, and refuse what JSON cannot hold', () => {
    const role = { ...buildRole({ tenantId: 't', key: 'k' }), rules: [{ effect: 'allow' as const, permission: 'a:b', description: undefined }] };
    expect(roleToDocument(role).rules).toEqual([{ effect: 'allow', permission: 'a:b' }]);
    expect(Object.hasOwn(roleToDocument(role).rules[0] as object, 'description')).toBe(false);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => roleToDocument({ ...role, rules: [cyclic] } as never)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('MongoDB RBAC query builders', () => {
  it('refuse operator objects in place of ids before they reach a filter', () => {
    const calls = [
      () => roleFilter(hostile, 'k'),
      () => roleFilter('t', hostile),
      () => groupFilter('t', hostile),
      () => siblingNameFilter('t', hostile, 'n', 'g'),
      () => subjectRoleFilter('t', 'user', hostile, 'r'),
      () => unexpiredOfRoleFilter(hostile, 'r', 1),
      () => subjectsFilter('t', [{ type: 'user', id: hostile }]),
      () => assignmentListFilter('t', { limit: 10, roleKey: hostile }, null),
      () => subtreeFilter('t', hostile),
    ];
    for (const call of calls) expect(call).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('compare-and-set a role on its version', () => {
    expect(roleVersionFilter('tnt_1', 'editor', 3)).toEqual({ _id: { tenantId: 'tnt_1', key: 'editor' }, version: 3 });
  });

  it('select a subtree by a path range that takes in whole segments only', () => {
    const filter = subtreeFilter('tnt_1', '/grp_a/');
    expect(filter).toEqual({ tenantId: 'tnt_1', path: { $gte: '/grp_a/', $lt: '/grp_a0' } });
    const inRange = (path: string) => path >= '/grp_a/' && path < '/grp_a0';
    expect(['/grp_a/', '/grp_a/grp_b/', '/grp_a/grp_b/grp_c/'].every(inRange)).toBe(true);
    expect(['/grp_ab/', '/grp_a', '/grp_a0/', '/grp_b/', '/'].some(inRange)).toBe(false);
    expect(() => subtreeFilter('tnt_1', '/grp_a')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });

  it('rewrite the paths of a moved subtree, giving only the moved group a new parent and time', () => {
    const subtree = [
      { _id: { tenantId: 't', id: 'b' }, id: 'b', path: '/a/b/' },
      { _id: { tenantId: 't', id: 'c' }, id: 'c', path: '/a/b/c/' },
    ];
    expect(groupMoveWrites(subtree, { groupId: 'b', oldPath: '/a/b/', newPath: '/x/b/', newParentId: 'x', updatedAt: 5 })).toEqual([
      { updateOne: { filter: { _id: { tenantId: 't', id: 'b' } }, update: { $set: { path: '/x/b/', parentId: 'x', updatedAt: 5 } } } },
      { updateOne: { filter: { _id: { tenantId: 't', id: 'c' } }, update: { $set: { path: '/x/b/c/' } } } },
    ]);
    expect(() => groupMoveWrites([{ _id: { tenantId: 't', id: 'z' }, id: 'z', path: '/z/' }], { groupId: 'b', oldPath: '/a/b/', newPath: '/b/', newParentId: null, updatedAt: 5 })).toThrow(
      expect.objectContaining({ code: 'STORE_CONFLICT' }),
    );
  });

  it('count unexpired assignments of a role, and page assignments by id after the cursor', () => {
    expect(unexpiredOfRoleFilter('tnt_1', 'owner', 100)).toEqual({ tenantId: 'tnt_1', roleKey: 'owner', $or: [{ expiresAt: null }, { expiresAt: { $gt: 100 } }] });
    expect(assignmentListFilter('tnt_1', { limit: 5, roleKey: 'r', status: 'pending', subject: { type: 'group', id: 'g' } }, 'asg_9')).toEqual({
      tenantId: 'tnt_1',
      roleKey: 'r',
      status: 'pending',
      subjectType: 'group',
      subjectId: 'g',
      id: { $gt: 'asg_9' },
    });
  });

  it('bump the policy version with an upsert that creates it at 1', () => {
    expect(policyVersionBump(null)).toEqual({ $inc: { version: 1 }, $setOnInsert: { tenantId: null } });
  });
});

describe('MongoDB RBAC indexes and options', () => {
  it('lead every index with tenantId and name each one uniquely', () => {
    for (const index of rbacIndexes) expect(Object.keys(index.key)[0]).toBe('tenantId');
    expect(new Set(rbacIndexes.map((index) => `${index.collection}.${index.name}`)).size).toBe(rbacIndexes.length);
    expect(Object.isFrozen(rbacIndexes)).toBe(true);
  });

  it('refuse a missing Db and bad prefixes when the store is created', () => {
    const db = { collection: () => ({}) } as unknown as Db;
    expect(resolveRbacCollections(db, { collectionPrefix: 'app_' }, 'x').roles).toBe('app_rbac_roles');
    expect(() => mongoRbacStore(undefined as unknown as Db)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    for (const collectionPrefix of ['system.x', 'a$b', 'x'.repeat(49)]) {
      expect(() => mongoRbacStore(db, { collectionPrefix })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    }
    expect(() => mongoRbacStore(db, { prefix: 'x' } as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});

describe('MongoDB RBAC error translation', () => {
  it('recognises duplicates per collection, and unavailability', () => {
    const duplicate = driverError('MongoServerError', { code: 11000, message: 'E11000 duplicate key error collection: app.tenantkit_rbac_groups index: _id_ dup key' });
    expect(isDuplicateKeyErrorIn(duplicate, 'tenantkit_rbac_groups')).toBe(true);
    expect(isDuplicateKeyErrorIn(duplicate, 'tenantkit_rbac_group_members')).toBe(false);
    expect(isMongoUnavailableError(driverError('MongoServerSelectionError', {}))).toBe(true);
    expect(translateMongoError(driverError('MongoNetworkError', {}))).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(translateMongoError('boom')).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const bug = driverError('MongoServerError', { code: 2 });
    expect(translateMongoError(bug)).toBe(bug);
  });
});
