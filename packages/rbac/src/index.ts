// Public entry of @tenantkit/rbac. Explicit named exports only; helpers append their lines.
export { RbacError, type RbacErrorCode } from './errors.js';
export type {
  Condition,
  ConditionOperand,
  ConditionOperator,
  FieldCondition,
  SelfCondition,
  TimeWindowCondition,
  ResourceAttributes,
  ConditionContext,
} from './conditions/condition.js';
export type { PermissionRule, PermissionRuleInput, RuleEffect } from './rules/permission-rule.js';
export type { RbacPrincipal } from './principal.js';
export type { Role, RoleDefinition, RoleAssignmentPolicy, RoleOrigin } from './roles/role.js';
export type { Group, GroupMember } from './groups/group.js';
export type { RoleAssignment, AssignmentSubject } from './assignments/role-assignment.js';
export type {
  RbacStore,
  InsertAssignmentOutcome,
  MoveGroupOutcome,
  DeleteGroupOutcome,
  AssignmentListQuery,
  AssignmentPage,
  DeletedUserGrants,
} from './store.js';
export type {
  CompileInput,
  CompiledPermissions,
  GrantSource,
  DecidingRule,
  PermissionDecision,
  EffectivePermission,
  QueryConditions,
  ResourceCondition,
} from './compiler/compiled-permissions.js';
export type { PermissionChecker, CheckContext } from './authorizer/authorizer-contract.js';
export type { InvalidationChannel } from './invalidation/invalidation-channel.js';
