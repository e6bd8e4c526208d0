import { z } from 'zod';
import { RbacError } from '../errors.js';
import { parseCondition } from '../conditions/condition-schema.js';
import { assertNoForbiddenKeys } from '../conditions/forbidden-keys.js';
import type { PermissionRule, PermissionRuleInput } from './permission-rule.js';
import { parsePermissionPattern } from './permission-pattern.js';
import { RBAC_LIMITS } from './rbac-limits.js';
import { canonicalJson } from './canonical-json.js';

const ruleObjectSchema = z.strictObject({
  permission: z.string(),
  effect: z.enum(['allow', 'deny']).optional(),
  condition: z.unknown().optional(),
  description: z.string().max(RBAC_LIMITS.maxRuleDescriptionLength).optional(),
});

function invalidRule(index: number, message: string): never {
  throw new RbacError('PERMISSION_INVALID', `Invalid permission rule at index ${index}: ${message}`, {
    details: { index, reason: message },
  });
}

// Errors from the pattern and condition parsers keep their code and gain the rule's index.
function withIndex<T>(index: number, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof RbacError) {
      throw new RbacError(err.code, `Rule ${index}: ${err.message}`, { details: { index, ...err.details }, cause: err });
    }
    throw err;
  }
}

function normalizeOne(input: unknown, index: number): PermissionRule {
  if (typeof input === 'string') {
    const deny = input.startsWith('!');
    const permission = deny ? input.slice(1) : input;
    withIndex(index, () => parsePermissionPattern(permission));
    return { effect: deny ? 'deny' : 'allow', permission };
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    invalidRule(index, 'must be a permission string or { permission, effect?, condition?, description? }');
  }
  const parsed = ruleObjectSchema.safeParse(input);
  if (!parsed.success) {
    invalidRule(index, parsed.error.issues.map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; '));
  }
  const { permission, effect, condition, description } = parsed.data;
  if (permission.startsWith('!')) invalidRule(index, 'a "!" prefix is only for string rules; use effect: "deny"');
  withIndex(index, () => parsePermissionPattern(permission));
  const rule: { -readonly [K in keyof PermissionRule]: PermissionRule[K] } = { effect: effect ?? 'allow', permission };
  if (condition !== undefined) rule.condition = withIndex(index, () => parseCondition(condition));
  if (description !== undefined) rule.description = description;
  return rule;
}

/**
 * Validates and normalises the rules of a role or plan: `'docs:read'` becomes an allow,
 * `'!docs:delete'` a deny, objects get `effect: 'allow'` by default and a validated copy of their
 * condition; identical rules (same effect, permission and condition) are kept once, first
 * description wins. At most `RBAC_LIMITS.maxRulesPerRole` rules.
 *
 * @throws `CONDITION_INVALID` for a `__proto__`/`constructor`/`prototype` key anywhere or an
 *   invalid condition; `PERMISSION_INVALID` for an invalid pattern, rule shape or too many rules.
 * @example
 * ```ts
 * normalizePermissionRules(['docs:*', '!docs:delete']);
 * // [{ effect: 'allow', permission: 'docs:*' }, { effect: 'deny', permission: 'docs:delete' }]
 * ```
 */
export function normalizePermissionRules(inputs: readonly PermissionRuleInput[]): PermissionRule[] {
  if (!Array.isArray(inputs)) {
    throw new RbacError('PERMISSION_INVALID', 'Invalid permission rules: must be an array');
  }
  if (inputs.length > RBAC_LIMITS.maxRulesPerRole) {
    throw new RbacError('PERMISSION_INVALID', `Invalid permission rules: at most ${RBAC_LIMITS.maxRulesPerRole} rules (got ${inputs.length})`, {
      details: { limit: RBAC_LIMITS.maxRulesPerRole, count: inputs.length },
    });
  }
  assertNoForbiddenKeys(inputs, 'permission rules');
  const seen = new Set<string>();
  const rules: PermissionRule[] = [];
  for (let index = 0; index < inputs.length; index += 1) {
    const rule = normalizeOne(inputs[index], index);
    const identity = `${rule.effect} ${rule.permission} ${rule.condition === undefined ? '' : canonicalJson(rule.condition)}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    rules.push(rule);
  }
  return rules;
}
