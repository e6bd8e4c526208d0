import type { RateLimitStore, StoreConsumeResult } from '../stores/rate-limit-store.js';
import type { PolicyEntry } from './compiled-policy.js';
import { degradedOutcomes } from './failure-policy.js';
import { outcomeOfResult } from './policy-outcomes.js';
import type { PolicyOutcome } from './rate-limit-decision.js';
import { isStoreOutage, type StoreCallGuard, type StoreCallTicket } from './store-call-guard.js';

/**
 * What {@link createPolicyCharger} needs.
 *
 * @example
 * ```ts
 * const context: PolicyChargerContext = { store, guard, insuranceStore: () => insurance };
 * ```
 */
export interface PolicyChargerContext {
  readonly store: RateLimitStore;
  readonly guard: StoreCallGuard;
  readonly insuranceStore: () => RateLimitStore;
}

/**
 * The steps of charging a check's policies. The check awaits the store itself, in its own async
 * frame, so the hot path pays for one async function, not a chain of them:
 *
 * ```ts
 * const ticket = guard.begin();
 * try {
 *   outcomes = charger.outcomesOf(entries, await charger.consumeAll(entries));
 *   guard.answered(ticket);
 * } catch (error) {
 *   outcomes = await charger.failover(entries, ticket, error);
 * }
 * ```
 *
 * @example
 * ```ts
 * const outcomes = charger.needsShadowApart(entries) ? await charger.chargeApart(entries) : await charger.charge(entries);
 * ```
 */
export interface PolicyCharger {
  /**
   * Whether enforcing and shadow policies apply together. They then go in two `consumeAll`
   * calls (see {@link PolicyCharger.chargeApart}).
   *
   * @example
   * ```ts
   * if (charger.needsShadowApart(entries)) outcomes = await charger.chargeApart(entries);
   * ```
   */
  needsShadowApart(entries: readonly PolicyEntry[]): boolean;
  /**
   * The store's `consumeAll`, under the guard's timeout; a store that throws instead of
   * rejecting gives a rejected promise.
   *
   * @example
   * ```ts
   * const results = await charger.consumeAll(entries);
   * ```
   */
  consumeAll(entries: readonly PolicyEntry[]): PromiseLike<readonly StoreConsumeResult[]>;
  /**
   * The outcomes of the store's results, in entry order.
   *
   * @throws an `Error` when the store answered with another number of results (a failure).
   * @example
   * ```ts
   * const outcomes = charger.outcomesOf(entries, results);
   * ```
   */
  outcomesOf(entries: readonly PolicyEntry[], results: readonly StoreConsumeResult[]): PolicyOutcome[];
  /**
   * Answers a failed `consumeAll` by the failure policies (`degradedOutcomes`), after the
   * guard has classified and reported the failure; an error that is no outage is rethrown.
   *
   * @example
   * ```ts
   * outcomes = await charger.failover(entries, ticket, error);
   * ```
   */
  failover(entries: readonly PolicyEntry[], ticket: StoreCallTicket, error: unknown): Promise<PolicyOutcome[]>;
  /**
   * All the steps above in one call.
   *
   * @example
   * ```ts
   * const outcomes = await charger.charge(entries);
   * ```
   */
  charge(entries: readonly PolicyEntry[]): Promise<PolicyOutcome[]>;
  /**
   * Charges the enforcing and the shadow policies in two `consumeAll` calls, in parallel.
   * `consumeAll` is all-or-nothing, so in one call a refusing shadow policy would keep the
   * enforcing policies from counting a request that is in fact admitted.
   *
   * @example
   * ```ts
   * const outcomes = await charger.chargeApart(entries);
   * ```
   */
  chargeApart(entries: readonly PolicyEntry[]): Promise<PolicyOutcome[]>;
}

/**
 * Builds the {@link PolicyCharger} of a limiter: every applicable policy of a check is charged
 * in one `store.consumeAll` (one round trip per Redis slot) under the store call guard, and
 * a failed call is answered by the policies' failure policies.
 *
 * @example
 * ```ts
 * const charger = createPolicyCharger({ store, guard, insuranceStore });
 * const outcomes = await charger.charge(entries);
 * ```
 */
export function createPolicyCharger(context: PolicyChargerContext): PolicyCharger {
  const { store, guard, insuranceStore } = context;

  function consumeAll(entries: readonly PolicyEntry[]): PromiseLike<readonly StoreConsumeResult[]> {
    let call: Promise<readonly StoreConsumeResult[]>;
    try {
      call = store.consumeAll(entries);
    } catch (error) {
      call = Promise.reject(error); // still a store failure, with timeout and events
    }
    return guard.timed(call);
  }

  function outcomesOf(entries: readonly PolicyEntry[], results: readonly StoreConsumeResult[]): PolicyOutcome[] {
    if (!Array.isArray(results) || results.length !== entries.length) {
      throw new Error(`The store answered a consumeAll of ${entries.length} entries with another number of results`);
    }
    const outcomes = new Array<PolicyOutcome>(entries.length);
    for (let index = 0; index < entries.length; index += 1) {
      const entry = entries[index]!;
      outcomes[index] = outcomeOfResult(entry.policy, entry.spec, entry.key, results[index]!, undefined);
    }
    return outcomes;
  }

  async function failover(entries: readonly PolicyEntry[], ticket: StoreCallTicket, error: unknown): Promise<PolicyOutcome[]> {
    const storeError = guard.failed(ticket, error, entries.map((entry) => entry.policy));
    if (!isStoreOutage(storeError)) throw storeError;
    return degradedOutcomes(entries, storeError, insuranceStore);
  }

  async function charge(entries: readonly PolicyEntry[]): Promise<PolicyOutcome[]> {
    const ticket = guard.begin();
    try {
      const outcomes = outcomesOf(entries, await consumeAll(entries));
      guard.answered(ticket);
      return outcomes;
    } catch (error) {
      return failover(entries, ticket, error);
    }
  }

  return {
    needsShadowApart(entries) {
      let shadows = 0;
      for (let index = 0; index < entries.length; index += 1) if (entries[index]!.policy.shadow) shadows += 1;
      return shadows > 0 && shadows < entries.length;
    },
    consumeAll,
    outcomesOf,
    failover,
    charge,
    async chargeApart(entries) {
      const [enforcing, shadow] = await Promise.all([
        charge(entries.filter((entry) => !entry.policy.shadow)),
        charge(entries.filter((entry) => entry.policy.shadow)),
      ]);
      let nextEnforcing = 0;
      let nextShadow = 0;
      return entries.map((entry) => (entry.policy.shadow ? shadow[nextShadow++]! : enforcing[nextEnforcing++]!));
    },
  };
}
