import { RbacError } from '../errors.js';
import { compileCondition, type ConditionEnvironment } from '../conditions/compile-condition.js';
import type { ConditionContext, ResourceAttributes } from '../conditions/condition.js';
import { joinResourceConditions, reduceCondition } from '../conditions/reduce-condition.js';
import { canonicalJson } from '../rules/canonical-json.js';
import {
  assertConcretePermission,
  parsePermissionPattern,
  patternsOverlap,
  patternSubsumes,
  type PermissionPattern,
} from '../rules/permission-pattern.js';
import type { PermissionRule } from '../rules/permission-rule.js';
import { inheritanceClosure } from '../roles/role-graph.js';
import type {
  CompileInput,
  CompiledPermissions,
  DecidingRule,
  EffectivePermission,
  GrantSource,
  PermissionDecision,
  QueryConditions,
  ResourceCondition,
} from './compiled-permissions.js';
import { createRuleIndex, type CompiledRule, type RuleIndex } from './rule-index.js';

/** How many permission strings one matcher remembers decisions for. */
const DECISION_CACHE_SIZE = 4096;

// What a permission string resolves to, remembered per matcher: the candidate rules (denies and
// allows, unconditional first) and, when no condition is involved, the decision itself.
interface PermissionPlan {
  readonly permission: string;
  readonly denies: readonly CompiledRule[];
  readonly allows: readonly CompiledRule[];
  readonly plan: { readonly denies: readonly CompiledRule[]; readonly allows: readonly CompiledRule[] } | null;
  readonly inScopes: boolean;
  readonly constant: boolean | undefined;
}

interface RuleSet {
  readonly rules: readonly CompiledRule[];
  readonly index: RuleIndex;
}

function compileRule(
  rule: PermissionRule,
  order: number,
  environment: ConditionEnvironment,
  provenance: Pick<CompiledRule, 'source' | 'grant' | 'roleChain'>,
  where: () => string,
): CompiledRule {
  try {
    if (rule.effect !== 'allow' && rule.effect !== 'deny') {
      throw new RbacError('PERMISSION_INVALID', `effect must be "allow" or "deny"`);
    }
    const pattern = parsePermissionPattern(rule.permission);
    const test = rule.condition === undefined ? null : compileCondition(rule.condition, environment);
    return {
      effect: rule.effect,
      pattern,
      condition: rule.condition,
      test,
      order,
      source: provenance.source,
      grant: provenance.grant,
      roleChain: provenance.roleChain,
    };
  } catch (err) {
    if (err instanceof RbacError) {
      throw new RbacError(err.code, `Cannot compile ${where()}: ${err.message}`, { details: { ...err.details }, cause: err });
    }
    throw err;
  }
}

function unconditionalFirst(rules: readonly CompiledRule[]): CompiledRule[] {
  return [...rules].sort((a, b) => (a.test === null ? 0 : 1) - (b.test === null ? 0 : 1) || a.order - b.order);
}

// The fixed part of a decision over one rule set: false when an unconditional deny applies or
// nothing allows, true when an unconditional allow applies and no deny can, else undefined.
function constantOutcome(denies: readonly CompiledRule[], allows: readonly CompiledRule[]): boolean | undefined {
  if (denies.some((rule) => rule.test === null)) return false;
  if (allows.length === 0) return false;
  if (denies.length === 0 && allows.some((rule) => rule.test === null)) return true;
  return undefined;
}

function outcome(
  denies: readonly CompiledRule[],
  allows: readonly CompiledRule[],
  resource: ResourceAttributes | undefined,
  context: ConditionContext | undefined,
): boolean {
  for (let index = 0; index < denies.length; index += 1) {
    const test = (denies[index] as CompiledRule).test;
    // An unknown deny condition applies (fail closed).
    if (test === null || test(resource, context, null) !== 0) return false;
  }
  for (let index = 0; index < allows.length; index += 1) {
    const test = (allows[index] as CompiledRule).test;
    if (test === null || test(resource, context, null) === 1) return true;
  }
  return false;
}

function decidingRule(rule: CompiledRule): DecidingRule {
  return {
    effect: rule.effect,
    permission: rule.pattern.source,
    ...(rule.condition === undefined ? {} : { condition: rule.condition }),
    source: rule.source,
    ...(rule.grant === undefined ? {} : { grant: rule.grant }),
    ...(rule.roleChain === undefined ? {} : { roleChain: rule.roleChain }),
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function decide(
  permission: string,
  denies: readonly CompiledRule[],
  allows: readonly CompiledRule[],
  resource: ResourceAttributes | undefined,
  context: ConditionContext | undefined,
): PermissionDecision {
  let unknownDeny: CompiledRule | null = null;
  let unknownDenyMissing: string[] = [];
  for (const rule of denies) {
    if (rule.test === null) return { allowed: false, permission, reason: 'denied-by-rule', rule: decidingRule(rule), missing: [] };
    const missing: string[] = [];
    const truth = rule.test(resource, context, missing);
    if (truth === 1) return { allowed: false, permission, reason: 'denied-by-rule', rule: decidingRule(rule), missing: [] };
    if (truth === 2 && unknownDeny === null) {
      unknownDeny = rule;
      unknownDenyMissing = missing;
    }
  }
  if (unknownDeny !== null) {
    return { allowed: false, permission, reason: 'denied-by-rule', rule: decidingRule(unknownDeny), missing: unique(unknownDenyMissing) };
  }
  let unknownAllow: CompiledRule | null = null;
  let notMet: CompiledRule | null = null;
  const allowMissing: string[] = [];
  for (const rule of allows) {
    if (rule.test === null) return { allowed: true, permission, reason: 'allowed', rule: decidingRule(rule), missing: [] };
    const missing: string[] = [];
    const truth = rule.test(resource, context, missing);
    if (truth === 1) return { allowed: true, permission, reason: 'allowed', rule: decidingRule(rule), missing: [] };
    if (truth === 2) {
      unknownAllow ??= rule;
      allowMissing.push(...missing);
    } else {
      notMet ??= rule;
    }
  }
  if (unknownAllow !== null) {
    return { allowed: false, permission, reason: 'missing-attributes', rule: decidingRule(unknownAllow), missing: unique(allowMissing) };
  }
  if (notMet !== null) return { allowed: false, permission, reason: 'condition-not-met', rule: decidingRule(notMet), missing: [] };
  return { allowed: false, permission, reason: 'no-matching-rule', rule: null, missing: [] };
}

type ReducedSet = { readonly kind: 'all' } | { readonly kind: 'none' } | { readonly kind: 'some'; readonly allow: ResourceCondition[]; readonly deny: ResourceCondition[] };

function reduceSet(
  denies: readonly CompiledRule[],
  allows: readonly CompiledRule[],
  environment: ConditionEnvironment,
  context: ConditionContext | undefined,
): ReducedSet {
  const input = { principal: environment.principal, context, clock: environment.clock };
  const deny: ResourceCondition[] = [];
  for (const rule of denies) {
    if (rule.condition === undefined) return { kind: 'none' };
    const reduced = reduceCondition(rule.condition, input, 'deny');
    if (reduced === true) return { kind: 'none' };
    if (reduced !== false) deny.push(reduced);
  }
  const allow: ResourceCondition[] = [];
  for (const rule of allows) {
    const reduced = rule.condition === undefined ? true : reduceCondition(rule.condition, input, 'allow');
    if (reduced === false) continue;
    if (reduced === true) {
      allow.length = 0;
      allow.push(true);
      break;
    }
    allow.push(reduced);
  }
  if (allow.length === 0) return { kind: 'none' };
  if (allow[0] === true && deny.length === 0) return { kind: 'all' };
  return { kind: 'some', allow, deny };
}

function heldBy(rules: readonly CompiledRule[], pattern: PermissionPattern, conditionKey: string | null): boolean {
  let allowed = false;
  for (const rule of rules) {
    if (rule.effect === 'deny') {
      // Conservative: a deny that could touch any permission of the rule means it is not held.
      if (patternsOverlap(rule.pattern, pattern)) return false;
    } else if (!allowed && patternSubsumes(rule.pattern, pattern)) {
      allowed = rule.condition === undefined || (conditionKey !== null && canonicalJson(rule.condition) === conditionKey);
    }
  }
  return allowed;
}

/**
 * Compiles a principal's grants in one tenant into a {@link CompiledPermissions} matcher.
 *
 * - Grants that expired (`expiresAt <= clock.now()`) are ignored; `validUntil` is the earliest
 *   remaining expiry (`Infinity` when none). A matcher used at or after `validUntil` (by its
 *   clock) answers every method as if the grants expired by then were not there (it recompiles
 *   itself once from the remaining grants); recompile from the store anyway to pick up changes.
 * - Time windows read `clock` only, never the request context.
 * - Each grant's role is expanded through `inherits` (breadth-first, diamonds once, cycle-safe,
 *   unknown keys and roles of other tenants ignored); the first grant that reaches a role is the
 *   one explanations cite.
 * - Any applicable deny beats any allow; a condition that cannot be decided (missing attribute)
 *   makes an allow not apply and a deny apply.
 * - `planRules` (when not null/undefined) and `principal.scopes` (when defined; `[]` allows
 *   nothing) are ceilings: a permission must be allowed by them too.
 * - Decisions are remembered per permission string (up to 4096), so a repeated check is a map
 *   lookup; rules are bucketed by resource and action, so a miss is cheap with 100k rules.
 *
 * @throws `PERMISSION_INVALID` / `CONDITION_INVALID` when a stored rule, plan rule or scope is
 *   invalid (fails loudly rather than silently dropping a deny).
 * @example
 * ```ts
 * const compiled = compilePermissions({ tenantId: 'tnt_1', principal, grants, roles, clock: systemClock });
 * compiled.can('docs:read'); // true
 * compiled.explain('docs:delete').reason; // 'denied-by-rule'
 * ```
 */
export function compilePermissions(input: CompileInput): CompiledPermissions {
  const { tenantId, principal, roles, clock } = input;
  const now = clock.now();
  const environment: ConditionEnvironment = { principal, clock };
  const grants = input.grants.filter((grant) => grant.expiresAt === null || grant.expiresAt > now);
  const validUntil = grants.reduce((earliest, grant) => (grant.expiresAt === null ? earliest : Math.min(earliest, grant.expiresAt)), Infinity);

  const tenantRoles = new Map<string, (typeof roles extends ReadonlyMap<string, infer R> ? R : never)>();
  for (const [key, role] of roles) if (role.tenantId === tenantId && role.key === key) tenantRoles.set(key, role);

  const roleRules: CompiledRule[] = [];
  const reached = new Set<string>();
  const expansions: { readonly grant: GrantSource; readonly chains: ReturnType<typeof inheritanceClosure> }[] = [];
  for (const grant of grants) {
    const closure = inheritanceClosure(tenantRoles, grant.roleKey);
    expansions.push({ grant, chains: closure });
    for (const { key, chain } of closure) {
      if (reached.has(key)) continue;
      reached.add(key);
      const role = tenantRoles.get(key);
      if (role === undefined) continue;
      for (const rule of role.rules) {
        roleRules.push(compileRule(rule, roleRules.length, environment, { source: 'role', grant, roleChain: chain }, () => `rule "${String(rule?.permission).slice(0, 200)}" of role "${key}"`));
      }
    }
  }
  const roleSet: RuleSet = { rules: roleRules, index: createRuleIndex(roleRules) };

  let planSet: RuleSet | null = null;
  if (input.planRules !== null && input.planRules !== undefined) {
    const planRules = input.planRules.map((rule, order) => compileRule(rule, order, environment, { source: 'plan' }, () => `plan rule ${order}`));
    planSet = { rules: planRules, index: createRuleIndex(planRules) };
  }

  let scopes: PermissionPattern[] | null = null;
  if (principal.scopes !== undefined) {
    scopes = principal.scopes.map((scope, index) => {
      try {
        return parsePermissionPattern(scope);
      } catch (err) {
        throw new RbacError('PERMISSION_INVALID', `Cannot compile scope ${index} of the principal: ${(err as Error).message}`, { cause: err });
      }
    });
  }
  const scopeSegments = scopes?.map((scope) => scope.segments) ?? null;

  // Two generations bound the cache without per-entry bookkeeping: when the young map is full
  // it becomes the old one, and an entry found only in the old map moves back to the young one.
  let young = new Map<string, PermissionPlan>();
  let old = new Map<string, PermissionPlan>();

  function remember(entry: PermissionPlan): PermissionPlan {
    if (young.size >= DECISION_CACHE_SIZE / 2) {
      old = young;
      young = new Map();
    }
    young.set(entry.permission, entry);
    return entry;
  }

  function planFor(permission: string): PermissionPlan {
    const known = young.get(permission);
    if (known !== undefined) return known;
    const aging = old.get(permission);
    if (aging !== undefined) return remember(aging);
    assertConcretePermission(permission);
    const segments = permission.split(':');
    const candidates = roleSet.index.candidates(segments);
    const denies = unconditionalFirst(candidates.filter((rule) => rule.effect === 'deny'));
    const allows = unconditionalFirst(candidates.filter((rule) => rule.effect === 'allow'));
    let ceiling: PermissionPlan['plan'] = null;
    if (planSet !== null) {
      const planCandidates = planSet.index.candidates(segments);
      ceiling = {
        denies: unconditionalFirst(planCandidates.filter((rule) => rule.effect === 'deny')),
        allows: unconditionalFirst(planCandidates.filter((rule) => rule.effect === 'allow')),
      };
    }
    const inScopes = scopeSegments === null || scopeSegments.some((scope) => coversSegments(scope, segments));
    const roles = constantOutcome(denies, allows);
    const plan = ceiling === null ? true : constantOutcome(ceiling.denies, ceiling.allows);
    const constant = !inScopes || roles === false || plan === false ? false : roles === true && plan === true ? true : undefined;
    return remember({ permission, denies, allows, plan: ceiling, inScopes, constant });
  }

  let effective: readonly EffectivePermission[] | null = null;

  // A matcher kept past `validUntil` (on req.permissions, a websocket session) must not keep
  // allowing what an expired grant gave. Dropping the expired grant's rules in place would be
  // wrong (a role reached through it may also be reached through another grant), so the
  // matcher recompiles itself once from the grants that remain, at check time, and delegates.
  // While `validUntil` is Infinity or in the future, this costs one comparison (plus one clock
  // read when it is finite).
  const planRulesInput = input.planRules === null || input.planRules === undefined ? input.planRules : [...input.planRules];
  let successor: CompiledPermissions | null = null;
  function expired(): CompiledPermissions | null {
    if (validUntil === Infinity || clock.now() < validUntil) return null;
    successor ??= compilePermissions({ tenantId, principal, grants, roles: tenantRoles, planRules: planRulesInput, clock });
    return successor;
  }

  const compiled: CompiledPermissions = {
    tenantId,
    principal,
    validUntil,
    can(permission, resource, context) {
      if (validUntil !== Infinity) {
        const renewed = expired();
        if (renewed !== null) return renewed.can(permission, resource, context);
      }
      const plan = planFor(permission);
      if (plan.constant !== undefined) return plan.constant;
      if (!outcome(plan.denies, plan.allows, resource, context)) return false;
      return plan.plan === null || outcome(plan.plan.denies, plan.plan.allows, resource, context);
    },
    explain(permission, resource, context) {
      const renewed = expired();
      if (renewed !== null) return renewed.explain(permission, resource, context);
      const plan = planFor(permission);
      const decision = decide(permission, plan.denies, plan.allows, resource, context);
      if (!decision.allowed) return decision;
      if (plan.plan !== null) {
        const ceiling = decide(permission, plan.plan.denies, plan.plan.allows, resource, context);
        if (!ceiling.allowed) {
          return {
            allowed: false,
            permission,
            reason: 'outside-plan',
            rule: ceiling.reason === 'denied-by-rule' ? ceiling.rule : null,
            missing: ceiling.missing,
          };
        }
      }
      if (!plan.inScopes) return { allowed: false, permission, reason: 'outside-scopes', rule: null, missing: [] };
      return decision;
    },
    permissions() {
      const renewed = expired();
      if (renewed !== null) return renewed.permissions();
      if (effective === null) {
        const list: EffectivePermission[] = [];
        for (const { grant, chains } of expansions) {
          for (const { key, chain } of chains) {
            for (const rule of tenantRoles.get(key)?.rules ?? []) {
              list.push({
                effect: rule.effect,
                permission: rule.permission,
                ...(rule.condition === undefined ? {} : { condition: rule.condition }),
                grant,
                roleChain: chain,
              });
            }
          }
        }
        effective = Object.freeze(list);
      }
      return effective;
    },
    queryConditions(permission, context) {
      const renewed = expired();
      if (renewed !== null) return renewed.queryConditions(permission, context);
      const plan = planFor(permission);
      if (!plan.inScopes) return { kind: 'none' };
      const fromRoles = reduceSet(plan.denies, plan.allows, environment, context);
      if (fromRoles.kind === 'none') return fromRoles;
      const fromPlan: ReducedSet = plan.plan === null ? { kind: 'all' } : reduceSet(plan.plan.denies, plan.plan.allows, environment, context);
      if (fromPlan.kind === 'none') return fromPlan;
      if (fromRoles.kind === 'all') return fromPlan;
      if (fromPlan.kind === 'all') return fromRoles;
      const allow = joinResourceConditions('all', [joinResourceConditions('any', fromRoles.allow), joinResourceConditions('any', fromPlan.allow)]);
      if (allow === false) return { kind: 'none' };
      return { kind: 'some', allow: [allow], deny: [...fromRoles.deny, ...fromPlan.deny] } satisfies QueryConditions;
    },
    holds(rule) {
      const renewed = expired();
      if (renewed !== null) return renewed.holds(rule);
      if (rule.effect === 'deny') return true;
      const pattern = parsePermissionPattern(rule.permission);
      const conditionKey = rule.condition === undefined ? null : canonicalJson(rule.condition);
      if (!heldBy(roleSet.rules, pattern, conditionKey)) return false;
      if (planSet !== null && !heldBy(planSet.rules, pattern, conditionKey)) return false;
      if (scopes !== null && !scopes.some((scope) => patternSubsumes(scope, pattern))) return false;
      return true;
    },
  };
  return Object.freeze(compiled);
}

function coversSegments(pattern: readonly string[], permission: readonly string[]): boolean {
  if (pattern.length > permission.length) return false;
  for (let index = 0; index < pattern.length; index += 1) {
    if (pattern[index] !== '*' && pattern[index] !== permission[index]) return false;
  }
  return true;
}
