import type { AssignmentSubject } from '../assignments/role-assignment.js';
import type { GrantSource } from '../compiler/compiled-permissions.js';
import type { RbacStore } from '../store.js';

/**
 * Reads the grants a user holds in a tenant: the user's own assignments and those of every
 * group the user is a direct member of and of each ancestor of those groups (taken from the
 * materialized paths). Pending assignments and assignments expired at `now` grant nothing and
 * are left out. `userId === null` (an API key that holds only its scopes) holds none.
 *
 * @example
 * ```ts
 * const grants = await loadGrants(store, 'tnt_1', 'usr_1', clock.now());
 * ```
 */
export async function loadGrants(store: RbacStore, tenantId: string, userId: string | null, now: number): Promise<GrantSource[]> {
  if (userId === null) return [];
  const groups = await store.listUserGroups(tenantId, userId);
  // Each group id maps to its own path, the prefix of a member group's path that ends at it.
  const groupPaths = new Map<string, string>();
  for (const group of groups) {
    const ids = group.path.split('/').filter((id) => id.length > 0);
    let path = '/';
    for (const id of ids) {
      path += `${id}/`;
      if (!groupPaths.has(id)) groupPaths.set(id, path);
    }
  }
  const subjects: AssignmentSubject[] = [{ type: 'user', id: userId }];
  for (const groupId of groupPaths.keys()) subjects.push({ type: 'group', id: groupId });
  const assignments = await store.listAssignmentsForSubjects(tenantId, subjects);
  const grants: GrantSource[] = [];
  for (const assignment of assignments) {
    if (assignment.status !== 'active') continue;
    if (assignment.expiresAt !== null && assignment.expiresAt <= now) continue;
    let via: GrantSource['via'];
    if (assignment.subjectType === 'user') {
      // A store answers only for the subjects asked; checked anyway, a grant must never leak.
      if (assignment.subjectId !== userId) continue;
      via = { type: 'user' };
    } else {
      const groupPath = groupPaths.get(assignment.subjectId);
      if (groupPath === undefined) continue;
      via = { type: 'group', groupId: assignment.subjectId, groupPath };
    }
    if (assignment.tenantId !== tenantId) continue;
    grants.push({ assignmentId: assignment.id, roleKey: assignment.roleKey, via, expiresAt: assignment.expiresAt });
  }
  return grants;
}
