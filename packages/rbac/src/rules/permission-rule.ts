import type { Condition } from '../conditions/condition.js';

/**
 * Whether a rule grants or takes away. A matching deny always beats any allow.
 *
 * @example
 * ```ts
 * const effect: RuleEffect = 'deny';
 * ```
 */
export type RuleEffect = 'allow' | 'deny';

/**
 * One normalised rule of a role: a permission pattern (`resource:action[:qualifier]`, each
 * segment a name or `*`; `*` alone matches everything), its effect, and an optional condition.
 * A pattern with fewer segments covers every qualifier below it (`docs:read` covers
 * `docs:read:own`); a wildcard is a whole segment and never matches a prefix.
 *
 * @example
 * ```ts
 * const rule: PermissionRule = { effect: 'allow', permission: 'docs:update', condition: { self: 'resource.ownerId' } };
 * ```
 */
export interface PermissionRule {
  readonly effect: RuleEffect;
  readonly permission: string;
  readonly condition?: Condition;
  readonly description?: string;
}

/**
 * A rule as an app writes it: a string (`'docs:read'`; a leading `!` makes it a deny,
 * `'!docs:delete'`) or a {@link PermissionRule} whose effect defaults to `allow`.
 *
 * @example
 * ```ts
 * const rules: PermissionRuleInput[] = ['docs:*', '!docs:delete', { permission: 'docs:publish', condition: { self: 'resource.ownerId' } }];
 * ```
 */
export type PermissionRuleInput =
  | string
  | {
      readonly permission: string;
      readonly effect?: RuleEffect;
      readonly condition?: Condition;
      readonly description?: string;
    };
