import { RbacError } from '../errors.js';
import { parseRoleDefinition, type ParsedRoleDefinition } from '../roles/role-definition.js';
import { findInheritanceCycle } from '../roles/role-graph.js';
import type { RoleDefinition } from '../roles/role.js';
import { normalizePermissionRules } from '../rules/normalize-permission-rules.js';
import type { PermissionRule, PermissionRuleInput } from '../rules/permission-rule.js';
import { assertPlainPolicyData } from './assert-plain-policy-data.js';
import type { Policy, PolicyDefinition } from './policy-definition.js';
import { policyInvalid, type PolicyPath } from './policy-error.js';

const POLICY_KEYS: ReadonlySet<string> = new Set(['roles', 'globalRoles', 'plans']);
const ROLE_KEYS: ReadonlySet<string> = new Set(['key', 'name', 'description', 'permissions', 'inherits', 'assignment']);
const PLAN_KEYS: ReadonlySet<string> = new Set(['permissions']);
/** The plan-key format of @tenantkit/tenant-context, so every registry plan can be declared. */
const PLAN_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Bounds the work one policy can cause; far above any real set of app-declared roles. */
const MAX_ENTRIES_PER_SECTION = 10_000;

type RoleSection = 'roles' | 'globalRoles';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function assertKnownKeys(value: Record<string, unknown>, allowed: ReadonlySet<string>, path: PolicyPath): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      throw policyInvalid([...path, key], `unknown key (allowed: ${[...allowed].join(', ')})`);
    }
  }
}

function sectionEntries(definition: Record<string, unknown>, section: string, required: boolean): [string, unknown][] {
  const value = definition[section];
  if (value === undefined && !required) return [];
  if (!isRecord(value)) throw policyInvalid([section], 'must be an object keyed by name');
  const entries = Object.entries(value);
  if (entries.length > MAX_ENTRIES_PER_SECTION) throw policyInvalid([section], `at most ${MAX_ENTRIES_PER_SECTION} entries`);
  return entries;
}

/** The path inside a rule list that a rule validator's error points at (`details.index`). */
function rulePath(error: RbacError, path: PolicyPath): PolicyPath {
  const index = error.details?.index;
  return typeof index === 'number' ? [...path, index] : path;
}

/** The path inside a role that `parseRoleDefinition`'s error points at. */
function roleErrorPath(error: RbacError, path: PolicyPath): PolicyPath {
  if (error.code === 'PERMISSION_INVALID' || error.code === 'CONDITION_INVALID') return rulePath(error, [...path, 'permissions']);
  if (error.code === 'ROLE_INHERITANCE_CYCLE') return [...path, 'inherits'];
  const issues = error.details?.issues;
  const first = Array.isArray(issues) ? (issues[0] as { path?: unknown } | undefined)?.path : undefined;
  return typeof first === 'string' && first !== '' ? [...path, ...first.split('.').map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment))] : path;
}

function wrap<T>(path: PolicyPath, locate: (error: RbacError, path: PolicyPath) => PolicyPath, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof RbacError && error.code !== 'POLICY_INVALID') {
      throw policyInvalid(locate(error, path), error.message, { cause: error, details: { reason: error.code } });
    }
    throw error;
  }
}

function parseRoles(definition: Record<string, unknown>, section: RoleSection): Map<string, Readonly<ParsedRoleDefinition>> {
  const roles = new Map<string, Readonly<ParsedRoleDefinition>>();
  for (const [key, value] of sectionEntries(definition, section, section === 'roles')) {
    const path = [section, key];
    if (!isRecord(value)) throw policyInvalid(path, 'a role must be an object with at least `permissions`');
    assertKnownKeys(value, ROLE_KEYS, path);
    if (value.key !== undefined && value.key !== key) {
      throw policyInvalid([...path, 'key'], `must equal the key the role is declared under ("${key}") or be left out`);
    }
    const parsed = wrap(path, roleErrorPath, () => parseRoleDefinition({ ...value, key } as unknown as RoleDefinition));
    roles.set(key, deepFreeze(parsed));
  }
  const cycle = findInheritanceCycle(roles);
  if (cycle !== null) {
    throw policyInvalid([section, cycle[0] as string, 'inherits'], `inheritance has a cycle: ${cycle.join(' > ')}`, {
      details: { reason: 'ROLE_INHERITANCE_CYCLE', cycle },
    });
  }
  return roles;
}

function parsePlans(definition: Record<string, unknown>): Map<string, readonly PermissionRule[]> {
  const plans = new Map<string, readonly PermissionRule[]>();
  for (const [key, value] of sectionEntries(definition, 'plans', false)) {
    const path = ['plans', key];
    if (!PLAN_KEY_PATTERN.test(key)) {
      throw policyInvalid(path, 'a plan key is 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit');
    }
    if (!isRecord(value)) throw policyInvalid(path, 'a plan must be an object with `permissions`');
    assertKnownKeys(value, PLAN_KEYS, path);
    if (!Array.isArray(value.permissions)) throw policyInvalid([...path, 'permissions'], 'must be a list of permission rules');
    const permissionsPath = [...path, 'permissions'];
    const rules = wrap(permissionsPath, rulePath, () => normalizePermissionRules(value.permissions as PermissionRuleInput[]));
    plans.set(key, deepFreeze(rules));
  }
  return plans;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Validates a policy declared in code and returns it parsed, normalised and frozen — at the
 * call, so a bad policy fails at startup, not at the first sync or check. Validation is the
 * same as for a policy file: plain data only, no unknown or prototype keys, every role through
 * `parseRoleDefinition`, every rule through `normalizePermissionRules`, no inheritance cycle
 * among the declared roles.
 *
 * @throws RbacError `POLICY_INVALID` whose message and `details.path` name the bad entry
 *   (`roles.editor.permissions.1`), with the validator's error as `cause` and its code as
 *   `details.reason`.
 * @example
 * ```ts
 * export const policy = definePolicy({
 *   roles: {
 *     viewer: { name: 'Viewer', permissions: ['*:read', '*:list'] },
 *     editor: { permissions: ['docs:*', '!docs:delete'], inherits: ['viewer'] },
 *   },
 *   plans: { free: { permissions: ['docs:*'] }, enterprise: { permissions: ['*'] } },
 * });
 * await syncPolicy(store, policy, { tenantId: 'tnt_1' });
 * ```
 */
export function definePolicy(definition: PolicyDefinition): Policy {
  assertPlainPolicyData(definition);
  if (!isRecord(definition)) throw policyInvalid([], 'a policy must be an object with `roles`');
  assertKnownKeys(definition, POLICY_KEYS, []);
  return Object.freeze({
    roles: parseRoles(definition, 'roles'),
    globalRoles: parseRoles(definition, 'globalRoles'),
    plans: parsePlans(definition),
  });
}
