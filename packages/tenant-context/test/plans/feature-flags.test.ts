import { describe, expect, it } from 'vitest';
import { TenantContextError } from '../../src/errors.js';
import { createFeatureFlags, type FeatureFlagsOptions, type FlagContext } from '../../src/plans/feature-flags.js';
import { definePlans } from '../../src/plans/plan-catalog.js';
import { rolloutBucket } from '../../src/plans/rollout-bucket.js';

const plans = definePlans({
  free: { limits: {}, features: ['basic-reports'] },
  pro: { limits: {}, features: ['basic-reports', 'advanced-reports'] },
  enterprise: { limits: {}, features: ['basic-reports', 'advanced-reports', 'sso'] },
});

const flags = createFeatureFlags({
  plans,
  flags: {
    'new-editor': {
      description: 'The rewritten editor',
      default: false,
      rules: [
        { match: { plan: ['pro', 'enterprise'] }, value: true },
        { match: { region: ['eu-west'] }, value: false },
        { percentage: 25, value: true },
      ],
    },
    'dark-mode': { default: true },
    'beta-api': {
      rules: [
        { match: { country: 'DE', seats: [10, 20] }, value: true },
        { match: { betaOptIn: true, status: 'active' }, percentage: 50, value: true },
      ],
    },
  },
});

type FlagTenant = FlagContext['tenant'];

function tenant(overrides: Partial<FlagTenant> = {}): FlagTenant {
  return { id: 'tnt_acme', slug: 'acme', status: 'active', plan: 'free', region: null, features: {}, ...overrides };
}

/** Captures a synchronous throw so its code can be asserted. */
function thrownBy(fn: () => unknown): TenantContextError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TenantContextError) return error;
    throw error;
  }
  throw new Error('expected the function to throw');
}

/** A tenant id whose rollout bucket for `flag` is below (or at least) `bucket`. */
function tenantIdWithBucket(flag: string, predicate: (bucket: number) => boolean): string {
  for (let i = 0; ; i += 1) {
    const id = `tnt_${i}`;
    if (predicate(rolloutBucket(flag, id))) return id;
  }
}

describe('createFeatureFlags validation', () => {
  const invalid: Array<[string, unknown]> = [
    ['a rule with neither match nor percentage', { flags: { f: { rules: [{ value: true }] } } }],
    ['a percentage above 100', { flags: { f: { rules: [{ percentage: 101, value: true }] } } }],
    ['a negative percentage', { flags: { f: { rules: [{ percentage: -1, value: true }] } } }],
    ['a percentage with three decimals', { flags: { f: { rules: [{ percentage: 12.345, value: true }] } } }],
    ['an empty match', { flags: { f: { rules: [{ match: {}, value: true }] } } }],
    ['a misspelled rule field', { flags: { f: { rules: [{ when: { plan: 'pro' }, value: true }] } } }],
    ['a non-boolean value', { flags: { f: { rules: [{ percentage: 5, value: 'yes' }] } } }],
    ['an object as match value', { flags: { f: { rules: [{ match: { plan: { $ne: 'free' } }, value: true }] } } }],
    ['an empty list as match value', { flags: { f: { rules: [{ match: { plan: [] }, value: true }] } } }],
    ['a non-boolean default', { flags: { f: { default: 'off' } } }],
    ['a flag named "constructor"', { flags: { constructor: { default: false } } }],
    ['a flag name with a slash', { flags: { 'a/b': { default: false } } }],
    ['a match on an unknown plan', { plans, flags: { f: { rules: [{ match: { plan: ['pro', 'enterprsie'] }, value: true }] } } }],
    ['a match on an unknown status', { flags: { f: { rules: [{ match: { status: 'paused' }, value: true }] } } }],
    ['a flag that redefines a plan feature', { plans, flags: { sso: { default: true } } }],
    ['something that is not a catalog as plans', { plans: {}, flags: {} }],
    ['flags missing', {}],
  ];

  it.each(invalid)('rejects %s with CONFIGURATION_INVALID', (_label, options) => {
    expect(thrownBy(() => createFeatureFlags(options as FeatureFlagsOptions)).code).toBe('CONFIGURATION_INVALID');
  });

  it('rejects own "__proto__" keys as flag names and match attributes', () => {
    for (const source of [
      '{"flags": {"__proto__": {"default": true}}}',
      '{"flags": {"f": {"rules": [{"match": {"__proto__": "x"}, "value": true}]}}}',
    ]) {
      expect(thrownBy(() => createFeatureFlags(JSON.parse(source) as FeatureFlagsOptions)).code).toBe(
        'CONFIGURATION_INVALID',
      );
    }
  });

  it('accepts 0 and 100 percent and two decimals', () => {
    const rollouts = createFeatureFlags({
      flags: {
        nobody: { rules: [{ percentage: 0, value: true }] },
        everybody: { rules: [{ percentage: 100, value: true }] },
        fine: { rules: [{ percentage: 12.34, value: true }] },
      },
    });
    const ids = Array.from({ length: 500 }, (_, i) => `tnt_${i}`);
    expect(ids.some((id) => rollouts.isEnabled('nobody', { tenant: tenant({ id }) }))).toBe(false);
    expect(ids.every((id) => rollouts.isEnabled('everybody', { tenant: tenant({ id }) }))).toBe(true);
    for (const id of ids) {
      expect(rollouts.isEnabled('fine', { tenant: tenant({ id }) })).toBe(rolloutBucket('fine', id) < 1234);
    }
  });
});

describe('isEnabled and explain: evaluation order', () => {
  it('lets the tenant override decide first, both ways', () => {
    const forcedOn = tenant({ region: 'eu-west', features: { 'new-editor': true } });
    const forcedOff = tenant({ plan: 'pro', features: { 'new-editor': false } });
    expect(flags.explain('new-editor', { tenant: forcedOn })).toEqual({
      flag: 'new-editor',
      value: true,
      step: 'tenant-override',
    });
    expect(flags.explain('new-editor', { tenant: forcedOff })).toEqual({
      flag: 'new-editor',
      value: false,
      step: 'tenant-override',
    });
    expect(flags.isEnabled('dark-mode', { tenant: tenant({ features: { 'dark-mode': false } }) })).toBe(false);
  });

  it('decides plan features by the plan after the tenant override', () => {
    expect(flags.explain('advanced-reports', { tenant: tenant({ plan: 'pro' }) })).toEqual({
      flag: 'advanced-reports',
      value: true,
      step: 'plan',
      plan: 'pro',
    });
    expect(flags.explain('advanced-reports', { tenant: tenant({ plan: 'free' }) })).toEqual({
      flag: 'advanced-reports',
      value: false,
      step: 'plan',
      plan: 'free',
    });
    const granted = tenant({ plan: 'free', features: { sso: true } });
    expect(flags.explain('sso', { tenant: granted })).toMatchObject({ value: true, step: 'tenant-override' });
    expect(thrownBy(() => flags.isEnabled('sso', { tenant: tenant({ plan: 'gold' }) })).code).toBe('PLAN_NOT_FOUND');
  });

  it('runs rules in order, the first that applies deciding', () => {
    // A pro tenant in eu-west: rule 0 (plan) comes before rule 1 (region).
    expect(flags.explain('new-editor', { tenant: tenant({ plan: 'pro', region: 'eu-west' }) })).toEqual({
      flag: 'new-editor',
      value: true,
      step: 'rule',
      ruleIndex: 0,
      bucket: null,
    });
    // A free tenant in eu-west: rule 1 turns it off even if its bucket is inside the rollout.
    const insideRollout = tenantIdWithBucket('new-editor', (bucket) => bucket < 2500);
    expect(flags.explain('new-editor', { tenant: tenant({ id: insideRollout, region: 'eu-west' }) })).toMatchObject({
      value: false,
      step: 'rule',
      ruleIndex: 1,
    });
  });

  it('applies the percentage rule by bucket, then falls back to the default', () => {
    const inside = tenantIdWithBucket('new-editor', (bucket) => bucket < 2500);
    const outside = tenantIdWithBucket('new-editor', (bucket) => bucket >= 2500);
    expect(flags.explain('new-editor', { tenant: tenant({ id: inside }) })).toEqual({
      flag: 'new-editor',
      value: true,
      step: 'rule',
      ruleIndex: 2,
      bucket: rolloutBucket('new-editor', inside),
    });
    expect(flags.explain('new-editor', { tenant: tenant({ id: outside }) })).toEqual({
      flag: 'new-editor',
      value: false,
      step: 'default',
    });
    expect(flags.explain('dark-mode', { tenant: tenant() })).toEqual({ flag: 'dark-mode', value: true, step: 'default' });
  });

  it('throws VALIDATION_FAILED for an unknown or malformed flag instead of answering false', () => {
    for (const flag of ['new-editr', 'toString', '__proto__', '', 'a b']) {
      expect(thrownBy(() => flags.isEnabled(flag, { tenant: tenant() })).code).toBe('VALIDATION_FAILED');
      expect(thrownBy(() => flags.explain(flag, { tenant: tenant() })).code).toBe('VALIDATION_FAILED');
    }
  });

  it('rejects a malformed context', () => {
    const invalidContexts = [
      {},
      { tenant: null },
      { tenant: { id: 'tnt_1' } },
      { tenant: tenant(), subjectKey: '' },
      { tenant: tenant(), attributes: { plan: 'enterprise' } },
      { tenant: tenant(), attributes: { id: 'tnt_other' } },
      { tenant: tenant(), attributes: { nested: { a: 1 } } },
      { tenant: tenant(), attributes: JSON.parse('{"__proto__": "x"}') },
    ];
    for (const context of invalidContexts) {
      expect(thrownBy(() => flags.isEnabled('dark-mode', context as FlagContext)).code).toBe('VALIDATION_FAILED');
    }
    const badOverrides = tenant({ features: { 'dark-mode': 'no' } as unknown as Record<string, boolean> });
    expect(thrownBy(() => flags.isEnabled('dark-mode', { tenant: badOverrides })).code).toBe('CONFIGURATION_INVALID');
  });
});

describe('attribute rules', () => {
  it('match caller attributes by equality and by membership, every attribute of a rule required', () => {
    const context = (attributes: FlagContext['attributes']) => ({ tenant: tenant(), attributes });
    expect(flags.isEnabled('beta-api', context({ country: 'DE', seats: 20 }))).toBe(true);
    expect(flags.isEnabled('beta-api', context({ country: 'DE', seats: 15 }))).toBe(false);
    expect(flags.isEnabled('beta-api', context({ country: 'FR', seats: 10 }))).toBe(false);
    expect(flags.isEnabled('beta-api', context({ country: 'DE' }))).toBe(false);
  });

  it('compare with === only: no type coercion, no patterns', () => {
    const rollouts = createFeatureFlags({
      flags: {
        f: {
          rules: [
            { match: { seats: 10 }, value: true },
            { match: { team: '.*' }, value: true },
          ],
        },
      },
    });
    const enabled = (attributes: FlagContext['attributes']) => rollouts.isEnabled('f', { tenant: tenant(), attributes });
    expect(enabled({ seats: 10 })).toBe(true);
    expect(enabled({ seats: '10' })).toBe(false);
    expect(enabled({ team: 'platform' })).toBe(false);
    expect(enabled({ team: '.*' })).toBe(true);
  });

  it('treat a missing attribute, a null attribute and a null region as no match', () => {
    const regional = createFeatureFlags({
      flags: {
        f: {
          default: true,
          rules: [
            { match: { region: 'eu-west' }, value: false },
            { match: { tier: 'gold' }, value: false },
          ],
        },
      },
    });
    expect(regional.explain('f', { tenant: tenant({ region: null }) })).toMatchObject({ step: 'default', value: true });
    expect(regional.explain('f', { tenant: tenant(), attributes: { tier: null } })).toMatchObject({ step: 'default' });
    expect(regional.explain('f', { tenant: tenant({ region: 'eu-west' }) })).toMatchObject({ step: 'rule', value: false });
  });

  it('match tenant fields plan, region, status, id and slug', () => {
    const byField = createFeatureFlags({
      flags: {
        byStatus: { rules: [{ match: { status: ['provisioning'] }, value: true }] },
        byId: { rules: [{ match: { id: 'tnt_special' }, value: true }] },
        bySlug: { rules: [{ match: { slug: ['acme', 'globex'] }, value: true }] },
      },
    });
    expect(byField.isEnabled('byStatus', { tenant: tenant({ status: 'provisioning' }) })).toBe(true);
    expect(byField.isEnabled('byStatus', { tenant: tenant({ status: 'active' }) })).toBe(false);
    expect(byField.isEnabled('byId', { tenant: tenant({ id: 'tnt_special' }) })).toBe(true);
    expect(byField.isEnabled('byId', { tenant: tenant() })).toBe(false);
    expect(byField.isEnabled('bySlug', { tenant: tenant({ slug: 'globex' }) })).toBe(true);
    expect(byField.isEnabled('bySlug', { tenant: tenant({ slug: 'initech' }) })).toBe(false);
  });

  it('combine match and percentage in one rule', () => {
    const optedIn = { betaOptIn: true } as const;
    const inside = tenantIdWithBucket('beta-api', (bucket) => bucket < 5000);
    const outside = tenantIdWithBucket('beta-api', (bucket) => bucket >= 5000);
    expect(flags.isEnabled('beta-api', { tenant: tenant({ id: inside }), attributes: optedIn })).toBe(true);
    expect(flags.isEnabled('beta-api', { tenant: tenant({ id: outside }), attributes: optedIn })).toBe(false);
    expect(flags.isEnabled('beta-api', { tenant: tenant({ id: inside }) })).toBe(false);
    expect(flags.isEnabled('beta-api', { tenant: tenant({ id: inside, status: 'suspended' }), attributes: optedIn })).toBe(false);
  });
});

describe('percentage rollout', () => {
  it('uses stable SHA-256 buckets that never change between releases', () => {
    // Computed independently: printf 'new-editor:tnt_acme' | openssl dgst -sha256, first 32 bits mod 10000.
    expect(rolloutBucket('new-editor', 'tnt_acme')).toBe(2790);
    expect(rolloutBucket('new-editor', 'usr_42')).toBe(7838);
    expect(rolloutBucket('checkout-v2', 'tnt_acme')).toBe(1090);
  });

  it('puts 25 % of 10,000 subjects in, within ±2 %', () => {
    const rollout = createFeatureFlags({ flags: { f: { rules: [{ percentage: 25, value: true }] } } });
    let enabled = 0;
    for (let i = 0; i < 10_000; i += 1) {
      if (rollout.isEnabled('f', { tenant: tenant({ id: `tnt_${i}` }) })) enabled += 1;
    }
    expect(enabled).toBeGreaterThanOrEqual(2300);
    expect(enabled).toBeLessThanOrEqual(2700);
  });

  it('is monotonic: everyone in at 10 % is still in at 20 %', () => {
    const at = (percentage: number) => createFeatureFlags({ flags: { f: { rules: [{ percentage, value: true }] } } });
    const ten = at(10);
    const twenty = at(20);
    let inAtTen = 0;
    let inAtTwenty = 0;
    for (let i = 0; i < 10_000; i += 1) {
      const context = { tenant: tenant({ id: `tnt_${i}` }) };
      const before = ten.isEnabled('f', context);
      const after = twenty.isEnabled('f', context);
      if (before) {
        inAtTen += 1;
        expect(after).toBe(true);
      }
      if (after) inAtTwenty += 1;
    }
    expect(inAtTen).toBeGreaterThan(800);
    expect(inAtTwenty).toBeGreaterThan(inAtTen);
  });

  it('buckets by subjectKey when given, so rollouts can be per user', () => {
    const acme = tenant();
    const userIds = Array.from({ length: 200 }, (_, i) => `usr_${i}`);
    const answers = userIds.map((subjectKey) => flags.explain('new-editor', { tenant: acme, subjectKey }));
    for (const [index, decision] of answers.entries()) {
      const inside = rolloutBucket('new-editor', userIds[index]!) < 2500;
      expect(decision.value).toBe(inside);
    }
    expect(new Set(answers.map((decision) => decision.value)).size).toBe(2);
  });

  it('gives the same subject independent buckets in different flags', () => {
    let same = 0;
    for (let i = 0; i < 1000; i += 1) {
      if (rolloutBucket('flag-a', `tnt_${i}`) === rolloutBucket('flag-b', `tnt_${i}`)) same += 1;
    }
    expect(same).toBeLessThan(5);
  });
});

describe('evaluateAll', () => {
  it('returns every defined flag and plan feature', () => {
    const pro = tenant({ plan: 'pro', features: { sso: true, 'dark-mode': false } });
    expect(flags.flagKeys).toEqual(['advanced-reports', 'basic-reports', 'beta-api', 'dark-mode', 'new-editor', 'sso']);
    expect(flags.evaluateAll({ tenant: pro })).toEqual({
      'advanced-reports': true,
      'basic-reports': true,
      'beta-api': false,
      'dark-mode': false,
      'new-editor': true,
      sso: true,
    });
  });

  it('works without a plan catalog (no plan step, plan still matchable)', () => {
    const standalone = createFeatureFlags({ flags: { f: { rules: [{ match: { plan: 'anything' }, value: true }] } } });
    expect(standalone.flagKeys).toEqual(['f']);
    expect(standalone.evaluateAll({ tenant: tenant({ plan: 'anything' }) })).toEqual({ f: true });
    expect(standalone.evaluateAll({ tenant: tenant({ plan: 'anything', features: { f: false } }) })).toEqual({ f: false });
  });
});
