import { RateLimitError } from '../errors.js';
import type { LimiterSpec, RateLimitStore } from '../stores/rate-limit-store.js';
import type { PolicyEntry } from './compiled-policy.js';
import { openOutcome, outcomeOfResult } from './policy-outcomes.js';
import type { PolicyOutcome } from './rate-limit-decision.js';

/**
 * The spec the insurance store counts a policy with: its points (and burst points) divided
 * by `divideBy`, rounded down, at least 1, so N processes each counting alone admit about the
 * real limit together. `divideBy: 1` returns the spec itself.
 *
 * @example
 * ```ts
 * insuranceSpecOf({ keyPrefix: 'tk:rl:api', points: 100, duration: 60, blockDuration: 0 }, 4).points; // 25
 * ```
 */
export function insuranceSpecOf(spec: LimiterSpec, divideBy: number): LimiterSpec {
  if (divideBy === 1) return spec;
  const divide = (points: number) => Math.max(1, Math.floor(points / divideBy));
  return Object.freeze({
    ...spec,
    points: divide(spec.points),
    ...(spec.burst === undefined ? {} : { burst: Object.freeze({ points: divide(spec.burst.points), duration: spec.burst.duration }) }),
  });
}

/**
 * Answers a check whose store call failed, policy by policy: any `'closed'` policy makes the
 * whole check fail with `outage` (`STORE_UNAVAILABLE`, 503 — never a 429); `'insurance'`
 * policies are charged together (all-or-nothing, as the store would) on the insurance store
 * with their divided points; `'open'` policies admit. Outcomes keep the entries' order.
 *
 * @throws `outage` when a policy fails closed; `STORE_UNAVAILABLE` if the insurance store fails.
 * @example
 * ```ts
 * const outcomes = await degradedOutcomes(entries, outage, () => insuranceStore);
 * ```
 */
export async function degradedOutcomes(
  entries: readonly PolicyEntry[],
  outage: RateLimitError,
  insuranceStore: () => RateLimitStore,
): Promise<PolicyOutcome[]> {
  if (entries.some((entry) => entry.policy.failure === 'closed')) throw outage;

  const outcomes = entries.map((entry) => openOutcome(entry.policy, entry.spec, entry.key));
  const insured = entries.filter((entry) => entry.policy.failure === 'insurance');
  if (insured.length === 0) return outcomes;

  let results;
  try {
    results = await insuranceStore().consumeAll(
      insured.map((entry) => ({ spec: entry.prepared.insuranceSpec, key: entry.key, points: entry.points })),
    );
  } catch (error) {
    throw new RateLimitError('STORE_UNAVAILABLE', 'The rate-limit store is unavailable and its insurance failed', { cause: error });
  }
  insured.forEach((entry, position) => {
    outcomes[entries.indexOf(entry)] = outcomeOfResult(entry.policy, entry.prepared.insuranceSpec, entry.key, results[position]!, 'insurance');
  });
  return outcomes;
}
