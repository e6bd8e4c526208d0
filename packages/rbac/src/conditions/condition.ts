/**
 * A value a condition compares against: a JSON scalar, a list of scalars, or a reference to
 * the principal or the request context (`{ ref: 'principal.id' }`,
 * `{ ref: 'principal.attributes.department' }`, `{ ref: 'context.ip' }`). A reference never
 * points into the resource, so a filter can always turn it into a constant.
 *
 * @example
 * ```ts
 * const owner: ConditionOperand = { ref: 'principal.id' };
 * ```
 */
export type ConditionOperand =
  | string
  | number
  | boolean
  | null
  | readonly (string | number | boolean)[]
  | { readonly ref: string };

/**
 * The comparison operators of a {@link FieldCondition}. `lt`/`lte`/`gt`/`gte` compare two
 * numbers or two strings (ISO timestamps compare correctly as strings); `contains` asks whether
 * an array field holds the value; `exists` takes `true` or `false`.
 *
 * @example
 * ```ts
 * const op: ConditionOperator = 'in';
 * ```
 */
export type ConditionOperator = 'eq' | 'ne' | 'in' | 'nin' | 'lt' | 'lte' | 'gt' | 'gte' | 'contains' | 'exists';

/**
 * Compares one attribute with a value. `field` is a dotted path starting with `resource.`,
 * `principal.` (`principal.id`, `principal.kind`, `principal.attributes.<path>`) or `context.`.
 *
 * @example
 * ```ts
 * const published: FieldCondition = { field: 'resource.status', op: 'eq', value: 'published' };
 * ```
 */
export interface FieldCondition {
  readonly field: string;
  readonly op: ConditionOperator;
  readonly value: ConditionOperand;
}

/**
 * Shorthand for "the resource belongs to the caller": `{ self: 'resource.ownerId' }` is
 * `{ field: 'resource.ownerId', op: 'eq', value: { ref: 'principal.id' } }`.
 *
 * @example
 * ```ts
 * const own: SelfCondition = { self: 'resource.ownerId' };
 * ```
 */
export interface SelfCondition {
  readonly self: string;
}

/**
 * A time window, checked against the clock the permissions were compiled with, never against
 * the request context (a context built from request data would let the client pick the time).
 * `notBefore` / `notAfter` are ISO-8601 instants; `daysOfWeek` (0 = Sunday) and
 * `fromTime`/`toTime` (`HH:MM`, `toTime` exclusive, may wrap past midnight) are read in
 * `timeZone` (IANA name, default `UTC`).
 *
 * @example
 * ```ts
 * const officeHours: TimeWindowCondition = {
 *   timeWindow: { daysOfWeek: [1, 2, 3, 4, 5], fromTime: '09:00', toTime: '17:00', timeZone: 'Europe/Berlin' },
 * };
 * ```
 */
export interface TimeWindowCondition {
  readonly timeWindow: {
    readonly notBefore?: string;
    readonly notAfter?: string;
    readonly daysOfWeek?: readonly number[];
    readonly fromTime?: string;
    readonly toTime?: string;
    readonly timeZone?: string;
  };
}

/**
 * A declarative ABAC condition: plain JSON, evaluated by a small interpreter (never `eval`).
 * Evaluation is three-valued: an attribute the check was not given, or one whose value has a
 * type the operator cannot compare with the operand (`'5000.00' gt 1000`), makes a leaf *unknown*,
 * `not` keeps it unknown, and an unknown result fails closed (an allow does not apply, a deny
 * does).
 *
 * @example
 * ```ts
 * const condition: Condition = {
 *   any: [{ self: 'resource.ownerId' }, { field: 'resource.visibility', op: 'eq', value: 'public' }],
 * };
 * ```
 */
export type Condition =
  | FieldCondition
  | SelfCondition
  | TimeWindowCondition
  | { readonly all: readonly Condition[] }
  | { readonly any: readonly Condition[] }
  | { readonly not: Condition };

/**
 * The attributes of the resource a check is about (`resource.*` in conditions).
 *
 * @example
 * ```ts
 * const doc: ResourceAttributes = { ownerId: 'usr_1', status: 'draft' };
 * ```
 */
export type ResourceAttributes = Readonly<Record<string, unknown>>;

/**
 * Facts about the request (`context.*` in conditions), e.g. `{ ip }`. Time windows never read
 * it (they use the compile-time clock).
 *
 * @example
 * ```ts
 * const context: ConditionContext = { ip: '203.0.113.9' };
 * ```
 */
export type ConditionContext = Readonly<Record<string, unknown>>;
