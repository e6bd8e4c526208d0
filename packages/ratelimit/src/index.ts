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
