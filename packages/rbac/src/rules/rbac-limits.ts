/**
 * The size limits rule, condition and role validation enforces. They bound the work one stored
 * role can cause at compile and check time, so a tenant cannot make checks slow for itself or
 * exhaust memory with one oversized payload.
 *
 * @example
 * ```ts
 * if (rules.length > RBAC_LIMITS.maxRulesPerRole) reject();
 * ```
 */
export const RBAC_LIMITS = Object.freeze({
  /** Rules one role (or one plan) may carry. */
  maxRulesPerRole: 10_000,
  /** Nesting depth of a condition (a lone leaf is depth 1). */
  maxConditionDepth: 8,
  /** Nodes (leaves plus `all`/`any`/`not`) in one condition. */
  maxConditionNodes: 128,
  /** Values in an `in`/`nin` list. */
  maxConditionListLength: 256,
  /** Length of a string a condition compares with. */
  maxConditionStringLength: 1024,
  /** Segments of an attribute path after its root (`resource.a.b` has 2). */
  maxAttributePathSegments: 8,
  /** Length of one attribute path segment. */
  maxAttributePathSegmentLength: 64,
  /** Length of a rule's description. */
  maxRuleDescriptionLength: 500,
  /** Roles one role may inherit directly. */
  maxInheritedRoles: 64,
  /** Length of a role name. */
  maxRoleNameLength: 128,
  /** Length of a role description. */
  maxRoleDescriptionLength: 2000,
  /** Upper bound of a role's `maxAssignments`. */
  maxAssignmentsLimit: 1_000_000,
  /** Nesting depth the prototype-key scan follows before giving up (rejecting). */
  maxScanDepth: 64,
});
