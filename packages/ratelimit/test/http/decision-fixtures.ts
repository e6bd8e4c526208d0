import type { PolicyOutcome, RateLimitDecision } from '../../src/limiter/rate-limit-decision.js';

/** A policy outcome with sensible defaults for header and response tests. */
export function outcome(overrides: Partial<PolicyOutcome> & Pick<PolicyOutcome, 'policy'>): PolicyOutcome {
  return {
    key: `tk:rl:${overrides.policy}:{acme}`,
    allowed: true,
    limit: 100,
    remaining: 99,
    consumed: 1,
    resetMs: 59_000,
    windowSeconds: 60,
    shadow: false,
    ...overrides,
  };
}

/** A decision over the given outcomes; `deciding` defaults to the first refusing one, else the first. */
export function decision(overrides: Partial<RateLimitDecision> & Pick<RateLimitDecision, 'outcomes'>): RateLimitDecision {
  const refused = overrides.outcomes.find((entry) => !entry.allowed && !entry.shadow);
  const allowed = overrides.allowed ?? refused === undefined;
  return {
    allowed,
    reason: allowed ? 'allowed' : 'limited',
    deciding: refused ?? overrides.outcomes[0],
    retryAfterMs: refused?.resetMs ?? 0,
    tenantId: 'acme',
    ...overrides,
  };
}
