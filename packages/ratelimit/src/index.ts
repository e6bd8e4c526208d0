// Contracts
export { RateLimitError, type RateLimitErrorCode } from './errors.js';
export type {
  RateLimitDimension,
  FailurePolicy,
  RateLimitBurst,
  RateLimitPolicyDefinition,
  ResolvedPolicyLimit,
  RateLimitSubject,
} from './policies/rate-limit-policy.js';
export type { PolicyOutcome, RateLimitReason, RateLimitDecision } from './limiter/rate-limit-decision.js';
export type {
  RateLimitEvent,
  RateLimiterOptions,
  RateLimitCheckOptions,
  RateLimiter,
} from './limiter/rate-limiter.js';
export type { LimiterSpec, StoreConsumeEntry, StoreConsumeResult, RateLimitStore } from './stores/rate-limit-store.js';
export type { AccessListOptions } from './access-lists/access-list.js';
export type { TenantMeterCounters, TenantMetering } from './metering/tenant-metering.js';
export { memoryRateLimitStore, type MemoryRateLimitStoreOptions } from './stores/memory-rate-limit-store.js';
// Access lists, metering, client IP, HTTP headers and responses
export { createAccessList, type AccessList } from './access-lists/create-access-list.js';
export { createTenantMetering, type TenantMeteringOptions } from './metering/create-tenant-metering.js';
export { createClientIpResolver, type ClientIpResolver, type ClientIpResolverOptions } from './ip/client-ip.js';
export { ipRangePresets, type IpRangePreset } from './ip/ip-range-matcher.js';
export { rateLimitHeaders, type RateLimitHeadersOptions } from './http/rate-limit-headers.js';
export {
  rateLimitErrorForDecision,
  rateLimitResponseForDecision,
  rateLimitResponseForError,
  type RateLimitRefusal,
} from './http/rate-limit-response.js';
export { createRateLimiter } from './limiter/create-rate-limiter.js';
export { createRateLimitHeaders, type RateLimitHeadersBuilder } from './http/rate-limit-headers.js';
export { UNKNOWN_CLIENT_IP } from './policies/subject-key.js';
