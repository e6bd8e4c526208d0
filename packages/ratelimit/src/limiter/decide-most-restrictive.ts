import type { PolicyOutcome, RateLimitDecision } from './rate-limit-decision.js';

/** Whether `candidate` is more restrictive than `current` (the first one found wins ties). */
function tighter(candidate: PolicyOutcome, current: PolicyOutcome | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.allowed !== current.allowed) return !candidate.allowed;
  if (!candidate.allowed) return candidate.resetMs > current.resetMs;
  return candidate.remaining * current.limit < current.remaining * candidate.limit;
}

/**
 * Combines the outcomes of one check into its decision. The most restrictive outcome decides:
 * a refusing one with the longest wait, else the admitting one with the smallest share of its
 * limit left (`remaining / limit`); ties go to the earlier policy.
 *
 * Shadow outcomes never refuse: the request is refused (`'limited'`) only when an enforcing
 * policy refused; when only shadow policies did it is admitted as `'shadow-limited'`. The
 * deciding outcome is chosen among the enforcing outcomes, and among the shadow ones only when
 * every applicable policy is a shadow one. `retryAfterMs` is the deciding outcome's `resetMs`
 * when refused, else 0.
 *
 * @example
 * ```ts
 * const decision = decideMostRestrictive(outcomes, 'acme');
 * if (!decision.allowed) console.log(decision.deciding?.policy, decision.retryAfterMs);
 * ```
 */
export function decideMostRestrictive(outcomes: readonly PolicyOutcome[], tenantId: string | undefined): RateLimitDecision {
  let enforcing: PolicyOutcome | undefined;
  let shadow: PolicyOutcome | undefined;
  for (let index = 0; index < outcomes.length; index += 1) {
    const outcome = outcomes[index]!;
    if (outcome.shadow) {
      if (tighter(outcome, shadow)) shadow = outcome;
    } else if (tighter(outcome, enforcing)) {
      enforcing = outcome;
    }
  }
  const allowed = enforcing === undefined || enforcing.allowed;
  return {
    allowed,
    reason: !allowed ? 'limited' : shadow !== undefined && !shadow.allowed ? 'shadow-limited' : 'allowed',
    outcomes,
    deciding: enforcing ?? shadow,
    retryAfterMs: allowed ? 0 : enforcing!.resetMs,
    tenantId,
  };
}
