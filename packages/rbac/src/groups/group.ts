/**
 * A group of users in one tenant. Groups nest: `path` is the materialized path of ids from the
 * root, `/<rootId>/.../<id>/`, so a member of a group inherits the roles assigned to the group
 * and to every ancestor. Names are 1-128 characters, unique among siblings.
 *
 * @example
 * ```ts
 * const backend = await rbac.groups.create(actor, { name: 'Backend', parentId: engineering.id });
 * backend.path; // '/grp_eng/grp_backend/'
 * ```
 */
export interface Group {
  readonly tenantId: string;
  readonly id: string;
  readonly name: string;
  readonly parentId: string | null;
  readonly path: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * A user's direct membership of a group.
 *
 * @example
 * ```ts
 * const member: GroupMember = { tenantId: 'tnt_1', groupId: 'grp_1', userId: 'usr_1', createdAt: Date.now() };
 * ```
 */
export interface GroupMember {
  readonly tenantId: string;
  readonly groupId: string;
  readonly userId: string;
  readonly createdAt: number;
}
