import type { Clock } from '@tenantkit/core';
import type { RbacPrincipal } from '../principal.js';
import { compileCondition } from './compile-condition.js';
import type { Condition, ConditionContext, ResourceAttributes } from './condition.js';

/**
 * The three-valued result of a condition: `true`, `false`, or `'unknown'` when an attribute
 * it needed was not supplied, or has a type the operator cannot compare with the operand (an
 * allow then does not apply and a deny does).
 *
 * @example
 * ```ts
 * const outcome: ConditionOutcome = 'unknown';
 * ```
 */
export type ConditionOutcome = boolean | 'unknown';

/**
 * What {@link evaluateCondition} needs: the principal, and optionally the resource, the request
 * context and a clock (time windows read the clock only, never the context; without a clock
 * they are unknown).
 *
 * @example
 * ```ts
 * const input: ConditionInput = { principal, resource: doc, context: { ip }, clock: systemClock };
 * ```
 */
export interface ConditionInput {
  readonly principal: RbacPrincipal;
  readonly resource?: ResourceAttributes | undefined;
  readonly context?: ConditionContext | undefined;
  readonly clock?: Clock | undefined;
}

/**
 * The outcome of a condition and the attribute paths it lacked (deduplicated, in order of
 * first use).
 *
 * @example
 * ```ts
 * const evaluation: ConditionEvaluation = { outcome: 'unknown', missing: ['resource.ownerId'] };
 * ```
 */
export interface ConditionEvaluation {
  readonly outcome: ConditionOutcome;
  readonly missing: readonly string[];
}

/**
 * Evaluates a condition (a small interpreter over plain JSON, never `eval`). `all`/`any`/`not`
 * follow three-valued logic: `not unknown` is unknown, `all` is false as soon as one branch is
 * false, `any` true as soon as one is true. Attributes are read as own properties only, so a
 * value on the prototype chain (or under a `__proto__` key) never satisfies a condition.
 *
 * @throws `CONDITION_INVALID` for a malformed condition.
 * @example
 * ```ts
 * evaluateCondition({ self: 'resource.ownerId' }, { principal: { id: 'u1' }, resource: { ownerId: 'u1' } });
 * // { outcome: true, missing: [] }
 * evaluateCondition({ self: 'resource.ownerId' }, { principal: { id: 'u1' } });
 * // { outcome: 'unknown', missing: ['resource.ownerId'] }
 * ```
 */
export function evaluateCondition(condition: Condition, input: ConditionInput): ConditionEvaluation {
  const test = compileCondition(condition, { principal: input.principal, clock: input.clock });
  const missing: string[] = [];
  const truth = test(input.resource, input.context, missing);
  return { outcome: truth === 2 ? 'unknown' : truth === 1, missing: [...new Set(missing)] };
}
