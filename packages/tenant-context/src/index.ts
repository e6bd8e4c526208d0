/**
 * Tenant scope, resolution, registry, memberships, lifecycle, plans and custom domains.
 *
 * @packageDocumentation
 * @module @tenantkit/tenant-context
 */
export { TenantContextError, type TenantContextErrorCode } from './errors.js';
export {
  tenantStatuses,
  type Tenant,
  type TenantStatus,
  type JsonValue,
  type Membership,
  type MembershipStatus,
  type TenantDomain,
  type DomainStatus,
} from './tenant.js';
export { maxTenantSearchLength } from './store.js';
export type {
  TenantStore,
  TenantListQuery,
  TenantPage,
  MembershipStore,
  MembershipListQuery,
  MembershipPage,
  LifecycleRunStore,
  LifecycleRunQuery,
  UsageCounterStore,
  UsageIncrementResult,
  TenantContextStores,
  TenantPurgeCondition,
  MembershipUpdateCondition,
  DomainDeleteCondition,
} from './store.js';
export {
  createTenantEventBus,
  type TenantEventBus,
  type TenantEventBusOptions,
  type TenantEventMap,
  type TenantEventName,
  type TenantEventListener,
} from './events.js';
export {
  defaultReservedSlugs,
  isValidTenantSlug,
  isValidTenantId,
  assertTenantSlug,
  assertTenantId,
} from './identifiers.js';
export {
  runWithTenant,
  runAsSystem,
  onSystemScopeEntered,
  currentScope,
  currentTenantId,
  requireTenantId,
  currentTenant,
  isSystemScope,
  bindTenantScope,
  onEventInTenantScope,
  type TenantScope,
  type SystemScopeOptions,
  type SystemScopeListener,
} from './scope/tenant-scope.js';
export {
  createTenantRegistry,
  type TenantRegistry,
  type TenantRegistryOptions,
  type CreateTenantInput,
  type TenantPatch,
  type ListTenantsQuery,
} from './registry/tenant-registry.js';
export { canTransitionTenantStatus, assertTenantStatusTransition } from './registry/tenant-status-transitions.js';
export {
  createMembershipService,
  userIdSchema,
  type MembershipService,
  type MembershipServiceOptions,
  type AddMemberOptions,
  type UserTenant,
} from './memberships/membership-service.js';
export {
  createCustomDomains,
  type CustomDomains,
  type CustomDomainsOptions,
  type TxtResolver,
  type DomainVerificationRecord,
} from './domains/custom-domains.js';
export { normalizeHostname, isSameOrSubdomain } from './domains/hostname.js';
export type {
  LifecycleRun,
  LifecycleRunKind,
  LifecycleRunState,
  LifecycleRunError,
  LifecycleArtifact,
} from './lifecycle/lifecycle-run.js';
export {
  createTenantLifecycle,
  lifecycleStepNames,
  type TenantLifecycle,
  type TenantLifecycleOptions,
  type OnboardingInput,
  type OffboardingOptions,
  type LifecycleResult,
  type ResumedRun,
  type ResumeIncompleteRunsOptions,
  type ResumeIncompleteRunsResult,
} from './lifecycle/tenant-lifecycle.js';
export type {
  OnboardingHookPhase,
  OffboardingHookPhase,
  LifecycleStepContext,
  LifecycleCompensationContext,
  OnboardingStepHook,
  OffboardingStepHook,
  LifecycleArtifactReference,
  OnboardingRunInput,
  OffboardingRunInput,
} from './lifecycle/lifecycle-steps.js';
export {
  createTenantResolver,
  type TenantResolver,
  type TenantResolverOptions,
  type TenantResolverCacheOptions,
  type ResolveTenantOptions,
} from './resolution/tenant-resolver.js';
export {
  tenantIdentifier,
  type TenantSource,
  type TenantIdentifier,
  type TenantIdentifierKind,
  type TenantSourceKind,
} from './resolution/tenant-source.js';
export { fromHeader, type HeaderSourceOptions } from './resolution/header-source.js';
export { fromSubdomain, type SubdomainSourceOptions } from './resolution/subdomain-source.js';
export { fromCustomDomain, type CustomDomainSourceOptions } from './resolution/custom-domain-source.js';
export { fromPathPrefix, type PathPrefixSource, type PathPrefixSourceOptions } from './resolution/path-prefix-source.js';
export { fromTokenClaim, type TokenClaimSourceOptions } from './resolution/token-claim-source.js';
export {
  createTrustedProxies,
  effectiveHost,
  clientIp,
  normalizeRequestHost,
  type TrustedProxies,
  type TrustedProxiesOptions,
  type ForwardedHostHeader,
} from './resolution/trusted-proxies.js';
export {
  tenantRequestFromNode,
  headerValue,
  requestPath,
  type TenantRequest,
  type NodeRequestLike,
} from './resolution/request-info.js';
export {
  memoryTenantStore,
  memoryMembershipStore,
  memoryLifecycleRunStore,
  memoryUsageCounterStore,
  memoryTenantContextStores,
} from './adapters/memory.js';
export {
  createTenantEnvelopeSigner,
  type TenantEnvelope,
  type TenantEnvelopeSigner,
  type TenantEnvelopeSignerOptions,
  type SealTenantEnvelopeOptions,
  type TenantEnvelopeExpectation,
  type OpenedTenantEnvelope,
  type TenantEnvelopeRejectionReason,
} from './scope/tenant-envelope.js';
export { definePlans, type PlanCatalog, type PlanDefinition, type Plan, type ResolvedLimit } from './plans/plan-catalog.js';
export {
  createQuotaEnforcer,
  type QuotaEnforcer,
  type QuotaEnforcerOptions,
  type QuotaTarget,
  type QuotaUsage,
  type QuotaCheck,
} from './plans/quota-enforcer.js';
export {
  createFeatureFlags,
  type FeatureFlags,
  type FeatureFlagsOptions,
  type FeatureFlagDefinition,
  type FeatureFlagRule,
  type FlagContext,
  type FlagDecision,
  type FlagAttributeValue,
} from './plans/feature-flags.js';
export { rolloutBucket, rolloutBucketCount } from './plans/rollout-bucket.js';
export type { TenantEntitlements } from './plans/tenant-overrides.js';
