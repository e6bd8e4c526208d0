import type { CompiledCondition } from '../conditions/compile-condition.js';
import type { Condition } from '../conditions/condition.js';
import type { PermissionPattern } from '../rules/permission-pattern.js';
import type { RuleEffect } from '../rules/permission-rule.js';
import type { GrantSource } from './compiled-permissions.js';

/**
 * One rule inside a compiled matcher: the parsed pattern, the compiled condition (`null` when
 * unconditional), where it came from, and its position (for deterministic explanations).
 *
 * @example
 * ```ts
 * const rule: CompiledRule = { effect: 'allow', pattern, condition: undefined, test: null, source: 'role', order: 0 };
 * ```
 */
export interface CompiledRule {
  readonly effect: RuleEffect;
  readonly pattern: PermissionPattern;
  readonly condition: Condition | undefined;
  readonly test: CompiledCondition | null;
  readonly source: 'role' | 'plan';
  readonly grant?: GrantSource;
  readonly roleChain?: readonly string[];
  readonly order: number;
}

/**
 * Rules bucketed by their first two segments (`docs:read`, `docs:*`, `docs:` for a one-segment
 * pattern, and the same under `*`), so finding the rules that may cover a permission is six
 * map lookups whatever the number of rules.
 *
 * @example
 * ```ts
 * const index = createRuleIndex(rules);
 * index.candidates(['docs', 'read']); // rules whose pattern covers docs:read
 * ```
 */
export interface RuleIndex {
  readonly size: number;
  /** The rules covering `permission` (its validated segments), in compile order. */
  candidates(permission: readonly string[]): CompiledRule[];
}

function bucketKey(segments: readonly string[]): string {
  return `${segments[0]}:${segments.length > 1 ? segments[1] : ''}`;
}

/**
 * Builds a {@link RuleIndex}.
 *
 * @example
 * ```ts
 * const index = createRuleIndex(compiledRules);
 * ```
 */
export function createRuleIndex(rules: readonly CompiledRule[]): RuleIndex {
  const buckets = new Map<string, CompiledRule[]>();
  for (const rule of rules) {
    const key = bucketKey(rule.pattern.segments);
    const bucket = buckets.get(key);
    if (bucket === undefined) buckets.set(key, [rule]);
    else bucket.push(rule);
  }
  return {
    size: rules.length,
    candidates(permission) {
      const resource = permission[0] as string;
      const action = permission[1] as string;
      const qualifier = permission.length > 2 ? permission[2] : undefined;
      let found: CompiledRule[] | null = null;
      let sources = 0;
      for (const key of [`${resource}:${action}`, `${resource}:*`, `${resource}:`, `*:${action}`, '*:*', '*:']) {
        const bucket = buckets.get(key);
        if (bucket === undefined) continue;
        for (const rule of bucket) {
          const segments = rule.pattern.segments;
          if (segments.length === 3) {
            if (qualifier === undefined) continue;
            if (segments[2] !== '*' && segments[2] !== qualifier) continue;
          }
          (found ??= []).push(rule);
        }
        sources += 1;
      }
      if (found === null) return [];
      if (sources > 1) found.sort((a, b) => a.order - b.order);
      return found;
    },
  };
}
