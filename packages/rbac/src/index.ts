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
// Engine (helper A): permission patterns, rule normalisation, conditions, role graph, compiler.
export {
  parsePermissionPattern,
  parsePermission,
  assertConcretePermission,
  isConcretePermission,
  patternCovers,
  patternSubsumes,
  patternsOverlap,
  type PermissionPattern,
} from './rules/permission-pattern.js';
export { normalizePermissionRules } from './rules/normalize-permission-rules.js';
export { RBAC_LIMITS } from './rules/rbac-limits.js';
export { conditionSchema, parseCondition } from './conditions/condition-schema.js';
export {
  evaluateCondition,
  type ConditionOutcome,
  type ConditionInput,
  type ConditionEvaluation,
} from './conditions/evaluate-condition.js';
export { reduceCondition } from './conditions/reduce-condition.js';
export { isForbiddenKey, assertNoForbiddenKeys } from './conditions/forbidden-keys.js';
export {
  parseRoleDefinition,
  roleKeySchema,
  DEFAULT_ASSIGNMENT_POLICY,
  type ParsedRoleDefinition,
} from './roles/role-definition.js';
export {
  findInheritanceCycle,
  inheritanceClosure,
  assertAcyclic,
  type InheritingRole,
  type InheritedRole,
} from './roles/role-graph.js';
export { compilePermissions } from './compiler/compile-permissions.js';
export { memoryRbacStore, type MemoryRbacStoreOptions } from './adapters/memory.js';
export { definePolicy } from './policy/define-policy.js';
export type { Policy, PolicyDefinition, PolicyRoleDefinition, PolicyPlanDefinition } from './policy/policy-definition.js';
export { parsePolicyYaml, parsePolicyJson } from './policy/parse-policy-yaml.js';
export { loadPolicyFile } from './policy/load-policy-file.js';
export {
  syncPolicy,
  type SyncPolicyOptions,
  type PolicySyncReport,
  type PolicySyncSkip,
  type PolicySyncSkipReason,
} from './policy/sync-policy.js';
export { planRulesFromPolicy, type PlanRulesFromPolicyOptions } from './policy/plan-rules-from-policy.js';
export {
  createRbac,
  type Rbac,
  type RbacOptions,
  type RbacCacheOptions,
  type RbacBackgroundErrorContext,
} from './create-rbac.js';
export {
  createRbacEventBus,
  type RbacEventBus,
  type RbacEventBusOptions,
  type RbacEventMap,
  type RbacEventName,
  type RbacEventListener,
  type RbacEventActor,
} from './events/rbac-events.js';
export { createInProcessInvalidationChannel } from './invalidation/in-process-invalidation-channel.js';
export type { SystemActor, TenantOption } from './authorizer/rbac-service-context.js';
export type { RoleService, RoleChanges, RoleWriteOptions, SystemRoleOptions } from './roles/role-service.js';
export { defaultSystemRoles, type DefaultSystemRoleKey, type SeedDefaultRolesOptions } from './roles/default-system-roles.js';
export type { RoleSyncReport, GlobalRoleSyncReport } from './roles/global-role-sync.js';
export type { GroupService, CreateGroupInput } from './groups/group-service.js';
export type { AssignmentService, AssignRoleInput, RevokeAssignmentOptions } from './assignments/assignment-service.js';
export { managementPermissions } from './assignments/assignment-policy.js';
export type { RbacSyncPolicyOptions } from './create-rbac.js';
