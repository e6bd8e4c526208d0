export { testServices, isServiceAvailable, describeWithService, type TestServiceName } from './services.js';
export { createTemporaryPostgresDatabase, createTemporaryMariadbDatabase, type TemporaryDatabase } from './temporary-databases.js';
export { describeTenantContextStoreConformance, type ConformanceStoreFactory } from './tenant-context-conformance.js';
export {
  buildTenant,
  buildDomain,
  buildMembership,
  buildLifecycleRun,
  fixtureEpochMs,
  padIndex,
} from './tenant-context-fixtures.js';
export { runLeakKit, type LeakKitTarget, type LeakKitRecord, type LeakKitOptions, type LeakKitReport } from './leak-kit.js';
export {
  startLocalRedisCluster,
  describeWithRedisCluster,
  isRedisClusterAvailable,
  type LocalRedisCluster,
  type LocalRedisClusterNode,
  type LocalRedisClusterOptions,
} from './redis-cluster.js';
export { unusedLocalPort } from './unused-local-port.js';
export {
  describeRbacStoreConformance,
  rbacStoreLeakKitTarget,
  type RbacStoreConformanceFactory,
  type RbacStoreConformanceOptions,
} from './rbac-conformance.js';
export { buildRole, buildGroup, buildGroupMember, buildAssignment } from './rbac-fixtures.js';
export { useLocalHttpServers, type ListeningApp } from './local-http-servers.js';
export {
  startLocalRedisServer,
  describeWithLocalRedisServer,
  type LocalRedisServer,
  type LocalRedisServerOptions,
} from './redis-server.js';
export {
  describeRateLimitStoreConformance,
  type RateLimitStoreConformanceFactory,
  type RateLimitStoreUnderTest,
} from './ratelimit-conformance.js';
export {
  describeAuthStoreConformance,
  type AuthStoreConformanceFactory,
  type AuthStoresUnderTest,
  type AuthStoreConformanceOptions,
} from './auth-conformance.js';
export {
  authApiKeyLeakKitTarget,
  authInvitationLeakKitTarget,
  type AuthLeakKitTargetOptions,
} from './auth-conformance/tenant-owned-leak-kit-targets.js';
export {
  buildAccountRecord,
  buildSessionRecord,
  buildRefreshFamilyRecord,
  buildRefreshTokenRecord,
  buildOneTimeTokenRecord,
  buildApiKeyRecord,
} from './auth-conformance/auth-record-builders.js';
