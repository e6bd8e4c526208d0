import type { AccessList } from '../access-lists/create-access-list.js';
import { RateLimitError } from '../errors.js';
import type { TenantMetering } from '../metering/tenant-metering.js';
import type { RateLimitSubject } from '../policies/rate-limit-policy.js';
import { tenantHashTag } from '../policies/subject-key.js';
import type { StoreConsumeResult } from '../stores/rate-limit-store.js';
import { maxPoints } from '../stores/limiter-spec-guards.js';
import type { PolicyCharger } from './charge-policies.js';
import { chargeOrderOf, type CompiledPolicy, type PolicyEntry } from './compiled-policy.js';
import { decideMostRestrictive } from './decide-most-restrictive.js';
import type { EmitRateLimitEvent } from './limiter-events.js';
import type { PolicyOutcome, RateLimitDecision } from './rate-limit-decision.js';
import type { RateLimitCheckOptions, RateLimiter } from './rate-limiter.js';
import type { StoreCallGuard } from './store-call-guard.js';
import { resolveSubjectScope } from './subject-scope.js';

/**
 * What {@link createCheck} needs of its limiter.
 *
 * @example
 * ```ts
 * const check = createCheck({ policies, indexOfPolicy, allowList, denyList, charger, guard, consumeAllSync: undefined, metering, emitDecision });
 * ```
 */
export interface CheckContext {
  readonly policies: readonly CompiledPolicy[];
  /** @throws `RATE_LIMIT_POLICY_NOT_FOUND` */
  readonly indexOfPolicy: (name: string) => number;
  readonly allowList: AccessList | undefined;
  readonly denyList: AccessList | undefined;
  readonly charger: PolicyCharger;
  readonly guard: StoreCallGuard;
  /**
   * The store's `consumeAllSync`, when checks may use it: the store offers it and its calls need
   * no timeout (an in-process store). A check then decides with no await, in one promise.
   */
  readonly consumeAllSync: ((entries: readonly PolicyEntry[]) => readonly StoreConsumeResult[]) | undefined;
  readonly metering: TenantMetering | undefined;
  /** Undefined when nobody listens, so a check builds no event. */
  readonly emitDecision: EmitRateLimitEvent | undefined;
}

const NO_OUTCOMES: readonly PolicyOutcome[] = Object.freeze([]);

/** What the synchronous half of a check found: a decision already, or the entries to charge. */
type PlannedCheck =
  | { readonly decision: RateLimitDecision; readonly entries?: undefined; readonly tenantId?: undefined }
  | { readonly decision?: undefined; readonly entries: PolicyEntry[]; readonly tenantId: string | undefined };

function costOf(options: RateLimitCheckOptions | undefined): number {
  if (options === undefined) return 1;
  if (typeof options !== 'object' || options === null) {
    throw new RateLimitError('VALIDATION_FAILED', 'The check options must be an object');
  }
  const cost = options.cost;
  if (cost === undefined) return 1;
  if (typeof cost !== 'number' || !Number.isSafeInteger(cost) || cost < 1 || cost > maxPoints) {
    throw new RateLimitError('VALIDATION_FAILED', `The cost of a request must be a whole number from 1 to ${maxPoints}`, { details: { field: 'cost' } });
  }
  return cost;
}

function listedDecision(reason: 'allow-listed' | 'deny-listed', tenantId: string | undefined): RateLimitDecision {
  return { allowed: reason === 'allow-listed', reason, outcomes: NO_OUTCOMES, deciding: undefined, retryAfterMs: 0, tenantId };
}

function isDegraded(outcomes: readonly PolicyOutcome[]): boolean {
  for (let index = 0; index < outcomes.length; index += 1) if (outcomes[index]!.degraded !== undefined) return true;
  return false;
}

/**
 * Builds {@link RateLimiter.check}: resolve the tenant and plan, consult the access lists,
 * key every applicable policy, charge them all in one `consumeAll` (per-client counters
 * first, see `chargeOrderOf`), decide by the most restrictive outcome, meter and report the
 * decision. Everything up to the store call is
 * synchronous and precomputed (no schema validation); argument errors reject the returned
 * promise, they are never thrown synchronously. With `consumeAllSync` (an in-process store)
 * the store call is synchronous too: the check awaits nothing and makes one promise, its
 * answer (shadow and enforcing policies charged apart go the async way).
 *
 * @example
 * ```ts
 * const check = createCheck(context);
 * const decision = await check({ tenantId: 'acme', ip: '203.0.113.7' }, { cost: 5 });
 * ```
 */
export function createCheck(context: CheckContext): RateLimiter['check'] {
  const { policies, indexOfPolicy, allowList, denyList, charger, guard, consumeAllSync, metering, emitDecision } = context;
  // Only a limiter with both kinds of policy can ever need two store calls.
  const mixesShadow = policies.some((policy) => policy.shadow) && policies.some((policy) => !policy.shadow);
  const chargeOrder = chargeOrderOf(policies);
  const reorders = chargeOrder.some((policy, index) => policy.index !== index);

  // Entries go to the store in charge order; outcomes come back in declaration order.
  function inDeclarationOrder(entries: readonly PolicyEntry[], outcomes: readonly PolicyOutcome[]): readonly PolicyOutcome[] {
    const positions = entries.map((_, position) => position).sort((left, right) => entries[left]!.policy.index - entries[right]!.policy.index);
    return positions.map((position) => outcomes[position]!);
  }

  // In charge order whatever order the names come in (each name once).
  function selectPolicies(names: readonly string[]): readonly CompiledPolicy[] {
    if (!Array.isArray(names)) throw new RateLimitError('VALIDATION_FAILED', 'The check option "policies" must be a list of policy names');
    // An empty list would admit the request with nothing counted: limiting silently off.
    if (names.length === 0) {
      throw new RateLimitError('VALIDATION_FAILED', 'The check option "policies" must name at least one policy (leave it out for every policy)', {
        details: { field: 'policies' },
      });
    }
    const picked = new Array<boolean>(policies.length).fill(false);
    for (const name of names) picked[indexOfPolicy(name)] = true;
    return chargeOrder.filter((policy) => picked[policy.index]);
  }

  function plan(subject: RateLimitSubject, options: RateLimitCheckOptions | undefined): PlannedCheck {
    const cost = costOf(options);
    const selected = options?.policies === undefined ? chargeOrder : selectPolicies(options.policies);
    const { tenantId, plan: planKey } = resolveSubjectScope(subject);

    if (denyList !== undefined || allowList !== undefined) {
      // The lists see the tenant the check counts for, also when it came from the scope.
      const listed = tenantId === subject.tenantId ? subject : { ...subject, tenantId };
      if (denyList?.matches(listed)) return { decision: listedDecision('deny-listed', tenantId) };
      if (allowList?.matches(listed)) return { decision: listedDecision('allow-listed', tenantId) };
    }

    const entries: PolicyEntry[] = [];
    let tenantTag: string | undefined;
    for (let index = 0; index < selected.length; index += 1) {
      const policy = selected[index]!;
      if (policy.byTenant && tenantTag === undefined && tenantId !== undefined) tenantTag = tenantHashTag(tenantId);
      const key = policy.keyOf(subject, tenantTag);
      if (key === undefined) continue;
      const prepared = policy.limitFor(planKey);
      if (prepared === undefined) continue; // unlimited on this plan
      entries.push({ spec: prepared.spec, key, points: cost, policy, prepared });
    }
    return { entries, tenantId };
  }

  function finish(decision: RateLimitDecision, subject: RateLimitSubject): RateLimitDecision {
    if (metering !== undefined) {
      const outcome = !decision.allowed ? 'rejected' : decision.reason === 'shadow-limited' ? 'shadowRejected' : 'admitted';
      metering.record(decision.tenantId, outcome, isDegraded(decision.outcomes));
    }
    emitDecision?.({ type: 'decision', decision, subject });
    return decision;
  }

  function decide(entries: readonly PolicyEntry[], outcomes: readonly PolicyOutcome[], tenantId: string | undefined, subject: RateLimitSubject): RateLimitDecision {
    return finish(decideMostRestrictive(reorders ? inDeclarationOrder(entries, outcomes) : outcomes, tenantId), subject);
  }

  // The only async frame of a check: it awaits the store itself (see PolicyCharger).
  async function chargeAndDecide(entries: PolicyEntry[], tenantId: string | undefined, subject: RateLimitSubject): Promise<RateLimitDecision> {
    let outcomes: readonly PolicyOutcome[];
    if (mixesShadow && charger.needsShadowApart(entries)) {
      outcomes = await charger.chargeApart(entries);
    } else {
      const ticket = guard.begin();
      try {
        outcomes = charger.outcomesOf(entries, await charger.consumeAll(entries));
        guard.answered(ticket);
      } catch (error) {
        outcomes = await charger.failover(entries, ticket, error);
      }
    }
    return decide(entries, outcomes, tenantId, subject);
  }

  // chargeAndDecide without the await, for a synchronous store: a store that throws goes
  // through the same failover as one that rejects.
  function chargeAndDecideNow(
    consumeNow: NonNullable<CheckContext['consumeAllSync']>,
    entries: PolicyEntry[],
    tenantId: string | undefined,
    subject: RateLimitSubject,
  ): RateLimitDecision | Promise<RateLimitDecision> {
    const ticket = guard.begin();
    let outcomes: readonly PolicyOutcome[];
    try {
      outcomes = charger.outcomesOf(entries, consumeNow(entries));
      guard.answered(ticket);
    } catch (error) {
      return charger.failover(entries, ticket, error).then((degraded) => decide(entries, degraded, tenantId, subject));
    }
    return decide(entries, outcomes, tenantId, subject);
  }

  return (subject, options) => {
    let planned: PlannedCheck;
    try {
      planned = plan(subject, options);
      if (planned.decision !== undefined) return Promise.resolve(finish(planned.decision, subject));
      const { entries, tenantId } = planned;
      if (entries.length === 0) return Promise.resolve(finish(decideMostRestrictive(NO_OUTCOMES, tenantId), subject));
      // One promise per check, as rate-limiter-flexible's own consume makes.
      if (consumeAllSync !== undefined && !(mixesShadow && charger.needsShadowApart(entries))) {
        return Promise.resolve(chargeAndDecideNow(consumeAllSync, entries, tenantId, subject));
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return chargeAndDecide(planned.entries, planned.tenantId, subject);
  };
}
