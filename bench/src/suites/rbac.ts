import { createMongoAbility, subject, type MongoAbility } from '@casl/ability';
import { systemClock } from '@tenantkit/core';
import { compilePermissions, type CompileInput, type CompiledPermissions, type PermissionRule, type Role } from '@tenantkit/rbac';
import { newEnforcer, newModelFromString, type Enforcer } from 'casbin';
import { benchResult, type BenchResult, type BenchSuite } from '../bench-result.js';
import { compareOps } from '../measure-ops.js';

/*
 * One policy, three engines. At N rules a tenant has roles of at most 1,000 rules each (our
 * per-role limit is 10,000): `admin` inherits `editor`, which inherits `viewer` (a 3-level
 * chain), and `pack_<k>` roles fill up to N. Alice holds `admin` and every pack in tenant
 * `tnt_bench`, so every rule applies to her. One rule in ten is a wildcard (`res3_40:*`).
 * `viewer` carries, as its last rules, `reports:*` (the wildcard + inheritance check is
 * `reports:export`, two inheritance levels below the role Alice holds) and
 * `docs:update` when `resource.ownerId` is Alice (the conditional check).
 *
 * - ours: `compilePermissions()` once per (tenant, principal), then the synchronous `can()`.
 * - node-casbin: the RBAC-with-domains model with `keyMatch` for wildcards, `enforceSync`; the
 *   same roles as `p` lines, inheritance and Alice's roles as `g` lines. Policies are listed
 *   role by role (admin, editor, viewer, packs), so the allowed check stops after about three
 *   roles' rules; the denied check reads them all.
 * - CASL: no role inheritance, so Alice's rules are flattened into one `createMongoAbility()`
 *   (what an app does per user); `res:*` becomes action `manage`, the condition `{ ownerId }`.
 *
 * Every engine's answers are checked against the expected ones before anything is timed.
 */

const quick = process.env.BENCH_QUICK === '1';
const checkOptions = quick ? { rounds: 2, roundMs: 100 } : { rounds: 5, roundMs: 300 };
const compileOptions = quick ? { rounds: 2, roundMs: 100 } : { rounds: 5, roundMs: 300 };
const scales = [1_000, 10_000, 100_000] as const;
const tenantId = 'tnt_bench';
const alice = Object.freeze({ kind: 'user' as const, id: 'usr_alice' });
const actions = ['read', 'list', 'create', 'update'] as const;
const maxRulesPerRole = 1_000;

interface BenchRole {
  readonly key: string;
  readonly rules: readonly PermissionRule[];
  readonly inherits: readonly string[];
}

interface BenchPolicy {
  readonly ruleCount: number;
  readonly roles: readonly BenchRole[];
  /** Roles Alice holds directly. */
  readonly assigned: readonly string[];
}

const ownDocument: PermissionRule = { effect: 'allow', permission: 'docs:update', condition: { self: 'resource.ownerId' } };
const reportsWildcard: PermissionRule = { effect: 'allow', permission: 'reports:*' };

function fillerRules(roleIndex: number, count: number): PermissionRule[] {
  return Array.from({ length: count }, (_, index) => ({
    effect: 'allow' as const,
    permission: index % 10 === 0 ? `res${roleIndex}_${index}:*` : `res${roleIndex}_${index}:${actions[index % actions.length]!}`,
  }));
}

function buildPolicy(ruleCount: number): BenchPolicy {
  const perRole = Math.min(maxRulesPerRole, ruleCount / 4);
  const roleCount = ruleCount / perRole;
  const roles: BenchRole[] = [
    { key: 'admin', rules: fillerRules(0, perRole), inherits: ['editor'] },
    { key: 'editor', rules: fillerRules(1, perRole), inherits: ['viewer'] },
    { key: 'viewer', rules: [...fillerRules(2, perRole - 2), ownDocument, reportsWildcard], inherits: [] },
  ];
  for (let index = 3; index < roleCount; index += 1) {
    roles.push({ key: `pack_${index}`, rules: fillerRules(index, perRole), inherits: [] });
  }
  const total = roles.reduce((sum, role) => sum + role.rules.length, 0);
  if (total !== ruleCount) throw new Error(`policy has ${total} rules, expected ${ruleCount}`);
  return { ruleCount, roles, assigned: ['admin', ...roles.slice(3).map((role) => role.key)] };
}

// ---- ours -------------------------------------------------------------------------------

function compileInputFor(policy: BenchPolicy): CompileInput {
  const roles = new Map<string, Role>(
    policy.roles.map((role) => [
      role.key,
      {
        tenantId,
        key: role.key,
        name: role.key,
        description: '',
        rules: role.rules,
        inherits: role.inherits,
        assignment: { restricted: false, selfAssignable: false, maxAssignments: null, requiresApproval: false },
        origin: 'custom',
        customized: false,
        version: 1,
        createdAt: 0,
        updatedAt: 0,
      },
    ]),
  );
  const grants = policy.assigned.map((roleKey, index) => ({
    assignmentId: `asg_${index}`,
    roleKey,
    via: { type: 'user' as const },
    expiresAt: null,
  }));
  return { tenantId, principal: alice, grants, roles, clock: systemClock };
}

// ---- node-casbin ------------------------------------------------------------------------

const casbinModel = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && keyMatch(r.obj, p.obj) && keyMatch(r.act, p.act)
`;

async function casbinEnforcerFor(policy: BenchPolicy): Promise<Enforcer> {
  const enforcer = await newEnforcer(newModelFromString(casbinModel));
  const policies: string[][] = [];
  for (const role of policy.roles) {
    for (const rule of role.rules) {
      // Conditions have no counterpart in this model; the conditional rule is left out.
      if (rule.condition !== undefined) continue;
      const [resource, action] = rule.permission.split(':') as [string, string];
      policies.push([role.key, tenantId, resource, action]);
    }
  }
  await enforcer.addPolicies(policies);
  const links: string[][] = [];
  for (const role of policy.roles) for (const parent of role.inherits) links.push([role.key, parent, tenantId]);
  for (const roleKey of policy.assigned) links.push([alice.id, roleKey, tenantId]);
  await enforcer.addGroupingPolicies(links);
  return enforcer;
}

// ---- CASL -------------------------------------------------------------------------------

type CaslRule = { action: string; subject: string; conditions?: Record<string, unknown> };

/** Alice's rules flattened (CASL has no role inheritance), as an app builds them per user. */
function caslRulesFor(policy: BenchPolicy): CaslRule[] {
  const rules: CaslRule[] = [];
  for (const role of policy.roles) {
    for (const rule of role.rules) {
      const [resource, action] = rule.permission.split(':') as [string, string];
      const caslAction = action === '*' ? 'manage' : action;
      rules.push(rule.condition === undefined ? { action: caslAction, subject: resource } : { action: caslAction, subject: resource, conditions: { ownerId: alice.id } });
    }
  }
  return rules;
}

// ---- measuring --------------------------------------------------------------------------

/**
 * Builds a block that runs one check `times` times. The block factories are written out per
 * case, so each loop calls its engine directly (a monomorphic call site, as in application
 * code) rather than through one shared wrapper that every engine passes through.
 */
type BlockFactory = (times: number) => () => number;

/**
 * The two sides of a comparison differ by up to seven orders of magnitude, and compareOps uses
 * one batch size for both: each side runs in blocks of about 20 µs (so reading the clock costs
 * nothing measurable) and its rate is multiplied back by the block size.
 */
function calibrate(factory: BlockFactory): { block: () => number; times: number } {
  const single = factory(1);
  const start = process.hrtime.bigint();
  let calls = 0;
  while (process.hrtime.bigint() - start < 20_000_000n) {
    single();
    calls += 1;
  }
  const nsPerCall = Number(process.hrtime.bigint() - start) / calls;
  const times = Math.max(1, Math.min(10_000, Math.round(20_000 / nsPerCall)));
  return { block: factory(times), times };
}

async function compareChecks(ours: BlockFactory, peer: BlockFactory): Promise<{ ours: number; peer: number }> {
  const oursBlocks = calibrate(ours);
  const peerBlocks = calibrate(peer);
  const measured = await compareOps(oursBlocks.block, peerBlocks.block, { ...checkOptions, batch: 1 });
  return { ours: measured.ours * oursBlocks.times, peer: measured.peer * peerBlocks.times };
}

function expectAnswers(engine: string, answers: Record<string, boolean>, expected: Record<string, boolean>): void {
  for (const [name, value] of Object.entries(expected)) {
    if (answers[name] !== value) throw new Error(`${engine}: ${name} answered ${String(answers[name])}, expected ${String(value)}`);
  }
}

const rulesLabel = (count: number) => `${count / 1000}k rules`;

/**
 * `pnpm bench --json rbac`: permission checks per second of the compiled matcher against
 * node-casbin (RBAC with domains) and CASL on the same policy in the same run, at 1k, 10k and
 * 100k rules, and the time to compile 100k rules for one principal.
 */
export const rbacSuite: BenchSuite = {
  name: 'rbac',
  description: 'compiled permission checks vs node-casbin (RBAC with domains) and CASL, same policy, 1k/10k/100k rules',
  async run() {
    const results: BenchResult[] = [];
    for (const ruleCount of scales) {
      const policy = buildPolicy(ruleCount);
      const compiled: CompiledPermissions = compilePermissions(compileInputFor(policy));
      const enforcer = await casbinEnforcerFor(policy);
      const ability: MongoAbility = createMongoAbility(caslRulesFor(policy));
      // The same attributes; CASL's copies carry its subject type.
      const ownDoc = { ownerId: alice.id };
      const othersDoc = { ownerId: 'usr_bob' };
      const ownCaslDoc = subject('docs', { ownerId: alice.id });
      const othersCaslDoc = subject('docs', { ownerId: 'usr_bob' });

      expectAnswers('ours', {
        wildcard: compiled.can('reports:export'),
        filler: compiled.can('res3_1:list'),
        denied: compiled.can('secrets:read'),
        own: compiled.can('docs:update', ownDoc),
        others: compiled.can('docs:update', othersDoc),
        missing: compiled.can('docs:update'),
      }, { wildcard: true, filler: true, denied: false, own: true, others: false, missing: false });
      expectAnswers('casbin', {
        wildcard: enforcer.enforceSync(alice.id, tenantId, 'reports', 'export'),
        otherTenant: enforcer.enforceSync(alice.id, 'tnt_other', 'reports', 'export'),
        denied: enforcer.enforceSync(alice.id, tenantId, 'secrets', 'read'),
      }, { wildcard: true, otherTenant: false, denied: false });
      expectAnswers('casl', {
        wildcard: ability.can('export', 'reports'),
        denied: ability.can('read', 'secrets'),
        own: ability.can('update', ownCaslDoc),
        others: ability.can('update', othersCaslDoc),
      }, { wildcard: true, denied: false, own: true, others: false });

      const wildcardCheck = await compareChecks(
        (times) => () => {
          let allowed = 0;
          for (let index = 0; index < times; index += 1) if (compiled.can('reports:export')) allowed += 1;
          return allowed;
        },
        (times) => () => {
          let allowed = 0;
          for (let index = 0; index < times; index += 1) if (enforcer.enforceSync(alice.id, tenantId, 'reports', 'export')) allowed += 1;
          return allowed;
        },
      );
      results.push(
        benchResult({
          suite: 'rbac',
          case: `${rulesLabel(ruleCount)}: wildcard + inheritance check (reports:* two levels down), compiled can()`,
          unit: 'ops/s',
          value: wildcardCheck.ours,
          peer: 'node-casbin enforceSync, RBAC with domains + keyMatch',
          peerValue: wildcardCheck.peer,
        }),
      );

      const deniedCheck = await compareChecks(
        (times) => () => {
          let allowed = 0;
          for (let index = 0; index < times; index += 1) if (compiled.can('secrets:read')) allowed += 1;
          return allowed;
        },
        (times) => () => {
          let allowed = 0;
          for (let index = 0; index < times; index += 1) if (enforcer.enforceSync(alice.id, tenantId, 'secrets', 'read')) allowed += 1;
          return allowed;
        },
      );
      results.push(
        benchResult({
          suite: 'rbac',
          case: `${rulesLabel(ruleCount)}: denied check (no matching rule), compiled can()`,
          unit: 'ops/s',
          value: deniedCheck.ours,
          peer: 'node-casbin enforceSync, RBAC with domains + keyMatch',
          peerValue: deniedCheck.peer,
        }),
      );

      const conditionalCheck = await compareChecks(
        (times) => () => {
          let allowed = 0;
          for (let index = 0; index < times; index += 1) if (compiled.can('docs:update', ownDoc)) allowed += 1;
          return allowed;
        },
        (times) => () => {
          let allowed = 0;
          for (let index = 0; index < times; index += 1) if (ability.can('update', ownCaslDoc)) allowed += 1;
          return allowed;
        },
      );
      results.push(
        benchResult({
          suite: 'rbac',
          case: `${rulesLabel(ruleCount)}: conditional check on an instance (ownerId = principal), compiled can()`,
          unit: 'ops/s',
          value: conditionalCheck.ours,
          peer: 'CASL createMongoAbility ability.can(action, subject instance) with conditions',
          peerValue: conditionalCheck.peer,
        }),
      );

      if (ruleCount === 100_000) {
        const input = compileInputFor(policy);
        const caslRules = caslRulesFor(policy);
        const compile = await compareOps(
          () => compilePermissions(input),
          () => createMongoAbility(caslRules),
          { ...compileOptions, batch: 1 },
        );
        results.push(
          benchResult({
            suite: 'rbac',
            case: `${rulesLabel(ruleCount)}: compilePermissions for one principal (compiles/s; target >= 1, i.e. < 1 s)`,
            unit: 'ops/s',
            value: compile.ours,
            peer: 'CASL createMongoAbility from the same rules, already flattened',
            peerValue: compile.peer,
          }),
        );
      }
    }
    return results;
  },
};
