import { systemClock, type Clock } from '@tenantkit/core';
import { isValidTenantId } from '@tenantkit/tenant-context';
import { RbacError } from '../errors.js';
import type { InvalidationChannel } from '../invalidation/invalidation-channel.js';
import type { ParsedRoleDefinition } from '../roles/role-definition.js';
import { findInheritanceCycle } from '../roles/role-graph.js';
import type { Role, RoleOrigin } from '../roles/role.js';
import { canonicalJson } from '../rules/canonical-json.js';
import type { RbacStore } from '../store.js';
import { definePolicy } from './define-policy.js';
import type { Policy, PolicyDefinition } from './policy-definition.js';
import { policyInvalid } from './policy-error.js';

/**
 * Options of {@link syncPolicy}.
 *
 * @example
 * ```ts
 * const options: SyncPolicyOptions = { tenantId: 'tnt_1', prune: true, dryRun: true };
 * ```
 */
export interface SyncPolicyOptions {
  /** The tenant whose roles are brought to the policy's `roles`; `null`: the global roles, from `globalRoles`. */
  readonly tenantId: string | null;
  /**
   * Also delete roles this sync owns (origin `policy`) that the policy no longer declares —
   * with every assignment of them (that is what deleting a role does). Default `false`.
   */
  readonly prune?: boolean;
  /** Overwrite (or prune) roles the tenant has customized. Default `false`. */
  readonly force?: boolean;
  /** Work out and return the report without writing anything. Default `false`. */
  readonly dryRun?: boolean;
  /** Stamps `createdAt` / `updatedAt`; default the system clock. */
  readonly clock?: Clock;
  /** Told about the tenant once after a sync that changed something, so other processes drop their caches at once. */
  readonly invalidation?: InvalidationChannel;
}

/**
 * Why {@link syncPolicy} left a role alone:
 * - `customized`: the tenant edited a role the app manages (pass `force` to overwrite it);
 * - `not-managed`: a role of that key exists that the app does not manage (origin `custom`,
 *   made by the tenant, or `global`, owned by the global-role sync) — never overwritten;
 * - `inherited`: a role to prune is still inherited by a role that stays.
 *
 * @example
 * ```ts
 * const reason: PolicySyncSkipReason = 'customized';
 * ```
 */
export type PolicySyncSkipReason = 'customized' | 'not-managed' | 'inherited';

/**
 * A role {@link syncPolicy} did not touch although the policy asked it to (or, with `prune`,
 * could have deleted it).
 *
 * @example
 * ```ts
 * const skip: PolicySyncSkip = { key: 'editor', origin: 'custom', reason: 'not-managed' };
 * ```
 */
export interface PolicySyncSkip {
  readonly key: string;
  readonly origin: RoleOrigin;
  readonly reason: PolicySyncSkipReason;
}

/**
 * What {@link syncPolicy} did (or, with `dryRun`, would do); role keys, sorted.
 *
 * @example
 * ```ts
 * const report = await syncPolicy(store, policy, { tenantId: 'tnt_1' });
 * if (report.skipped.length > 0) console.warn('left alone:', report.skipped);
 * ```
 */
export interface PolicySyncReport {
  readonly tenantId: string | null;
  readonly dryRun: boolean;
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
  readonly pruned: readonly string[];
  readonly skipped: readonly PolicySyncSkip[];
}

/** Compare-and-set attempts per role before a sync gives up on a role that keeps changing. */
const MAX_ATTEMPTS = 8;
/** Origins of roles the app (not the tenant, not the global sync) owns, which a sync may rewrite. */
const MANAGED_ORIGINS: ReadonlySet<RoleOrigin> = new Set(['policy', 'system']);
const OPTION_KEYS: ReadonlySet<string> = new Set(['tenantId', 'prune', 'force', 'dryRun', 'clock', 'invalidation']);

type Declared = Readonly<ParsedRoleDefinition>;
type Decision =
  | { readonly action: 'create' }
  | { readonly action: 'update'; readonly current: Role }
  | { readonly action: 'unchanged' }
  | { readonly action: 'skip'; readonly skip: PolicySyncSkip };

function isPolicy(value: unknown): value is Policy {
  const candidate = value as Partial<Record<keyof Policy, unknown>> | null;
  return (
    typeof value === 'object' &&
    value !== null &&
    candidate?.roles instanceof Map &&
    candidate.globalRoles instanceof Map &&
    candidate.plans instanceof Map
  );
}

function sameContent(role: Role, declared: Declared): boolean {
  return (
    role.name === declared.name &&
    role.description === declared.description &&
    canonicalJson(role.rules) === canonicalJson(declared.rules) &&
    canonicalJson(role.inherits) === canonicalJson(declared.inherits) &&
    canonicalJson(role.assignment) === canonicalJson(declared.assignment)
  );
}

function decide(current: Role | null, declared: Declared, force: boolean): Decision {
  if (current === null) return { action: 'create' };
  if (!MANAGED_ORIGINS.has(current.origin)) {
    return { action: 'skip', skip: { key: current.key, origin: current.origin, reason: 'not-managed' } };
  }
  if (current.customized && !force) {
    return { action: 'skip', skip: { key: current.key, origin: current.origin, reason: 'customized' } };
  }
  // A forced sync of a customized role whose content happens to match still clears the flag.
  if (!current.customized && sameContent(current, declared)) return { action: 'unchanged' };
  return { action: 'update', current };
}

function parseOptions(options: SyncPolicyOptions): Required<Omit<SyncPolicyOptions, 'invalidation'>> & Pick<SyncPolicyOptions, 'invalidation'> {
  if (typeof options !== 'object' || options === null || !('tenantId' in options)) {
    throw new RbacError('CONFIGURATION_INVALID', 'syncPolicy: options must name the tenant ({ tenantId }, null for the global roles)');
  }
  const unknown = Object.keys(options).find((key) => !OPTION_KEYS.has(key));
  if (unknown !== undefined) throw new RbacError('CONFIGURATION_INVALID', `syncPolicy: unknown option "${unknown}"`);
  const { tenantId, prune = false, force = false, dryRun = false, clock = systemClock, invalidation } = options;
  if (tenantId !== null && !isValidTenantId(tenantId)) {
    throw new RbacError('TENANT_IDENTIFIER_INVALID', 'A tenant id must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
  for (const [name, value] of [['prune', prune], ['force', force], ['dryRun', dryRun]] as const) {
    if (typeof value !== 'boolean') throw new RbacError('CONFIGURATION_INVALID', `syncPolicy: ${name} must be a boolean`);
  }
  if (typeof clock?.now !== 'function') throw new RbacError('CONFIGURATION_INVALID', 'syncPolicy: clock must have now()');
  if (invalidation !== undefined && typeof invalidation?.publish !== 'function') {
    throw new RbacError('CONFIGURATION_INVALID', 'syncPolicy: invalidation must be an InvalidationChannel');
  }
  return { tenantId, prune, force, dryRun, clock, invalidation };
}

/** Declared keys with every role a key inherits ahead of it, so no written role points at one not yet written. */
function inheritanceOrder(declared: ReadonlyMap<string, Declared>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  const place = (key: string) => {
    // Acyclic (checked before), and depth is bounded by the number of declared roles.
    if (placed.has(key)) return;
    placed.add(key);
    for (const parent of declared.get(key)?.inherits ?? []) if (declared.has(parent)) place(parent);
    order.push(key);
  };
  for (const key of [...declared.keys()].sort()) place(key);
  return order;
}

function buildRole(tenantId: string | null, declared: Declared, base: Role | null, now: number): Role {
  return {
    tenantId,
    key: declared.key,
    name: declared.name,
    description: declared.description,
    rules: declared.rules,
    inherits: declared.inherits,
    assignment: declared.assignment,
    // A seeded `system` role the policy redeclares becomes the policy's: otherwise seeding the
    // defaults and syncing the policy would each keep reverting the other's version.
    origin: 'policy',
    customized: false,
    version: base === null ? 1 : base.version + 1,
    createdAt: base?.createdAt ?? now,
    updatedAt: now,
  };
}

/**
 * Brings a tenant's roles (or, with `tenantId: null`, the global roles) to what a policy
 * declares, idempotently: run it on every deploy or for every new tenant.
 *
 * - Missing roles are created with origin `policy`. A declared role whose stored content
 *   (name, description, normalised rules, inherits, assignment policy) differs is updated by
 *   compare-and-set, retried when another writer got there first; an equal one is not written
 *   at all, so a sync that changes nothing leaves the policy version where it was.
 * - Roles the app does not own are never overwritten: a role of the same key that the tenant
 *   made (`custom`) or the global-role sync wrote (`global`) is reported as `not-managed`. A
 *   seeded `system` role the policy redeclares is taken over (it becomes a `policy` role, so
 *   `seedDefaultRoles` no longer reverts it). A `policy` or `system` role the tenant
 *   customized is reported as `customized` unless `force`.
 * - Roles the policy does not declare are left alone, unless `prune`: then roles of origin
 *   `policy` — the ones a sync wrote — are deleted, with their assignments (see what
 *   `dryRun` reports first). Seeded `system` roles the policy never declared, tenant-made
 *   roles and global copies are never pruned; nor is a customized role without `force`, nor a
 *   role another remaining role still inherits.
 * - The whole result is checked before anything is written: every inherited key must exist
 *   afterwards (declared or already stored) and the roles must stay acyclic, so an invalid
 *   policy writes nothing. Roles are written parents first.
 *
 * @throws RbacError `POLICY_INVALID` (an invalid definition, or a role inheriting one that will
 *   not exist), `ROLE_INHERITANCE_CYCLE` (with what is stored, the roles would have a cycle),
 *   `STORE_CONFLICT` (a role kept changing under the sync), `TENANT_IDENTIFIER_INVALID`,
 *   `CONFIGURATION_INVALID`, and the store's `STORE_UNAVAILABLE`.
 * @example
 * ```ts
 * const policy = await loadPolicyFile('config/rbac-policy.yaml');
 * await syncPolicy(store, policy, { tenantId: null });              // global templates
 * const report = await syncPolicy(store, policy, { tenantId: 'tnt_1', prune: true, dryRun: true });
 * console.log(report.created, report.updated, report.pruned, report.skipped);
 * ```
 */
export async function syncPolicy(store: RbacStore, policy: Policy | PolicyDefinition, options: SyncPolicyOptions): Promise<PolicySyncReport> {
  const { tenantId, prune, force, dryRun, clock, invalidation } = parseOptions(options);
  if (typeof store?.listRoles !== 'function' || typeof store.updateRole !== 'function') {
    throw new RbacError('CONFIGURATION_INVALID', 'syncPolicy: store must be an RbacStore');
  }
  const parsed = isPolicy(policy) ? policy : definePolicy(policy);
  const section = tenantId === null ? 'globalRoles' : 'roles';
  const declared = tenantId === null ? parsed.globalRoles : parsed.roles;

  const stored = new Map((await store.listRoles(tenantId)).map((role) => [role.key, role] as const));

  // Plan every role first; nothing is written until the plan as a whole is valid.
  const decisions = new Map<string, Decision>();
  for (const [key, role] of declared) decisions.set(key, decide(stored.get(key) ?? null, role, force));
  const after = new Map<string, { readonly inherits: readonly string[] }>(stored);
  for (const [key, decision] of decisions) {
    if (decision.action === 'create' || decision.action === 'update') after.set(key, declared.get(key) as Declared);
  }

  const skipped: PolicySyncSkip[] = [];
  const toPrune = new Set<string>();
  if (prune) {
    for (const role of stored.values()) {
      if (declared.has(role.key) || role.origin !== 'policy') continue;
      if (role.customized && !force) skipped.push({ key: role.key, origin: role.origin, reason: 'customized' });
      else toPrune.add(role.key);
    }
    // A role stays while any role that stays inherits it; repeat, since keeping one role can
    // keep the roles it inherits.
    for (let changed = true; changed; ) {
      changed = false;
      for (const key of toPrune) {
        const inherited = [...after].some(([other, role]) => other !== key && !toPrune.has(other) && role.inherits.includes(key));
        if (inherited) {
          toPrune.delete(key);
          skipped.push({ key, origin: 'policy', reason: 'inherited' });
          changed = true;
        }
      }
    }
    for (const key of toPrune) after.delete(key);
  }

  for (const [key, decision] of decisions) {
    if (decision.action !== 'create' && decision.action !== 'update') continue;
    const inherits = (declared.get(key) as Declared).inherits;
    inherits.forEach((parent, index) => {
      if (!after.has(parent)) {
        throw policyInvalid([section, key, 'inherits', index], `inherits "${parent}", which is neither declared nor stored${tenantId === null ? ' as a global role' : ` in tenant ${tenantId}`}`);
      }
    });
  }
  const cycle = findInheritanceCycle(after);
  if (cycle !== null) {
    throw new RbacError('ROLE_INHERITANCE_CYCLE', `With the roles already stored, the policy would make an inheritance cycle: ${cycle.join(' > ')}`, {
      details: { cycle },
    });
  }

  const created: string[] = [];
  const updated: string[] = [];
  const unchanged: string[] = [];
  const pruned: string[] = [];
  const record = (key: string, decision: Decision) => {
    if (decision.action === 'create') created.push(key);
    else if (decision.action === 'update') updated.push(key);
    else if (decision.action === 'unchanged') unchanged.push(key);
    else skipped.push(decision.skip);
  };

  if (dryRun) {
    for (const [key, decision] of decisions) record(key, decision);
    pruned.push(...toPrune);
  } else {
    for (const key of inheritanceOrder(declared)) {
      record(key, await writeRole(store, tenantId, declared.get(key) as Declared, decisions.get(key) as Decision, { force, clock }));
    }
    for (const key of [...toPrune].sort()) {
      // Read again right before deleting: the tenant may have customized it since the plan.
      const current = await store.getRole(tenantId, key);
      if (current === null || current.origin !== 'policy') continue;
      if (current.customized && !force) {
        skipped.push({ key, origin: current.origin, reason: 'customized' });
        continue;
      }
      if (await store.deleteRole(tenantId, key)) pruned.push(key);
    }
    if (invalidation !== undefined && created.length + updated.length + pruned.length > 0) await invalidation.publish(tenantId);
  }

  const sorted = (keys: string[]) => Object.freeze([...keys].sort());
  return Object.freeze({
    tenantId,
    dryRun,
    created: sorted(created),
    updated: sorted(updated),
    unchanged: sorted(unchanged),
    pruned: sorted(pruned),
    skipped: Object.freeze([...skipped].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))),
  });
}

/**
 * Carries out one role's decision, re-reading and deciding again whenever a compare-and-set
 * or an insert loses to a concurrent writer. @returns what finally happened.
 */
async function writeRole(
  store: RbacStore,
  tenantId: string | null,
  declared: Declared,
  first: Decision,
  settings: { readonly force: boolean; readonly clock: Clock },
): Promise<Decision> {
  let decision = first;
  for (let attempt = 1; ; attempt += 1) {
    if (decision.action === 'unchanged' || decision.action === 'skip') return decision;
    const now = settings.clock.now();
    const written =
      decision.action === 'create'
        ? await store.insertRole(buildRole(tenantId, declared, null, now))
        : await store.updateRole(buildRole(tenantId, declared, decision.current, now), decision.current.version);
    if (written) return decision;
    if (attempt >= MAX_ATTEMPTS) {
      throw new RbacError('STORE_CONFLICT', `Role "${declared.key}" kept changing while the policy was synced; try again`, {
        details: { tenantId, key: declared.key, attempts: attempt },
      });
    }
    decision = decide(await store.getRole(tenantId, declared.key), declared, settings.force);
  }
}
