import { z } from 'zod';
import { RbacError } from '../errors.js';
import { assertNoForbiddenKeys } from '../conditions/forbidden-keys.js';
import { normalizePermissionRules } from '../rules/normalize-permission-rules.js';
import type { PermissionRule } from '../rules/permission-rule.js';
import { RBAC_LIMITS } from '../rules/rbac-limits.js';
import type { RoleAssignmentPolicy, RoleDefinition } from './role.js';

/**
 * A role key: 1-64 characters of `a-z 0-9 _ -`, starting with a letter.
 *
 * @example
 * ```ts
 * roleKeySchema.safeParse('content_manager').success; // true
 * roleKeySchema.safeParse('Admin').success; // false
 * ```
 */
export const roleKeySchema = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'must be 1-64 characters of a-z 0-9 _ - starting with a letter');

/**
 * The assignment policy a role gets when its definition says nothing.
 *
 * @example
 * ```ts
 * DEFAULT_ASSIGNMENT_POLICY.requiresApproval; // false
 * ```
 */
export const DEFAULT_ASSIGNMENT_POLICY: RoleAssignmentPolicy = Object.freeze({
  restricted: false,
  selfAssignable: false,
  maxAssignments: null,
  requiresApproval: false,
});

const definitionSchema = z.strictObject({
  key: roleKeySchema,
  name: z.string().trim().min(1, 'must not be empty').max(RBAC_LIMITS.maxRoleNameLength).optional(),
  description: z.string().max(RBAC_LIMITS.maxRoleDescriptionLength).optional(),
  permissions: z.array(z.unknown()),
  inherits: z.array(roleKeySchema).max(RBAC_LIMITS.maxInheritedRoles).optional(),
  assignment: z
    .strictObject({
      restricted: z.boolean().optional(),
      selfAssignable: z.boolean().optional(),
      maxAssignments: z.int().min(1).max(RBAC_LIMITS.maxAssignmentsLimit).nullable().optional(),
      requiresApproval: z.boolean().optional(),
    })
    .optional(),
});

/**
 * A validated role definition with every default filled in.
 *
 * @example
 * ```ts
 * const parsed: ParsedRoleDefinition = parseRoleDefinition({ key: 'viewer', permissions: ['*:read'] });
 * ```
 */
export interface ParsedRoleDefinition {
  readonly key: string;
  readonly name: string;
  readonly description: string;
  readonly rules: PermissionRule[];
  readonly inherits: string[];
  readonly assignment: RoleAssignmentPolicy;
}

/**
 * Validates a {@link RoleDefinition} and fills in defaults: `name` = key, `description` `''`,
 * `inherits` `[]` (duplicates dropped), the {@link DEFAULT_ASSIGNMENT_POLICY}, and rules
 * normalised by {@link normalizePermissionRules}.
 *
 * @throws `ROLE_INVALID` for a bad shape, key, name or policy; `ROLE_INHERITANCE_CYCLE` when the
 *   role inherits itself; `PERMISSION_INVALID` / `CONDITION_INVALID` from its rules (a forbidden
 *   key anywhere is `CONDITION_INVALID`).
 * @example
 * ```ts
 * parseRoleDefinition({ key: 'editor', permissions: ['docs:*', '!docs:delete'], inherits: ['viewer'] });
 * // { key: 'editor', name: 'editor', description: '', rules: [...], inherits: ['viewer'], assignment: {...} }
 * ```
 */
export function parseRoleDefinition(def: RoleDefinition): ParsedRoleDefinition {
  assertNoForbiddenKeys(def, 'role definition');
  const result = definitionSchema.safeParse(def);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
    const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
    throw new RbacError('ROLE_INVALID', `Invalid role definition: ${summary}`, { details: { issues } });
  }
  const data = result.data;
  const inherits = [...new Set(data.inherits ?? [])];
  if (inherits.includes(data.key)) {
    throw new RbacError('ROLE_INHERITANCE_CYCLE', `Role "${data.key}" cannot inherit itself`, {
      details: { cycle: [data.key, data.key] },
    });
  }
  const assignment: RoleAssignmentPolicy = {
    restricted: data.assignment?.restricted ?? DEFAULT_ASSIGNMENT_POLICY.restricted,
    selfAssignable: data.assignment?.selfAssignable ?? DEFAULT_ASSIGNMENT_POLICY.selfAssignable,
    maxAssignments: data.assignment?.maxAssignments ?? DEFAULT_ASSIGNMENT_POLICY.maxAssignments,
    requiresApproval: data.assignment?.requiresApproval ?? DEFAULT_ASSIGNMENT_POLICY.requiresApproval,
  };
  return {
    key: data.key,
    name: data.name ?? data.key,
    description: data.description ?? '',
    rules: normalizePermissionRules(data.permissions as RoleDefinition['permissions']),
    inherits,
    assignment,
  };
}
