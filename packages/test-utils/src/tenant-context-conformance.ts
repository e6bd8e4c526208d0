import { createId } from '@tenantkit/core';
import type {
  LifecycleArtifact,
  LifecycleRun,
  LifecycleRunQuery,
  Membership,
  MembershipStatus,
  Tenant,
  TenantContextErrorCode,
  TenantContextStores,
  TenantDomain,
  TenantListQuery,
  TenantStatus,
} from '@tenantkit/tenant-context';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDomain, buildLifecycleRun, buildMembership, buildTenant, fixtureEpochMs, padIndex } from './tenant-context-fixtures.js';

/**
 * How the conformance suite gets the stores under test.
 *
 * `setup()` runs before every test and must return stores over empty state (truncate the
 * tables, use a fresh key prefix, or create new in-memory stores). `teardown()`, when given,
 * runs after every test.
 *
 * @example
 * ```ts
 * const factory: ConformanceStoreFactory = {
 *   async setup() {
 *     await truncateTenantContextTables(db);
 *     return kyselyTenantContextStores(db);
 *   },
 * };
 * ```
 */
export interface ConformanceStoreFactory {
  /** Returns the four stores, over empty state. Called before each test. */
  setup(): Promise<TenantContextStores>;
  /** Releases what `setup()` acquired. Called after each test. */
  teardown?(): Promise<void>;
}

/**
 * Registers the shared conformance tests of the four tenant-context store contracts
 * (`TenantStore`, `MembershipStore`, `LifecycleRunStore`, `UsageCounterStore`). Every adapter
 * runs it against a real backend, so the suite assumes nothing beyond the TSDoc of
 * `src/store.ts`: ids used where order matters are same-length lower-case ASCII, so any sane
 * collation sorts them alike, and case-insensitive search is only exercised on ASCII.
 *
 * @example
 * ```ts
 * import { describeTenantContextStoreConformance } from '@tenantkit/test-utils';
 * import { memoryTenantContextStores } from '../../src/adapters/memory.js';
 *
 * describeTenantContextStoreConformance('memory', {
 *   setup: async () => memoryTenantContextStores(),
 * });
 * ```
 */
export function describeTenantContextStoreConformance(name: string, factory: ConformanceStoreFactory): void {
  describe(`${name}: tenant-context store conformance`, () => {
    let stores: TenantContextStores;

    beforeEach(async () => {
      stores = await factory.setup();
    });

    afterEach(async () => {
      await factory.teardown?.();
    });

    describeTenantRecords(() => stores);
    describeTenantListing(() => stores);
    describeDomains(() => stores);
    describeMemberships(() => stores);
    describeLifecycleRuns(() => stores);
    describeUsageCounters(() => stores);
    describeRecordIsolation(() => stores);
    describeTenantIsolationProperty(() => stores);
  });
}

type StoresAccessor = () => TenantContextStores;

async function expectErrorCode(promise: Promise<unknown>, code: TenantContextErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'TenantContextError', code });
}

/** Page sizes every paginated query must refuse. */
const invalidPageLimits: readonly number[] = [0, -1, 501, 1.5, Number.NaN, Number.POSITIVE_INFINITY];

/** Amounts every counter operation must refuse. */
const invalidAmounts: readonly number[] = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1];

/** Every tenant status in lifecycle order (kept local so the suite only depends on types). */
const allTenantStatuses: readonly TenantStatus[] = ['provisioning', 'active', 'suspended', 'offboarding', 'deleted'];

/** The longest tenant search the contract accepts (`maxTenantSearchLength` in the contract). */
const maxTenantSearchLength = 200;

/** Settings that exercise what a JSON column or document can lose: nesting, unicode, numbers. */
const richSettings: Tenant['settings'] = {
  theme: { mode: 'dark', accent: '#ff00aa', nested: { deeper: { deepest: [1, 2, { three: 3 }] } } },
  greeting: 'Grüß Gott — こんにちは — 🚀🇪🇺 — "quoted" \\ back\\slash',
  emptyObject: {},
  emptyArray: [],
  nothing: null,
  enabled: true,
  disabled: false,
  ratio: 0.125,
  negative: -42,
  biggestSafeInteger: Number.MAX_SAFE_INTEGER,
  'dotted.key': 'kept as one key',
  list: ['a', 1, null, false, { k: 'v' }],
};

function byCreatedAtThenId(a: Tenant, b: Tenant): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

async function listAllTenantIds(stores: TenantContextStores, query: Omit<TenantListQuery, 'cursor'>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages += 1) {
    const page = await stores.tenants.listTenants(cursor === undefined ? query : { ...query, cursor });
    expect(page.items.length).toBeLessThanOrEqual(query.limit);
    ids.push(...page.items.map((tenant) => tenant.id));
    if (page.nextCursor === null) return ids;
    expect(typeof page.nextCursor).toBe('string');
    cursor = page.nextCursor;
  }
  throw new Error('listTenants never returned a null cursor');
}

async function listAllMemberUserIds(
  stores: TenantContextStores,
  tenantId: string,
  limit: number,
  status?: readonly MembershipStatus[],
): Promise<string[]> {
  const userIds: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages += 1) {
    const page = await stores.memberships.listMembershipsByTenant(tenantId, {
      limit,
      ...(status === undefined ? {} : { status }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    for (const membership of page.items) expect(membership.tenantId).toBe(tenantId);
    userIds.push(...page.items.map((membership) => membership.userId));
    if (page.nextCursor === null) return userIds;
    expect(typeof page.nextCursor).toBe('string');
    cursor = page.nextCursor;
  }
  throw new Error('listMembershipsByTenant never returned a null cursor');
}

/** Counters may or may not keep a key whose value dropped to 0; compare without them. */
function withoutZeroCounters(counters: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counters).filter(([, value]) => value !== 0));
}

function sortedStrings(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function describeTenantRecords(getStores: StoresAccessor): void {
  describe('TenantStore: tenant records', () => {
    it('round-trips every field by id and by slug', async () => {
      const stores = getStores();
      const rich = buildTenant({
        id: 'tnt_rich',
        slug: 'rich',
        name: 'Rich Tenant — Ünïcödé 🚀',
        status: 'suspended',
        statusReason: 'Payment overdue',
        plan: 'enterprise',
        settings: richSettings,
        features: { sso: true, betaReports: false },
        limits: { users: 250, projects: -1, storageBytes: 10_737_418_240, seats: 0 },
        region: 'eu-west-1',
        createdAt: fixtureEpochMs,
        updatedAt: fixtureEpochMs + 60_001,
        deletedAt: null,
        version: 7,
      });
      const deleted = buildTenant({
        id: 'tnt_gone',
        slug: 'gone',
        status: 'deleted',
        statusReason: 'Closed by owner',
        region: null,
        deletedAt: fixtureEpochMs + 999,
      });
      await stores.tenants.insertTenant(rich);
      await stores.tenants.insertTenant(deleted);

      expect(await stores.tenants.getTenantById('tnt_rich')).toEqual(rich);
      expect(await stores.tenants.getTenantBySlug('rich')).toEqual(rich);
      expect(await stores.tenants.getTenantById('tnt_gone')).toEqual(deleted);
      expect(await stores.tenants.getTenantBySlug('gone')).toEqual(deleted);
      const page = await stores.tenants.listTenants({ limit: 10, status: allTenantStatuses });
      expect(page.items).toEqual([deleted, rich].sort(byCreatedAtThenId));
    });

    it('returns timestamps and versions as numbers', async () => {
      const stores = getStores();
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_numbers', deletedAt: fixtureEpochMs + 5 }));
      const stored = await stores.tenants.getTenantById('tnt_numbers');
      expect(typeof stored?.createdAt).toBe('number');
      expect(typeof stored?.updatedAt).toBe('number');
      expect(typeof stored?.deletedAt).toBe('number');
      expect(typeof stored?.version).toBe('number');
    });

    it('returns null for an unknown id or slug', async () => {
      const stores = getStores();
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_known', slug: 'known' }));
      expect(await stores.tenants.getTenantById('tnt_unknown')).toBeNull();
      expect(await stores.tenants.getTenantBySlug('unknown')).toBeNull();
    });

    it('treats ids that differ only in case as different tenants', async () => {
      const stores = getStores();
      const lower = buildTenant({ id: 'tnt_casea', slug: 'case-lower' });
      const upper = buildTenant({ id: 'tnt_CaseA', slug: 'case-upper' });
      await stores.tenants.insertTenant(lower);
      await stores.tenants.insertTenant(upper);
      expect(await stores.tenants.getTenantById('tnt_casea')).toEqual(lower);
      expect(await stores.tenants.getTenantById('tnt_CaseA')).toEqual(upper);
      expect(await stores.tenants.getTenantById('TNT_CASEA')).toBeNull();
    });

    it('rejects a taken id with TENANT_ALREADY_EXISTS and writes nothing', async () => {
      const stores = getStores();
      const original = buildTenant({ id: 'tnt_a', slug: 'alpha' });
      await stores.tenants.insertTenant(original);
      await expectErrorCode(
        stores.tenants.insertTenant(buildTenant({ id: 'tnt_a', slug: 'other', name: 'Impostor' })),
        'TENANT_ALREADY_EXISTS',
      );
      expect(await stores.tenants.getTenantById('tnt_a')).toEqual(original);
      expect(await stores.tenants.getTenantBySlug('other')).toBeNull();
      expect((await stores.tenants.listTenants({ limit: 10 })).items).toEqual([original]);
    });

    it('rejects a taken slug with TENANT_ALREADY_EXISTS, a deleted tenant\'s included', async () => {
      const stores = getStores();
      const live = buildTenant({ id: 'tnt_live', slug: 'live' });
      const deleted = buildTenant({ id: 'tnt_dead', slug: 'dead', status: 'deleted', deletedAt: fixtureEpochMs });
      await stores.tenants.insertTenant(live);
      await stores.tenants.insertTenant(deleted);
      await expectErrorCode(stores.tenants.insertTenant(buildTenant({ id: 'tnt_new1', slug: 'live' })), 'TENANT_ALREADY_EXISTS');
      await expectErrorCode(stores.tenants.insertTenant(buildTenant({ id: 'tnt_new2', slug: 'dead' })), 'TENANT_ALREADY_EXISTS');
      expect(await stores.tenants.getTenantById('tnt_new1')).toBeNull();
      expect(await stores.tenants.getTenantById('tnt_new2')).toBeNull();
      expect(await stores.tenants.getTenantBySlug('live')).toEqual(live);
      expect(await stores.tenants.getTenantBySlug('dead')).toEqual(deleted);
    });

    it('lets exactly one of concurrent inserts with the same slug win', async () => {
      const stores = getStores();
      const contenders = Array.from({ length: 8 }, (_, index) => buildTenant({ id: `tnt_race${index}`, slug: 'contested' }));
      const results = await Promise.allSettled(contenders.map((tenant) => stores.tenants.insertTenant(tenant)));
      const winners = results.flatMap((result, index) => (result.status === 'fulfilled' ? [contenders[index]] : []));
      expect(winners).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'TENANT_ALREADY_EXISTS' });
      }
      expect(await stores.tenants.getTenantBySlug('contested')).toEqual(winners[0]);
      expect((await stores.tenants.listTenants({ limit: 50 })).items).toHaveLength(1);
    });

    it('replaces every field when the expected version matches', async () => {
      const stores = getStores();
      const original = buildTenant({
        id: 'tnt_a',
        slug: 'alpha',
        settings: { keep: 1, drop: 'me', nested: { a: 1 } },
        features: { sso: true },
        limits: { users: 5 },
      });
      await stores.tenants.insertTenant(original);
      const updated: Tenant = {
        ...original,
        slug: 'alpha-renamed',
        name: 'Alpha Renamed ✓',
        status: 'suspended',
        statusReason: 'Abuse report',
        plan: 'pro',
        settings: { keep: 2, nested: { b: [true, null] }, added: 'ü' },
        features: { reports: false },
        limits: { users: -1, projects: 3 },
        region: 'us-east-1',
        updatedAt: fixtureEpochMs + 1_000,
        version: 2,
      };
      expect(await stores.tenants.updateTenant(updated, 1)).toBe(true);
      expect(await stores.tenants.getTenantById('tnt_a')).toEqual(updated);
      expect(await stores.tenants.getTenantBySlug('alpha-renamed')).toEqual(updated);
      expect(await stores.tenants.getTenantBySlug('alpha')).toBeNull();

      const softDeleted: Tenant = { ...updated, status: 'deleted', deletedAt: fixtureEpochMs + 2_000, region: null, version: 3 };
      expect(await stores.tenants.updateTenant(softDeleted, 2)).toBe(true);
      expect(await stores.tenants.getTenantById('tnt_a')).toEqual(softDeleted);
    });

    it('frees the old slug after a slug change', async () => {
      const stores = getStores();
      const original = buildTenant({ id: 'tnt_a', slug: 'first' });
      await stores.tenants.insertTenant(original);
      expect(await stores.tenants.updateTenant({ ...original, slug: 'second', version: 2 }, 1)).toBe(true);
      const newcomer = buildTenant({ id: 'tnt_b', slug: 'first' });
      await stores.tenants.insertTenant(newcomer);
      expect(await stores.tenants.getTenantBySlug('first')).toEqual(newcomer);
      expect((await stores.tenants.getTenantBySlug('second'))?.id).toBe('tnt_a');
    });

    it('returns false and changes nothing when the version differs', async () => {
      const stores = getStores();
      const original = buildTenant({ id: 'tnt_a', slug: 'alpha' });
      await stores.tenants.insertTenant(original);
      expect(await stores.tenants.updateTenant({ ...original, name: 'Too new', version: 6 }, 5)).toBe(false);
      expect(await stores.tenants.getTenantById('tnt_a')).toEqual(original);

      const second: Tenant = { ...original, name: 'Second', version: 2 };
      expect(await stores.tenants.updateTenant(second, 1)).toBe(true);
      // A writer that read version 1 before the update above must lose.
      expect(await stores.tenants.updateTenant({ ...original, name: 'Stale', slug: 'stale', version: 2 }, 1)).toBe(false);
      expect(await stores.tenants.getTenantById('tnt_a')).toEqual(second);
      expect(await stores.tenants.getTenantBySlug('stale')).toBeNull();
    });

    it('returns false for an unknown tenant and does not create it', async () => {
      const stores = getStores();
      const ghost = buildTenant({ id: 'tnt_ghost', slug: 'ghost', version: 2 });
      expect(await stores.tenants.updateTenant(ghost, 1)).toBe(false);
      expect(await stores.tenants.getTenantById('tnt_ghost')).toBeNull();
      expect(await stores.tenants.getTenantBySlug('ghost')).toBeNull();
    });

    it('rejects a slug held by another tenant, a deleted one included, and changes nothing', async () => {
      const stores = getStores();
      const a = buildTenant({ id: 'tnt_a', slug: 'alpha' });
      const b = buildTenant({ id: 'tnt_b', slug: 'beta' });
      const deleted = buildTenant({ id: 'tnt_d', slug: 'deleted-one', status: 'deleted', deletedAt: fixtureEpochMs });
      for (const tenant of [a, b, deleted]) await stores.tenants.insertTenant(tenant);

      await expectErrorCode(stores.tenants.updateTenant({ ...a, slug: 'beta', name: 'X', version: 2 }, 1), 'TENANT_ALREADY_EXISTS');
      await expectErrorCode(stores.tenants.updateTenant({ ...a, slug: 'deleted-one', version: 2 }, 1), 'TENANT_ALREADY_EXISTS');
      expect(await stores.tenants.getTenantById('tnt_a')).toEqual(a);
      expect(await stores.tenants.getTenantBySlug('beta')).toEqual(b);
      expect(await stores.tenants.getTenantBySlug('deleted-one')).toEqual(deleted);
      // The failed writes did not consume the version.
      expect(await stores.tenants.updateTenant({ ...a, name: 'Fine', version: 2 }, 1)).toBe(true);
    });

    it('keeps its own slug on an update that does not change it', async () => {
      const stores = getStores();
      const a = buildTenant({ id: 'tnt_a', slug: 'alpha' });
      await stores.tenants.insertTenant(a);
      expect(await stores.tenants.updateTenant({ ...a, name: 'Same slug', version: 2 }, 1)).toBe(true);
      expect((await stores.tenants.getTenantBySlug('alpha'))?.name).toBe('Same slug');
    });

    it('lets exactly one of concurrent compare-and-set updates win', async () => {
      const stores = getStores();
      const original = buildTenant({ id: 'tnt_a', slug: 'alpha' });
      await stores.tenants.insertTenant(original);
      const attempts = Array.from({ length: 10 }, (_, index): Tenant => ({ ...original, name: `Writer ${index}`, version: 2 }));
      const results = await Promise.all(attempts.map((tenant) => stores.tenants.updateTenant(tenant, 1)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = attempts[results.indexOf(true)];
      expect(await stores.tenants.getTenantById('tnt_a')).toEqual(winner);
    });

    it('purges only while the stored status and version still match', async () => {
      const stores = getStores();
      const tenant = buildTenant({ id: 'tnt_a', slug: 'alpha', status: 'provisioning' });
      await stores.tenants.insertTenant(tenant);
      const domain = buildDomain({ tenantId: 'tnt_a', hostname: 'one.alpha.test' });
      await stores.tenants.insertDomain(domain);
      expect(await stores.tenants.purgeTenant('tnt_a', { status: 'active', version: tenant.version })).toBe(false);
      expect(await stores.tenants.purgeTenant('tnt_a', { status: 'provisioning', version: tenant.version + 1 })).toBe(false);
      // Activated between the caller's read and its purge: the stale condition must not match.
      const activated = { ...tenant, status: 'active' as const, version: tenant.version + 1, updatedAt: tenant.updatedAt + 1 };
      expect(await stores.tenants.updateTenant(activated, tenant.version)).toBe(true);
      expect(await stores.tenants.purgeTenant('tnt_a', { status: 'provisioning', version: tenant.version })).toBe(false);
      expect(await stores.tenants.getTenantById('tnt_a')).toEqual(activated);
      expect(await stores.tenants.listDomains('tnt_a')).toEqual([domain]);
      expect(await stores.tenants.purgeTenant('tnt_a', { status: 'active', version: activated.version })).toBe(true);
      expect(await stores.tenants.getTenantById('tnt_a')).toBeNull();
      expect(await stores.tenants.listDomains('tnt_a')).toEqual([]);
    });

    it('purges a tenant with its domains and frees its id, slug and host names', async () => {
      const stores = getStores();
      const a = buildTenant({ id: 'tnt_a', slug: 'alpha' });
      const b = buildTenant({ id: 'tnt_b', slug: 'beta' });
      await stores.tenants.insertTenant(a);
      await stores.tenants.insertTenant(b);
      await stores.tenants.insertDomain(buildDomain({ tenantId: 'tnt_a', hostname: 'one.alpha.test' }));
      await stores.tenants.insertDomain(buildDomain({ tenantId: 'tnt_a', hostname: 'two.alpha.test', status: 'verified', verifiedAt: fixtureEpochMs }));
      const bDomain = buildDomain({ tenantId: 'tnt_b', hostname: 'beta.test' });
      await stores.tenants.insertDomain(bDomain);

      expect(await stores.tenants.purgeTenant('tnt_a', { status: a.status, version: a.version })).toBe(true);
      expect(await stores.tenants.getTenantById('tnt_a')).toBeNull();
      expect(await stores.tenants.getTenantBySlug('alpha')).toBeNull();
      expect(await stores.tenants.getDomain('one.alpha.test')).toBeNull();
      expect(await stores.tenants.getDomain('two.alpha.test')).toBeNull();
      expect(await stores.tenants.listDomains('tnt_a')).toEqual([]);
      expect(await stores.tenants.getTenantById('tnt_b')).toEqual(b);
      expect(await stores.tenants.listDomains('tnt_b')).toEqual([bDomain]);
      expect(await stores.tenants.purgeTenant('tnt_a', { status: a.status, version: a.version })).toBe(false);
      expect(await stores.tenants.purgeTenant('tnt_never', { status: 'active', version: 1 })).toBe(false);

      await stores.tenants.insertTenant(a);
      await stores.tenants.insertDomain(buildDomain({ tenantId: 'tnt_b', hostname: 'one.alpha.test' }));
      expect(await stores.tenants.getTenantBySlug('alpha')).toEqual(a);
      expect((await stores.tenants.getDomain('one.alpha.test'))?.tenantId).toBe('tnt_b');
    });
  });
}

function describeTenantListing(getStores: StoresAccessor): void {
  describe('TenantStore: listTenants', () => {
    it('returns an empty last page over an empty store', async () => {
      expect(await getStores().tenants.listTenants({ limit: 10 })).toEqual({ items: [], nextCursor: null });
    });

    it('excludes deleted tenants unless the status filter asks for them', async () => {
      const stores = getStores();
      const tenants = allTenantStatuses.map((status, index) =>
        buildTenant({
          id: `tnt_${status}`,
          slug: status,
          status,
          createdAt: fixtureEpochMs + index,
          deletedAt: status === 'deleted' ? fixtureEpochMs : null,
        }),
      );
      for (const tenant of tenants) await stores.tenants.insertTenant(tenant);
      const ids = async (status?: readonly TenantStatus[]) =>
        (await stores.tenants.listTenants(status === undefined ? { limit: 50 } : { limit: 50, status })).items.map((t) => t.id);

      expect(await ids()).toEqual(['tnt_provisioning', 'tnt_active', 'tnt_suspended', 'tnt_offboarding']);
      expect(await ids(['deleted'])).toEqual(['tnt_deleted']);
      expect(await ids(['suspended', 'active'])).toEqual(['tnt_active', 'tnt_suspended']);
      expect(await ids(allTenantStatuses)).toEqual(tenants.map((tenant) => tenant.id));
      expect(await ids([])).toEqual([]);
    });

    it('filters by plan, alone and with a status filter', async () => {
      const stores = getStores();
      const specs: [string, string, TenantStatus][] = [
        ['tnt_1', 'free', 'active'],
        ['tnt_2', 'pro', 'active'],
        ['tnt_3', 'pro', 'suspended'],
        ['tnt_4', 'pro', 'deleted'],
        ['tnt_5', 'enterprise', 'active'],
      ];
      for (const [index, [id, plan, status]] of specs.entries()) {
        await stores.tenants.insertTenant(buildTenant({ id, plan, status, createdAt: fixtureEpochMs + index }));
      }
      const ids = async (query: Omit<TenantListQuery, 'limit'>) =>
        (await stores.tenants.listTenants({ limit: 50, ...query })).items.map((t) => t.id);
      expect(await ids({ plan: 'pro' })).toEqual(['tnt_2', 'tnt_3']);
      expect(await ids({ plan: 'pro', status: ['active', 'deleted'] })).toEqual(['tnt_2', 'tnt_4']);
      expect(await ids({ plan: 'missing' })).toEqual([]);
    });

    it('searches slug and name case-insensitively for a substring', async () => {
      const stores = getStores();
      const specs: [string, string, string][] = [
        ['tnt_1', 'acme-corp', 'Something Else'],
        ['tnt_2', 'other', 'The ACME Group'],
        ['tnt_3', 'globex', 'Globex Inc'],
        ['tnt_4', 'initech', 'Initech'],
      ];
      for (const [index, [id, slug, name]] of specs.entries()) {
        await stores.tenants.insertTenant(buildTenant({ id, slug, name, createdAt: fixtureEpochMs + index }));
      }
      const ids = async (search: string) => (await stores.tenants.listTenants({ limit: 50, search })).items.map((t) => t.id);
      expect(await ids('AcMe')).toEqual(['tnt_1', 'tnt_2']);
      expect(await ids('corp')).toEqual(['tnt_1']);
      expect(await ids('GROUP')).toEqual(['tnt_2']);
      expect(await ids('x inc')).toEqual(['tnt_3']);
      expect(await ids('nomatch')).toEqual([]);
    });

    it('matches %, _ and \\ in a search literally', async () => {
      const stores = getStores();
      const specs: [string, string][] = [
        ['tnt_1', '100% Organic'],
        ['tnt_2', '1000 Organic'],
        ['tnt_3', 'snake_case Ltd'],
        ['tnt_4', 'snakeXcase Ltd'],
        ['tnt_5', 'back\\slash'],
        ['tnt_6', 'backslash'],
      ];
      for (const [index, [id, name]] of specs.entries()) {
        await stores.tenants.insertTenant(buildTenant({ id, slug: `literal-${index}`, name, createdAt: fixtureEpochMs + index }));
      }
      const ids = async (search: string) => (await stores.tenants.listTenants({ limit: 50, search })).items.map((t) => t.id);
      expect(await ids('%')).toEqual(['tnt_1']);
      expect(await ids('100%')).toEqual(['tnt_1']);
      expect(await ids('0% o')).toEqual(['tnt_1']);
      expect(await ids('_')).toEqual(['tnt_3']);
      expect(await ids('e_c')).toEqual(['tnt_3']);
      expect(await ids('\\')).toEqual(['tnt_5']);
      expect(await ids('k\\s')).toEqual(['tnt_5']);
      expect(await ids('\\%')).toEqual([]);
      expect(await ids('%%')).toEqual([]);
    });

    it('combines search with status and plan filters', async () => {
      const stores = getStores();
      const specs: [string, string, string, TenantStatus][] = [
        ['tnt_1', 'acme-one', 'pro', 'active'],
        ['tnt_2', 'acme-two', 'free', 'active'],
        ['tnt_3', 'acme-three', 'pro', 'suspended'],
        ['tnt_4', 'acme-four', 'pro', 'deleted'],
        ['tnt_5', 'globex', 'pro', 'active'],
      ];
      for (const [index, [id, slug, plan, status]] of specs.entries()) {
        await stores.tenants.insertTenant(buildTenant({ id, slug, plan, status, createdAt: fixtureEpochMs + index }));
      }
      const ids = async (query: Omit<TenantListQuery, 'limit'>) =>
        (await stores.tenants.listTenants({ limit: 50, ...query })).items.map((t) => t.id);
      expect(await ids({ search: 'acme', plan: 'pro' })).toEqual(['tnt_1', 'tnt_3']);
      expect(await ids({ search: 'acme', plan: 'pro', status: ['active'] })).toEqual(['tnt_1']);
      expect(await ids({ search: 'ACME', status: ['deleted', 'suspended'] })).toEqual(['tnt_3', 'tnt_4']);
    });

    it(`accepts a search of ${maxTenantSearchLength} characters and refuses a longer one with VALIDATION_FAILED`, async () => {
      const stores = getStores();
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_long', slug: 'long-name', name: 'a'.repeat(maxTenantSearchLength) }));
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_short', slug: 'short', name: 'aaa', createdAt: fixtureEpochMs + 1 }));
      const ids = async (search: string) => (await stores.tenants.listTenants({ limit: 50, search })).items.map((t) => t.id);

      expect(await ids('A'.repeat(maxTenantSearchLength))).toEqual(['tnt_long']);
      // Escaping may double a pattern's length; the longest search still works when it does.
      expect(await ids('%_!\\'.repeat(maxTenantSearchLength / 4))).toEqual([]);
      // Characters are counted as JavaScript counts them: an emoji outside the BMP counts two.
      expect(await ids('🚀'.repeat(maxTenantSearchLength / 2))).toEqual([]);

      for (const search of ['a'.repeat(maxTenantSearchLength + 1), '🚀'.repeat(maxTenantSearchLength / 2 + 1), 'a'.repeat(50_000)]) {
        await expectErrorCode(stores.tenants.listTenants({ limit: 50, search }), 'VALIDATION_FAILED');
        // Whatever else the query says, even when it could match nothing anyway.
        await expectErrorCode(stores.tenants.listTenants({ limit: 50, search, status: [] }), 'VALIDATION_FAILED');
      }
      await expectErrorCode(stores.tenants.listTenants({ limit: 50, search: 42 as never }), 'VALIDATION_FAILED');
      await expectErrorCode(stores.tenants.listTenants({ limit: 50, search: { $ne: null } as never }), 'VALIDATION_FAILED');
    });

    it('pages through 125 tenants in createdAt-then-id order with no gaps or duplicates', async () => {
      const stores = getStores();
      // Five tenants share each createdAt, and ids are assigned out of insertion order, so both
      // sort keys matter and neither insertion order nor id order alone gives the answer.
      const tenants = Array.from({ length: 125 }, (_, index) =>
        buildTenant({
          id: `tnt_${padIndex((index * 37) % 125)}`,
          createdAt: fixtureEpochMs + Math.floor(index / 5) * 1_000,
        }),
      );
      for (const tenant of [...tenants].reverse()) await stores.tenants.insertTenant(tenant);
      const expected = [...tenants].sort(byCreatedAtThenId).map((tenant) => tenant.id);

      const pageSizes: number[] = [];
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await stores.tenants.listTenants(cursor === undefined ? { limit: 10 } : { limit: 10, cursor });
        pageSizes.push(page.items.length);
        seen.push(...page.items.map((tenant) => tenant.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined && pageSizes.length < 50);

      expect(seen).toEqual(expected);
      expect(pageSizes).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 5]);
      // The same query gives the same pages again.
      expect(await listAllTenantIds(stores, { limit: 10 })).toEqual(expected);
      expect(await listAllTenantIds(stores, { limit: 500 })).toEqual(expected);
      expect(await listAllTenantIds(stores, { limit: 1 })).toEqual(expected);
    });

    it('pages through a filtered list', async () => {
      const stores = getStores();
      const tenants = Array.from({ length: 40 }, (_, index) =>
        buildTenant({
          id: `tnt_${padIndex(index)}`,
          status: index % 3 === 0 ? 'suspended' : index % 7 === 0 ? 'deleted' : 'active',
          plan: index % 2 === 0 ? 'pro' : 'free',
          name: index % 5 === 0 ? `Findme ${index}` : `Tenant ${index}`,
          createdAt: fixtureEpochMs + (index % 4) * 10,
        }),
      );
      for (const tenant of tenants) await stores.tenants.insertTenant(tenant);
      const expectedFor = (keep: (tenant: Tenant) => boolean) => tenants.filter(keep).sort(byCreatedAtThenId).map((t) => t.id);

      expect(await listAllTenantIds(stores, { limit: 3, status: ['active'], plan: 'pro' })).toEqual(
        expectedFor((t) => t.status === 'active' && t.plan === 'pro'),
      );
      expect(await listAllTenantIds(stores, { limit: 4 })).toEqual(expectedFor((t) => t.status !== 'deleted'));
      expect(await listAllTenantIds(stores, { limit: 2, search: 'FINDME', status: ['active', 'suspended', 'deleted'] })).toEqual(
        expectedFor((t) => t.name.startsWith('Findme')),
      );
    });

    it('returns a null cursor on a last page that is exactly full', async () => {
      const stores = getStores();
      for (let index = 0; index < 20; index += 1) {
        await stores.tenants.insertTenant(buildTenant({ id: `tnt_${padIndex(index)}`, createdAt: fixtureEpochMs + index }));
      }
      const first = await stores.tenants.listTenants({ limit: 10 });
      expect(first.items).toHaveLength(10);
      expect(first.nextCursor).not.toBeNull();
      const second = await stores.tenants.listTenants({ limit: 10, cursor: first.nextCursor ?? '' });
      expect(second.items.map((t) => t.id)).toEqual(Array.from({ length: 10 }, (_, index) => `tnt_${padIndex(index + 10)}`));
      expect(second.nextCursor).toBeNull();
      const whole = await stores.tenants.listTenants({ limit: 20 });
      expect(whole.items).toHaveLength(20);
      expect(whole.nextCursor).toBeNull();
    });

    it('keeps keyset pagination stable while tenants are inserted and purged', async () => {
      const stores = getStores();
      for (let index = 0; index < 30; index += 1) {
        await stores.tenants.insertTenant(buildTenant({ id: `tnt_${padIndex(index)}`, createdAt: fixtureEpochMs + index * 1_000 }));
      }
      const first = await stores.tenants.listTenants({ limit: 10 });
      expect(first.items.map((t) => t.id)).toEqual(Array.from({ length: 10 }, (_, index) => `tnt_${padIndex(index)}`));
      // Concurrent changes: one tenant sorts before the cursor, one after; the cursor's own
      // row and an already-listed row disappear.
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_early', createdAt: fixtureEpochMs - 1 }));
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_late', createdAt: fixtureEpochMs + 100_000 }));
      expect(await stores.tenants.purgeTenant('tnt_0009', { status: 'active', version: 1 })).toBe(true);
      expect(await stores.tenants.purgeTenant('tnt_0003', { status: 'active', version: 1 })).toBe(true);

      const rest: string[] = [];
      let cursor = first.nextCursor;
      while (cursor !== null) {
        const page = await stores.tenants.listTenants({ limit: 10, cursor });
        rest.push(...page.items.map((t) => t.id));
        cursor = page.nextCursor;
      }
      expect(rest).toEqual([...Array.from({ length: 20 }, (_, index) => `tnt_${padIndex(index + 10)}`), 'tnt_late']);
    });

    it('rejects a page size outside 1..500 with VALIDATION_FAILED', async () => {
      const stores = getStores();
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_a' }));
      for (const limit of invalidPageLimits) {
        await expectErrorCode(stores.tenants.listTenants({ limit }), 'VALIDATION_FAILED');
      }
      expect((await stores.tenants.listTenants({ limit: 1 })).items).toHaveLength(1);
      expect((await stores.tenants.listTenants({ limit: 500 })).items).toHaveLength(1);
    });
  });
}

function describeDomains(getStores: StoresAccessor): void {
  describe('TenantStore: custom domains', () => {
    beforeEach(async () => {
      const stores = getStores();
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_a', slug: 'alpha' }));
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_b', slug: 'beta' }));
    });

    it('round-trips pending and verified domains by host name', async () => {
      const stores = getStores();
      const pending = buildDomain({ tenantId: 'tnt_a', hostname: 'app.alpha.test', verificationToken: 'tk_Zx9-_abc' });
      const verified = buildDomain({
        tenantId: 'tnt_a',
        hostname: 'xn--bcher-kva.example',
        status: 'verified',
        createdAt: fixtureEpochMs + 1,
        verifiedAt: fixtureEpochMs + 86_400_001,
      });
      await stores.tenants.insertDomain(pending);
      await stores.tenants.insertDomain(verified);
      expect(await stores.tenants.getDomain('app.alpha.test')).toEqual(pending);
      expect(await stores.tenants.getDomain('xn--bcher-kva.example')).toEqual(verified);
      expect(await stores.tenants.getDomain('unknown.test')).toBeNull();
    });

    it('lists only the tenant\'s own domains, ordered by host name', async () => {
      const stores = getStores();
      for (const hostname of ['gamma.example.test', 'alpha.example.test', 'beta.example.test']) {
        await stores.tenants.insertDomain(buildDomain({ tenantId: 'tnt_a', hostname }));
      }
      const foreign = buildDomain({ tenantId: 'tnt_b', hostname: 'delta.example.test' });
      await stores.tenants.insertDomain(foreign);
      expect((await stores.tenants.listDomains('tnt_a')).map((d) => d.hostname)).toEqual([
        'alpha.example.test',
        'beta.example.test',
        'gamma.example.test',
      ]);
      expect(await stores.tenants.listDomains('tnt_b')).toEqual([foreign]);
      expect(await stores.tenants.listDomains('tnt_unknown')).toEqual([]);
    });

    it('rejects a claimed host name with DOMAIN_TAKEN, whoever holds it', async () => {
      const stores = getStores();
      const original = buildDomain({ tenantId: 'tnt_a', hostname: 'shop.alpha.test' });
      await stores.tenants.insertDomain(original);
      await expectErrorCode(
        stores.tenants.insertDomain(buildDomain({ tenantId: 'tnt_b', hostname: 'shop.alpha.test', verificationToken: 'stolen' })),
        'DOMAIN_TAKEN',
      );
      await expectErrorCode(
        stores.tenants.insertDomain(buildDomain({ tenantId: 'tnt_a', hostname: 'shop.alpha.test', status: 'verified', verifiedAt: 1 })),
        'DOMAIN_TAKEN',
      );
      expect(await stores.tenants.getDomain('shop.alpha.test')).toEqual(original);
      expect(await stores.tenants.listDomains('tnt_b')).toEqual([]);
    });

    it('lets exactly one of concurrent claims of a host name win', async () => {
      const stores = getStores();
      const claims = ['tnt_a', 'tnt_b', 'tnt_a', 'tnt_b', 'tnt_a', 'tnt_b'].map((tenantId, index) =>
        buildDomain({ tenantId, hostname: 'contested.test', verificationToken: `claim-${index}` }),
      );
      const results = await Promise.allSettled(claims.map((domain) => stores.tenants.insertDomain(domain)));
      const winners = claims.filter((_, index) => results[index]?.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'DOMAIN_TAKEN' });
      }
      expect(await stores.tenants.getDomain('contested.test')).toEqual(winners[0]);
    });

    it('updates status, token and verifiedAt of the tenant\'s own domain only', async () => {
      const stores = getStores();
      const original = buildDomain({ tenantId: 'tnt_a', hostname: 'app.alpha.test', verificationToken: 'old' });
      await stores.tenants.insertDomain(original);

      const hijack: TenantDomain = { ...original, tenantId: 'tnt_b', status: 'verified', verificationToken: 'evil', verifiedAt: 5 };
      expect(await stores.tenants.updateDomain(hijack)).toBe(false);
      expect(await stores.tenants.getDomain('app.alpha.test')).toEqual(original);

      const verified: TenantDomain = {
        ...original,
        status: 'verified',
        verificationToken: 'new',
        verifiedAt: fixtureEpochMs + 7,
        createdAt: fixtureEpochMs + 999_999,
      };
      expect(await stores.tenants.updateDomain(verified)).toBe(true);
      // createdAt is not among the replaced fields.
      expect(await stores.tenants.getDomain('app.alpha.test')).toEqual({ ...verified, createdAt: original.createdAt });
      expect(await stores.tenants.listDomains('tnt_a')).toEqual([{ ...verified, createdAt: original.createdAt }]);

      expect(await stores.tenants.updateDomain(buildDomain({ tenantId: 'tnt_a', hostname: 'missing.test' }))).toBe(false);
      expect(await stores.tenants.getDomain('missing.test')).toBeNull();
    });

    it('deletes a domain under a condition only while its status and createdAt still match', async () => {
      const stores = getStores();
      const pending = buildDomain({ tenantId: 'tnt_a', hostname: 'app.alpha.test' });
      await stores.tenants.insertDomain(pending);
      expect(await stores.tenants.deleteDomain('tnt_a', 'app.alpha.test', { status: 'verified', createdAt: pending.createdAt })).toBe(false);
      expect(await stores.tenants.deleteDomain('tnt_a', 'app.alpha.test', { status: 'pending', createdAt: pending.createdAt + 1 })).toBe(false);
      // Verified between the caller's read and its delete: the stale condition must not match.
      const verified = { ...pending, status: 'verified' as const, verifiedAt: fixtureEpochMs + 1_000 };
      expect(await stores.tenants.updateDomain(verified)).toBe(true);
      expect(await stores.tenants.deleteDomain('tnt_a', 'app.alpha.test', { status: 'pending', createdAt: pending.createdAt })).toBe(false);
      expect(await stores.tenants.getDomain('app.alpha.test')).toEqual(verified);
      expect(await stores.tenants.deleteDomain('tnt_b', 'app.alpha.test', { status: 'verified', createdAt: pending.createdAt })).toBe(false);
      expect(await stores.tenants.deleteDomain('tnt_a', 'app.alpha.test', { status: 'verified', createdAt: pending.createdAt })).toBe(true);
      expect(await stores.tenants.getDomain('app.alpha.test')).toBeNull();
    });

    it('deletes the tenant\'s own domain only, and frees its host name', async () => {
      const stores = getStores();
      const domain = buildDomain({ tenantId: 'tnt_a', hostname: 'app.alpha.test' });
      await stores.tenants.insertDomain(domain);
      expect(await stores.tenants.deleteDomain('tnt_b', 'app.alpha.test')).toBe(false);
      expect(await stores.tenants.getDomain('app.alpha.test')).toEqual(domain);
      expect(await stores.tenants.deleteDomain('tnt_a', 'app.alpha.test')).toBe(true);
      expect(await stores.tenants.getDomain('app.alpha.test')).toBeNull();
      expect(await stores.tenants.listDomains('tnt_a')).toEqual([]);
      expect(await stores.tenants.deleteDomain('tnt_a', 'app.alpha.test')).toBe(false);

      const reclaimed = buildDomain({ tenantId: 'tnt_b', hostname: 'app.alpha.test' });
      await stores.tenants.insertDomain(reclaimed);
      expect(await stores.tenants.getDomain('app.alpha.test')).toEqual(reclaimed);
    });
  });
}

function describeMemberships(getStores: StoresAccessor): void {
  describe('MembershipStore', () => {
    beforeEach(async () => {
      const stores = getStores();
      for (const id of ['tnt_a', 'tnt_b', 'tnt_c']) await stores.tenants.insertTenant(buildTenant({ id }));
    });

    it('round-trips every field', async () => {
      const stores = getStores();
      const invited = buildMembership({
        tenantId: 'tnt_a',
        userId: 'auth0|usr.1@example.com',
        status: 'invited',
        invitedBy: 'usr_admin',
        createdAt: fixtureEpochMs + 1,
        updatedAt: fixtureEpochMs + 2,
      });
      const active = buildMembership({ tenantId: 'tnt_a', userId: 'usr_2', status: 'active', invitedBy: null });
      await stores.memberships.insertMembership(invited);
      await stores.memberships.insertMembership(active);
      expect(await stores.memberships.getMembership('tnt_a', 'auth0|usr.1@example.com')).toEqual(invited);
      expect(await stores.memberships.getMembership('tnt_a', 'usr_2')).toEqual(active);
      expect(await stores.memberships.getMembership('tnt_b', 'usr_2')).toBeNull();
      expect(await stores.memberships.getMembership('tnt_a', 'usr_unknown')).toBeNull();
    });

    it('rejects a duplicate (tenantId, userId) with MEMBERSHIP_ALREADY_EXISTS and writes nothing', async () => {
      const stores = getStores();
      const original = buildMembership({ tenantId: 'tnt_a', userId: 'usr_1', status: 'active' });
      await stores.memberships.insertMembership(original);
      await expectErrorCode(
        stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'usr_1', status: 'suspended', invitedBy: 'x' })),
        'MEMBERSHIP_ALREADY_EXISTS',
      );
      expect(await stores.memberships.getMembership('tnt_a', 'usr_1')).toEqual(original);
      // The same user in another tenant is a different membership.
      const elsewhere = buildMembership({ tenantId: 'tnt_b', userId: 'usr_1', status: 'invited' });
      await stores.memberships.insertMembership(elsewhere);
      expect(await stores.memberships.getMembership('tnt_b', 'usr_1')).toEqual(elsewhere);
    });

    it('treats user ids that differ only in case as different users', async () => {
      const stores = getStores();
      const lower = buildMembership({ tenantId: 'tnt_a', userId: 'usr_abc', status: 'active' });
      const upper = buildMembership({ tenantId: 'tnt_a', userId: 'usr_ABC', status: 'invited' });
      await stores.memberships.insertMembership(lower);
      await stores.memberships.insertMembership(upper);
      expect(await stores.memberships.getMembership('tnt_a', 'usr_abc')).toEqual(lower);
      expect(await stores.memberships.getMembership('tnt_a', 'usr_ABC')).toEqual(upper);
      expect(await stores.memberships.listMembershipsByUser('usr_abc')).toEqual([lower]);
    });

    it('lets exactly one of concurrent duplicate inserts win', async () => {
      const stores = getStores();
      const attempts = Array.from({ length: 8 }, (_, index) =>
        buildMembership({ tenantId: 'tnt_a', userId: 'usr_1', invitedBy: `inviter_${index}` }),
      );
      const results = await Promise.allSettled(attempts.map((m) => stores.memberships.insertMembership(m)));
      const winners = attempts.filter((_, index) => results[index]?.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'MEMBERSHIP_ALREADY_EXISTS' });
      }
      expect(await stores.memberships.getMembership('tnt_a', 'usr_1')).toEqual(winners[0]);
    });

    it('updates a membership only while its status and updatedAt still match (compare-and-set)', async () => {
      const stores = getStores();
      const original = buildMembership({ tenantId: 'tnt_a', userId: 'usr_1', status: 'invited' });
      await stores.memberships.insertMembership(original);
      const suspended: Membership = { ...original, status: 'suspended', updatedAt: original.updatedAt + 1 };
      expect(await stores.memberships.updateMembership(suspended, { status: 'active', updatedAt: original.updatedAt })).toBe(false);
      expect(await stores.memberships.updateMembership(suspended, { status: 'invited', updatedAt: original.updatedAt + 7 })).toBe(false);
      expect(await stores.memberships.getMembership('tnt_a', 'usr_1')).toEqual(original);
      expect(await stores.memberships.updateMembership(suspended, { status: 'invited', updatedAt: original.updatedAt })).toBe(true);
      // The first write moved status and updatedAt on, so the same condition is stale now.
      const active: Membership = { ...original, status: 'active', updatedAt: original.updatedAt + 2 };
      expect(await stores.memberships.updateMembership(active, { status: 'invited', updatedAt: original.updatedAt })).toBe(false);
      expect(await stores.memberships.getMembership('tnt_a', 'usr_1')).toEqual(suspended);
      expect(await stores.memberships.updateMembership(active, { status: 'suspended', updatedAt: suspended.updatedAt })).toBe(true);
      expect(await stores.memberships.getMembership('tnt_a', 'usr_1')).toEqual(active);
      // A matching write that changes nothing still reports the match (MySQL counts changed rows).
      expect(await stores.memberships.updateMembership(active, { status: 'active', updatedAt: active.updatedAt })).toBe(true);
    });

    it('updates status, invitedBy and updatedAt but keeps createdAt', async () => {
      const stores = getStores();
      const original = buildMembership({ tenantId: 'tnt_a', userId: 'usr_1', status: 'invited', invitedBy: 'usr_admin' });
      await stores.memberships.insertMembership(original);
      const changed: Membership = {
        ...original,
        status: 'suspended',
        invitedBy: null,
        updatedAt: fixtureEpochMs + 5_000,
        createdAt: fixtureEpochMs + 9_999_999,
      };
      expect(await stores.memberships.updateMembership(changed, { status: 'invited', updatedAt: original.updatedAt })).toBe(true);
      expect(await stores.memberships.getMembership('tnt_a', 'usr_1')).toEqual({ ...changed, createdAt: original.createdAt });
    });

    it('returns false when updating a membership that does not exist, without creating it', async () => {
      const stores = getStores();
      await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'usr_1' }));
      expect(
        await stores.memberships.updateMembership(buildMembership({ tenantId: 'tnt_b', userId: 'usr_1', status: 'suspended' }), {
          status: 'active',
          updatedAt: fixtureEpochMs,
        }),
      ).toBe(false);
      expect(await stores.memberships.getMembership('tnt_b', 'usr_1')).toBeNull();
      expect((await stores.memberships.getMembership('tnt_a', 'usr_1'))?.status).toBe('active');
    });

    it('lists a user\'s memberships across tenants ordered by tenant id', async () => {
      const stores = getStores();
      const memberships = ['tnt_c', 'tnt_a', 'tnt_b'].map((tenantId) => buildMembership({ tenantId, userId: 'usr_1' }));
      for (const membership of memberships) await stores.memberships.insertMembership(membership);
      await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'usr_2' }));
      expect(await stores.memberships.listMembershipsByUser('usr_1')).toEqual([memberships[1], memberships[2], memberships[0]]);
      expect(await stores.memberships.listMembershipsByUser('usr_unknown')).toEqual([]);
    });

    it('pages through a tenant\'s members ordered by user id, never showing another tenant\'s', async () => {
      const stores = getStores();
      const members = Array.from({ length: 57 }, (_, index) =>
        buildMembership({ tenantId: 'tnt_a', userId: `usr_${padIndex((index * 13) % 57)}` }),
      );
      for (const [index, member] of members.entries()) {
        await stores.memberships.insertMembership(member);
        if (index % 4 === 0) await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_b', userId: member.userId }));
      }
      const expected = sortedStrings(members.map((m) => m.userId));
      expect(await listAllMemberUserIds(stores, 'tnt_a', 10)).toEqual(expected);
      expect(await listAllMemberUserIds(stores, 'tnt_a', 500)).toEqual(expected);
      expect(await listAllMemberUserIds(stores, 'tnt_c', 10)).toEqual([]);

      const first = await stores.memberships.listMembershipsByTenant('tnt_a', { limit: 10 });
      expect(first.items).toEqual(expected.slice(0, 10).map((userId) => buildMembership({ tenantId: 'tnt_a', userId })));
    });

    it('filters a tenant\'s members by status while paging', async () => {
      const stores = getStores();
      const statuses: MembershipStatus[] = ['invited', 'active', 'suspended'];
      const members = Array.from({ length: 30 }, (_, index) =>
        buildMembership({ tenantId: 'tnt_a', userId: `usr_${padIndex(index)}`, status: statuses[index % 3] }),
      );
      for (const member of members) await stores.memberships.insertMembership(member);
      await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_b', userId: 'usr_0000', status: 'invited' }));
      const expectedWith = (keep: readonly MembershipStatus[]) =>
        members.filter((m) => keep.includes(m.status)).map((m) => m.userId);
      expect(await listAllMemberUserIds(stores, 'tnt_a', 4, ['invited', 'suspended'])).toEqual(expectedWith(['invited', 'suspended']));
      expect(await listAllMemberUserIds(stores, 'tnt_a', 3, ['active'])).toEqual(expectedWith(['active']));
      expect(await listAllMemberUserIds(stores, 'tnt_a', 3, [])).toEqual([]);
    });

    it('returns a null cursor on a last page that is exactly full', async () => {
      const stores = getStores();
      for (let index = 0; index < 8; index += 1) {
        await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: `usr_${padIndex(index)}` }));
      }
      const first = await stores.memberships.listMembershipsByTenant('tnt_a', { limit: 4 });
      expect(first.nextCursor).not.toBeNull();
      const second = await stores.memberships.listMembershipsByTenant('tnt_a', { limit: 4, cursor: first.nextCursor ?? '' });
      expect(second.items.map((m) => m.userId)).toEqual(['usr_0004', 'usr_0005', 'usr_0006', 'usr_0007']);
      expect(second.nextCursor).toBeNull();
      expect(await stores.memberships.listMembershipsByTenant('tnt_c', { limit: 4 })).toEqual({ items: [], nextCursor: null });
    });

    it('rejects a page size outside 1..500 with VALIDATION_FAILED', async () => {
      const stores = getStores();
      await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'usr_1' }));
      for (const limit of invalidPageLimits) {
        await expectErrorCode(stores.memberships.listMembershipsByTenant('tnt_a', { limit }), 'VALIDATION_FAILED');
      }
      expect((await stores.memberships.listMembershipsByTenant('tnt_a', { limit: 1 })).items).toHaveLength(1);
      expect((await stores.memberships.listMembershipsByTenant('tnt_a', { limit: 500 })).items).toHaveLength(1);
    });

    it('deletes one membership, reporting whether it existed', async () => {
      const stores = getStores();
      await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'usr_1' }));
      const kept = buildMembership({ tenantId: 'tnt_b', userId: 'usr_1' });
      await stores.memberships.insertMembership(kept);
      expect(await stores.memberships.deleteMembership('tnt_a', 'usr_1')).toBe(true);
      expect(await stores.memberships.getMembership('tnt_a', 'usr_1')).toBeNull();
      expect(await stores.memberships.deleteMembership('tnt_a', 'usr_1')).toBe(false);
      expect(await stores.memberships.deleteMembership('tnt_c', 'usr_1')).toBe(false);
      expect(await stores.memberships.listMembershipsByUser('usr_1')).toEqual([kept]);
      // A removed membership can be added again.
      await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'usr_1', status: 'invited' }));
      expect((await stores.memberships.getMembership('tnt_a', 'usr_1'))?.status).toBe('invited');
    });

    it('deletes every membership of one tenant and counts them', async () => {
      const stores = getStores();
      for (let index = 0; index < 7; index += 1) {
        await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: `usr_${padIndex(index)}` }));
      }
      const survivors = [0, 1, 2].map((index) => buildMembership({ tenantId: 'tnt_b', userId: `usr_${padIndex(index)}` }));
      for (const member of survivors) await stores.memberships.insertMembership(member);

      expect(await stores.memberships.deleteMembershipsOfTenant('tnt_a')).toBe(7);
      expect(await stores.memberships.listMembershipsByTenant('tnt_a', { limit: 50 })).toEqual({ items: [], nextCursor: null });
      expect(await stores.memberships.getMembership('tnt_a', 'usr_0000')).toBeNull();
      expect(await stores.memberships.listMembershipsByUser('usr_0000')).toEqual([survivors[0]]);
      expect((await stores.memberships.listMembershipsByTenant('tnt_b', { limit: 50 })).items).toEqual(survivors);
      expect(await stores.memberships.deleteMembershipsOfTenant('tnt_a')).toBe(0);
      expect(await stores.memberships.deleteMembershipsOfTenant('tnt_unknown')).toBe(0);
    });
  });
}

function describeLifecycleRuns(getStores: StoresAccessor): void {
  describe('LifecycleRunStore', () => {
    it('round-trips every field', async () => {
      const stores = getStores();
      const run = buildLifecycleRun({
        id: 'run_full',
        tenantId: 'tnt_a',
        kind: 'offboarding',
        state: 'compensating',
        completedSteps: ['create-record', 'provision-storage:schema', 'seed-data'],
        compensatedSteps: ['seed-data'],
        input: { slug: 'acme', settings: richSettings, owner: { userId: 'usr_1', emails: ['a@b.test'] } },
        error: { step: 'send-welcome-mail', code: 'MAIL_DOWN', message: 'SMTP said: 421 – try later ✉' },
        leaseOwner: 'worker-7:pid-123',
        leaseExpiresAt: fixtureEpochMs + 30_000,
        createdAt: fixtureEpochMs,
        updatedAt: fixtureEpochMs + 12,
        version: 4,
      });
      const fresh = buildLifecycleRun({ id: 'run_fresh', tenantId: 'tnt_b' });
      await stores.lifecycleRuns.insertRun(run);
      await stores.lifecycleRuns.insertRun(fresh);
      expect(await stores.lifecycleRuns.getRun('run_full')).toEqual(run);
      expect(await stores.lifecycleRuns.getRun('run_fresh')).toEqual(fresh);
      expect(await stores.lifecycleRuns.getRun('run_unknown')).toBeNull();
    });

    it('rejects a duplicate id with STORE_CONFLICT and writes nothing', async () => {
      const stores = getStores();
      const original = buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a' });
      await stores.lifecycleRuns.insertRun(original);
      await expectErrorCode(
        stores.lifecycleRuns.insertRun(buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_b', kind: 'offboarding' })),
        'STORE_CONFLICT',
      );
      expect(await stores.lifecycleRuns.getRun('run_1')).toEqual(original);
      expect(await stores.lifecycleRuns.listRuns({ limit: 10 })).toEqual([original]);
    });

    it('replaces a run when the expected version matches, and only then', async () => {
      const stores = getStores();
      const original = buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a', leaseOwner: 'w1', leaseExpiresAt: fixtureEpochMs + 1 });
      await stores.lifecycleRuns.insertRun(original);
      const progressed: LifecycleRun = {
        ...original,
        state: 'compensating',
        completedSteps: ['create-record'],
        error: { step: 'provision', code: 'BOOM', message: 'failed' },
        leaseOwner: null,
        leaseExpiresAt: null,
        updatedAt: fixtureEpochMs + 100,
        version: 2,
      };
      expect(await stores.lifecycleRuns.updateRun(progressed, 1)).toBe(true);
      expect(await stores.lifecycleRuns.getRun('run_1')).toEqual(progressed);

      expect(await stores.lifecycleRuns.updateRun({ ...original, state: 'completed', version: 2 }, 1)).toBe(false);
      expect(await stores.lifecycleRuns.updateRun({ ...original, state: 'completed', version: 10 }, 9)).toBe(false);
      expect(await stores.lifecycleRuns.getRun('run_1')).toEqual(progressed);

      const ghost = buildLifecycleRun({ id: 'run_ghost', tenantId: 'tnt_a', version: 2 });
      expect(await stores.lifecycleRuns.updateRun(ghost, 1)).toBe(false);
      expect(await stores.lifecycleRuns.getRun('run_ghost')).toBeNull();
    });

    it('lets exactly one of concurrent compare-and-set updates win', async () => {
      const stores = getStores();
      const original = buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a' });
      await stores.lifecycleRuns.insertRun(original);
      const attempts = Array.from({ length: 10 }, (_, index): LifecycleRun => ({
        ...original,
        leaseOwner: `worker-${index}`,
        leaseExpiresAt: fixtureEpochMs + 60_000,
        version: 2,
      }));
      const results = await Promise.all(attempts.map((run) => stores.lifecycleRuns.updateRun(run, 1)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await stores.lifecycleRuns.getRun('run_1')).toEqual(attempts[results.indexOf(true)]);
    });

    it('lists runs oldest first, filtered by kind, state and tenant, up to the limit', async () => {
      const stores = getStores();
      const runs = [
        buildLifecycleRun({ id: 'run_e', tenantId: 'tnt_a', kind: 'onboarding', state: 'running', createdAt: fixtureEpochMs + 4 }),
        buildLifecycleRun({ id: 'run_a', tenantId: 'tnt_b', kind: 'onboarding', state: 'completed', createdAt: fixtureEpochMs + 2 }),
        buildLifecycleRun({ id: 'run_d', tenantId: 'tnt_a', kind: 'offboarding', state: 'compensating', createdAt: fixtureEpochMs + 0 }),
        buildLifecycleRun({ id: 'run_b', tenantId: 'tnt_b', kind: 'offboarding', state: 'running', createdAt: fixtureEpochMs + 3 }),
        buildLifecycleRun({ id: 'run_c', tenantId: 'tnt_c', kind: 'onboarding', state: 'failed', createdAt: fixtureEpochMs + 1 }),
        buildLifecycleRun({ id: 'run_f', tenantId: 'tnt_a', kind: 'onboarding', state: 'rolled_back', createdAt: fixtureEpochMs + 5 }),
      ];
      for (const run of runs) await stores.lifecycleRuns.insertRun(run);
      const ids = async (query: Omit<LifecycleRunQuery, 'limit'> & { limit?: number }) =>
        (await stores.lifecycleRuns.listRuns({ limit: 100, ...query })).map((run) => run.id);

      expect(await ids({})).toEqual(['run_d', 'run_c', 'run_a', 'run_b', 'run_e', 'run_f']);
      expect(await ids({ limit: 2 })).toEqual(['run_d', 'run_c']);
      expect(await ids({ kind: 'onboarding' })).toEqual(['run_c', 'run_a', 'run_e', 'run_f']);
      expect(await ids({ state: ['running', 'compensating'] })).toEqual(['run_d', 'run_b', 'run_e']);
      expect(await ids({ tenantId: 'tnt_a' })).toEqual(['run_d', 'run_e', 'run_f']);
      expect(await ids({ tenantId: 'tnt_a', kind: 'onboarding', state: ['running', 'rolled_back'], limit: 1 })).toEqual(['run_e']);
      expect(await ids({ state: [] })).toEqual([]);
      expect(await ids({ tenantId: 'tnt_unknown' })).toEqual([]);
      expect(await stores.lifecycleRuns.listRuns({ limit: 1, tenantId: 'tnt_c' })).toEqual([runs[4]]);
    });

    it('round-trips artifacts through insertRun, updateRun, getRun and listRuns', async () => {
      const stores = getStores();
      const exported: LifecycleArtifact = {
        step: 'export:s3',
        location: 's3://exports/tnt_a/2026-01-01.zip',
        details: { bytes: 10_737_418_240, checksum: 'sha256:9f86d081', parts: [1, 2, null], signed: { by: 'kms', at: null } },
        recordedAt: fixtureEpochMs + 5,
      };
      const receipt: LifecycleArtifact = { step: 'delete-data:rows', location: 'ticket #42 — Grüß 🚀 "quoted"', recordedAt: fixtureEpochMs + 6 };
      const inserted = buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a', kind: 'offboarding', artifacts: [exported] });
      await stores.lifecycleRuns.insertRun(inserted);
      expect(await stores.lifecycleRuns.getRun('run_1')).toEqual(inserted);
      expect(await stores.lifecycleRuns.listRuns({ limit: 10 })).toEqual([inserted]);

      const updated: LifecycleRun = { ...inserted, completedSteps: ['export:s3', 'delete-data:rows'], artifacts: [exported, receipt], version: 2 };
      expect(await stores.lifecycleRuns.updateRun(updated, 1)).toBe(true);
      expect(await stores.lifecycleRuns.getRun('run_1')).toEqual(updated);
      expect(await stores.lifecycleRuns.listRuns({ limit: 10, kind: 'offboarding' })).toEqual([updated]);

      // An empty list stays an empty list.
      const emptied: LifecycleRun = { ...updated, artifacts: [], version: 3 };
      expect(await stores.lifecycleRuns.updateRun(emptied, 2)).toBe(true);
      expect(await stores.lifecycleRuns.getRun('run_1')).toStrictEqual(emptied);
    });

    it('reads a run written without artifacts back without them, not as an empty list', async () => {
      const stores = getStores();
      const withoutArtifacts = buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a' });
      expect(withoutArtifacts).not.toHaveProperty('artifacts');
      await stores.lifecycleRuns.insertRun(withoutArtifacts);
      await stores.lifecycleRuns.insertRun({ ...buildLifecycleRun({ id: 'run_2', tenantId: 'tnt_a' }), artifacts: undefined });
      for (const id of ['run_1', 'run_2']) expect(await stores.lifecycleRuns.getRun(id)).not.toHaveProperty('artifacts');
      for (const run of await stores.lifecycleRuns.listRuns({ limit: 10 })) expect(run).not.toHaveProperty('artifacts');

      // An update without artifacts drops those the run had: the run is replaced as a whole.
      const artifact: LifecycleArtifact = { step: 'export:s3', location: 's3://x', recordedAt: fixtureEpochMs };
      expect(await stores.lifecycleRuns.updateRun({ ...withoutArtifacts, artifacts: [artifact], version: 2 }, 1)).toBe(true);
      expect((await stores.lifecycleRuns.getRun('run_1'))?.artifacts).toEqual([artifact]);
      expect(await stores.lifecycleRuns.updateRun({ ...withoutArtifacts, version: 3 }, 2)).toBe(true);
      expect(await stores.lifecycleRuns.getRun('run_1')).toStrictEqual({ ...withoutArtifacts, version: 3 });
    });

    it('lists only runs whose lease is free or expired before leaseExpiredBefore', async () => {
      const stores = getStores();
      const now = fixtureEpochMs + 1_000;
      const leased = (leaseExpiresAt: number) => ({ leaseOwner: `worker-${leaseExpiresAt}`, leaseExpiresAt });
      const runs = [
        buildLifecycleRun({ id: 'run_free', tenantId: 'tnt_a', createdAt: fixtureEpochMs + 0 }),
        buildLifecycleRun({ id: 'run_expired', tenantId: 'tnt_b', createdAt: fixtureEpochMs + 1, ...leased(now - 1) }),
        buildLifecycleRun({ id: 'run_expiring', tenantId: 'tnt_a', createdAt: fixtureEpochMs + 2, ...leased(now) }),
        buildLifecycleRun({ id: 'run_held', tenantId: 'tnt_a', createdAt: fixtureEpochMs + 3, ...leased(now + 60_000) }),
        buildLifecycleRun({ id: 'run_done', tenantId: 'tnt_b', state: 'completed', createdAt: fixtureEpochMs + 4 }),
        buildLifecycleRun({ id: 'run_failed', tenantId: 'tnt_a', state: 'failed', createdAt: fixtureEpochMs + 5, ...leased(now - 60_000) }),
      ];
      for (const run of runs) await stores.lifecycleRuns.insertRun(run);
      const ids = async (query: Omit<LifecycleRunQuery, 'limit'>) =>
        (await stores.lifecycleRuns.listRuns({ limit: 100, ...query })).map((run) => run.id);

      // "Before" is strict: a lease ending exactly then is not listed.
      expect(await ids({ leaseExpiredBefore: now })).toEqual(['run_free', 'run_expired', 'run_done', 'run_failed']);
      expect(await ids({ leaseExpiredBefore: now + 1 })).toEqual(['run_free', 'run_expired', 'run_expiring', 'run_done', 'run_failed']);
      expect(await ids({ leaseExpiredBefore: now + 60_001 })).toEqual(runs.map((run) => run.id));
      expect(await ids({ leaseExpiredBefore: 0 })).toEqual(['run_free', 'run_done']);
      expect(await ids({ leaseExpiredBefore: now, state: ['running', 'failed'] })).toEqual(['run_free', 'run_expired', 'run_failed']);
      expect(await ids({ leaseExpiredBefore: now, tenantId: 'tnt_a' })).toEqual(['run_free', 'run_failed']);
      expect(await ids({ leaseExpiredBefore: now, kind: 'offboarding' })).toEqual([]);
      expect(await ids({ leaseExpiredBefore: now, state: [] })).toEqual([]);
    });

    it('finds a crashed run behind older runs whose lease is held, within the limit', async () => {
      const stores = getStores();
      const now = fixtureEpochMs + 10_000;
      for (let index = 0; index < 5; index += 1) {
        await stores.lifecycleRuns.insertRun(
          buildLifecycleRun({
            id: `run_busy_${index}`,
            tenantId: `tnt_${index}`,
            createdAt: fixtureEpochMs + index,
            leaseOwner: `worker-${index}`,
            leaseExpiresAt: now + 30_000,
          }),
        );
      }
      const crashed = buildLifecycleRun({
        id: 'run_crashed',
        tenantId: 'tnt_9',
        createdAt: fixtureEpochMs + 5,
        leaseOwner: 'worker-dead',
        leaseExpiresAt: now - 30_000,
      });
      await stores.lifecycleRuns.insertRun(crashed);
      const unfinished = ['running', 'compensating', 'failed'] as const;

      expect((await stores.lifecycleRuns.listRuns({ state: unfinished, limit: 1 })).map((run) => run.id)).toEqual(['run_busy_0']);
      expect(await stores.lifecycleRuns.listRuns({ state: unfinished, limit: 1, leaseExpiredBefore: now })).toEqual([crashed]);
    });

    it('rejects a leaseExpiredBefore that is not a safe integer with VALIDATION_FAILED', async () => {
      const stores = getStores();
      await stores.lifecycleRuns.insertRun(buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a' }));
      const invalid: unknown[] = [1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 2, '5', null, { $gt: 0 }];
      for (const leaseExpiredBefore of invalid) {
        await expectErrorCode(stores.lifecycleRuns.listRuns({ limit: 10, leaseExpiredBefore: leaseExpiredBefore as number }), 'VALIDATION_FAILED');
      }
      expect(await stores.lifecycleRuns.listRuns({ limit: 10, leaseExpiredBefore: -1 })).toHaveLength(1);
    });

    it('rejects a limit outside 1..500 with VALIDATION_FAILED', async () => {
      const stores = getStores();
      await stores.lifecycleRuns.insertRun(buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a' }));
      for (const limit of invalidPageLimits) {
        await expectErrorCode(stores.lifecycleRuns.listRuns({ limit }), 'VALIDATION_FAILED');
      }
      expect(await stores.lifecycleRuns.listRuns({ limit: 500 })).toHaveLength(1);
    });
  });
}

function describeUsageCounters(getStores: StoresAccessor): void {
  describe('UsageCounterStore', () => {
    it('starts every counter at 0', async () => {
      const counters = getStores().usageCounters;
      expect(await counters.get('tnt_a', 'users')).toBe(0);
      expect(withoutZeroCounters(await counters.getAll('tnt_a'))).toEqual({});
    });

    it('admits increments up to the limit and refuses the rest without changing the value', async () => {
      const counters = getStores().usageCounters;
      expect(await counters.increment('tnt_a', 'users', 1, 3)).toEqual({ applied: true, value: 1 });
      expect(await counters.increment('tnt_a', 'users', 2, 3)).toEqual({ applied: true, value: 3 });
      expect(await counters.increment('tnt_a', 'users', 1, 3)).toEqual({ applied: false, value: 3 });
      expect(await counters.get('tnt_a', 'users')).toBe(3);

      expect(await counters.increment('tnt_a', 'projects', 4, 5)).toEqual({ applied: true, value: 4 });
      // An amount that would cross the limit is refused whole, not partly applied.
      expect(await counters.increment('tnt_a', 'projects', 2, 5)).toEqual({ applied: false, value: 4 });
      expect(await counters.increment('tnt_a', 'projects', 1, 5)).toEqual({ applied: true, value: 5 });
      expect(await counters.increment('tnt_a', 'seats', 1, 0)).toEqual({ applied: false, value: 0 });
      expect(await counters.increment('tnt_a', 'seats', 10, 9)).toEqual({ applied: false, value: 0 });
      expect(await counters.get('tnt_a', 'seats')).toBe(0);
    });

    it('treats a limit of -1 as unlimited', async () => {
      const counters = getStores().usageCounters;
      expect(await counters.increment('tnt_a', 'storage', 1_000_000_000_000, -1)).toEqual({ applied: true, value: 1_000_000_000_000 });
      expect(await counters.increment('tnt_a', 'storage', 5, -1)).toEqual({ applied: true, value: 1_000_000_000_005 });
      expect(await counters.get('tnt_a', 'storage')).toBe(1_000_000_000_005);
    });

    it('keeps counters apart per tenant and per resource, with opaque resource names', async () => {
      const counters = getStores().usageCounters;
      await counters.increment('tnt_a', 'users', 2, -1);
      await counters.increment('tnt_b', 'users', 5, -1);
      await counters.increment('tnt_a', 'storage.bytes', 7, -1);
      await counters.increment('tnt_a', 'api:keys', 1, -1);
      await counters.increment('tnt_ab', 'users', 9, -1);
      expect(await counters.get('tnt_a', 'users')).toBe(2);
      expect(await counters.get('tnt_b', 'users')).toBe(5);
      expect(await counters.get('tnt_ab', 'users')).toBe(9);
      expect(await counters.get('tnt_b', 'storage.bytes')).toBe(0);
      expect(withoutZeroCounters(await counters.getAll('tnt_a'))).toEqual({ users: 2, 'storage.bytes': 7, 'api:keys': 1 });
      expect(withoutZeroCounters(await counters.getAll('tnt_b'))).toEqual({ users: 5 });
      expect(withoutZeroCounters(await counters.getAll('tnt_ab'))).toEqual({ users: 9 });
    });

    it('decrements without going below 0', async () => {
      const counters = getStores().usageCounters;
      await counters.increment('tnt_a', 'users', 5, 10);
      expect(await counters.decrement('tnt_a', 'users', 2)).toBe(3);
      expect(await counters.get('tnt_a', 'users')).toBe(3);
      expect(await counters.decrement('tnt_a', 'users', 10)).toBe(0);
      expect(await counters.get('tnt_a', 'users')).toBe(0);
      expect(await counters.decrement('tnt_a', 'never-set', 1)).toBe(0);
      expect(await counters.get('tnt_a', 'never-set')).toBe(0);
      expect(await counters.increment('tnt_a', 'users', 10, 10)).toEqual({ applied: true, value: 10 });
    });

    it('sets a counter outright, which later increments respect', async () => {
      const counters = getStores().usageCounters;
      await counters.set('tnt_a', 'users', 12);
      expect(await counters.get('tnt_a', 'users')).toBe(12);
      expect(await counters.increment('tnt_a', 'users', 1, 10)).toEqual({ applied: false, value: 12 });
      await counters.set('tnt_a', 'users', 4);
      expect(await counters.increment('tnt_a', 'users', 1, 10)).toEqual({ applied: true, value: 5 });
      await counters.set('tnt_a', 'users', 0);
      expect(await counters.get('tnt_a', 'users')).toBe(0);
      await counters.set('tnt_a', 'big', Number.MAX_SAFE_INTEGER);
      expect(await counters.get('tnt_a', 'big')).toBe(Number.MAX_SAFE_INTEGER);
      expect(withoutZeroCounters(await counters.getAll('tnt_a'))).toEqual({ big: Number.MAX_SAFE_INTEGER });
    });

    it('deletes every counter of one tenant only', async () => {
      const counters = getStores().usageCounters;
      await counters.set('tnt_a', 'users', 3);
      await counters.set('tnt_a', 'projects', 4);
      await counters.set('tnt_b', 'users', 5);
      await counters.deleteAll('tnt_a');
      expect(await counters.get('tnt_a', 'users')).toBe(0);
      expect(withoutZeroCounters(await counters.getAll('tnt_a'))).toEqual({});
      expect(withoutZeroCounters(await counters.getAll('tnt_b'))).toEqual({ users: 5 });
      await counters.deleteAll('tnt_unknown');
      expect(await counters.increment('tnt_a', 'users', 1, 1)).toEqual({ applied: true, value: 1 });
    });

    it('rejects amounts that are not positive safe integers with VALIDATION_FAILED', async () => {
      const counters = getStores().usageCounters;
      await counters.set('tnt_a', 'users', 5);
      for (const amount of invalidAmounts) {
        await expectErrorCode(counters.increment('tnt_a', 'users', amount, -1), 'VALIDATION_FAILED');
        await expectErrorCode(counters.decrement('tnt_a', 'users', amount), 'VALIDATION_FAILED');
      }
      for (const limit of [-2, 1.5, Number.NaN]) {
        await expectErrorCode(counters.increment('tnt_a', 'users', 1, limit), 'VALIDATION_FAILED');
      }
      for (const value of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
        await expectErrorCode(counters.set('tnt_a', 'users', value), 'VALIDATION_FAILED');
      }
      expect(await counters.get('tnt_a', 'users')).toBe(5);
    });

    it('admits exactly 150 of 200 concurrent increments against a limit of 150', async () => {
      const counters = getStores().usageCounters;
      const results = await Promise.all(Array.from({ length: 200 }, () => counters.increment('tnt_a', 'seats', 1, 150)));
      const applied = results.filter((result) => result.applied);
      expect(applied).toHaveLength(150);
      // Each admitted increment saw its own post-increment value: 1..150, each exactly once.
      expect(applied.map((result) => result.value).sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
      for (const refused of results.filter((result) => !result.applied)) expect(refused.value).toBe(150);
      expect(await counters.get('tnt_a', 'seats')).toBe(150);
    });

    it('never goes below 0 under concurrent decrements', async () => {
      const counters = getStores().usageCounters;
      await counters.set('tnt_a', 'seats', 50);
      const values = await Promise.all(Array.from({ length: 80 }, () => counters.decrement('tnt_a', 'seats', 1)));
      for (const value of values) expect(value).toBeGreaterThanOrEqual(0);
      expect(await counters.get('tnt_a', 'seats')).toBe(0);
    });
  });
}

/** Tries to mutate a record through a cast; frozen records may throw, which is fine. */
function tryMutate(mutate: () => unknown): void {
  try {
    mutate();
  } catch {
    // Frozen snapshots refuse the write, which is just as good as a private copy.
  }
}

function describeRecordIsolation(getStores: StoresAccessor): void {
  describe('record isolation from callers', () => {
    it('keeps stored tenants and domains safe from mutation of inputs and results', async () => {
      const stores = getStores();
      const input = buildTenant({ id: 'tnt_a', slug: 'alpha', settings: { nested: { value: 1 }, list: [1] }, features: { a: true } });
      const snapshot = structuredClone(input);
      await stores.tenants.insertTenant(input);
      const domainInput = buildDomain({ tenantId: 'tnt_a', hostname: 'app.alpha.test' });
      await stores.tenants.insertDomain(domainInput);

      tryMutate(() => ((input as { name: string }).name = 'mutated input'));
      tryMutate(() => ((input.settings.nested as Record<string, number>).value = 2));
      tryMutate(() => (input.settings.list as number[]).push(2));
      tryMutate(() => ((input.features as Record<string, boolean>).b = true));
      tryMutate(() => ((domainInput as { tenantId: string }).tenantId = 'tnt_evil'));
      const read = await stores.tenants.getTenantById('tnt_a');
      expect(read).toEqual(snapshot);
      tryMutate(() => ((read as { name: string }).name = 'mutated result'));
      tryMutate(() => ((read?.settings.nested as Record<string, number>).value = 3));
      tryMutate(() => ((read?.limits as Record<string, number>).users = 99));
      const listed = await stores.tenants.listTenants({ limit: 10 });
      tryMutate(() => ((listed.items[0] as { slug: string }).slug = 'hijacked'));
      tryMutate(() => ((listed.items[0]?.settings.list as number[]).push(3)));
      const domain = await stores.tenants.getDomain('app.alpha.test');
      tryMutate(() => ((domain as { status: string }).status = 'verified'));
      expect(await stores.tenants.getTenantById('tnt_a')).toEqual(snapshot);
      expect(await stores.tenants.getTenantBySlug('alpha')).toEqual(snapshot);
      expect(await stores.tenants.getTenantBySlug('hijacked')).toBeNull();
      expect(await stores.tenants.getDomain('app.alpha.test')).toEqual(buildDomain({ tenantId: 'tnt_a', hostname: 'app.alpha.test' }));
    });

    it('keeps stored memberships and runs safe from mutation of inputs and results', async () => {
      const stores = getStores();
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_a' }));
      const membership = buildMembership({ tenantId: 'tnt_a', userId: 'usr_1' });
      await stores.memberships.insertMembership(membership);
      const run = buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a', completedSteps: ['one'], input: { deep: { x: 1 } } });
      const runSnapshot = structuredClone(run);
      await stores.lifecycleRuns.insertRun(run);

      tryMutate(() => ((membership as { status: string }).status = 'suspended'));
      tryMutate(() => (run.completedSteps as string[]).push('two'));
      tryMutate(() => ((run.input.deep as Record<string, number>).x = 2));
      const readMembership = await stores.memberships.getMembership('tnt_a', 'usr_1');
      const readRun = await stores.lifecycleRuns.getRun('run_1');
      tryMutate(() => ((readMembership as { status: string }).status = 'suspended'));
      tryMutate(() => (readRun?.completedSteps as string[]).push('three'));
      tryMutate(() => ((readRun?.input.deep as Record<string, number>).x = 3));
      const [listedRun] = await stores.lifecycleRuns.listRuns({ limit: 1 });
      tryMutate(() => ((listedRun as { state: string }).state = 'failed'));
      const [listedMembership] = await stores.memberships.listMembershipsByUser('usr_1');
      tryMutate(() => ((listedMembership as { status: string }).status = 'invited'));
      expect(await stores.memberships.getMembership('tnt_a', 'usr_1')).toEqual(buildMembership({ tenantId: 'tnt_a', userId: 'usr_1' }));
      expect(await stores.lifecycleRuns.getRun('run_1')).toEqual(runSnapshot);

      await stores.usageCounters.set('tnt_a', 'users', 3);
      const all = await stores.usageCounters.getAll('tnt_a');
      tryMutate(() => (all.users = 1_000));
      expect(await stores.usageCounters.get('tnt_a', 'users')).toBe(3);
      expect(await stores.usageCounters.getAll('tnt_a')).toEqual({ users: 3 });
    });
  });
}

/* ------------------------------------------------------------------------------------------ */
/* Property-based tenant isolation                                                             */
/* ------------------------------------------------------------------------------------------ */

type IsolationOperation =
  | { kind: 'updateTenant'; tenant: number; label: string }
  | { kind: 'stealSlug'; tenant: number; victim: number }
  | { kind: 'insertDomain'; tenant: number; host: number }
  | { kind: 'verifyDomain'; tenant: number; host: number }
  | { kind: 'deleteDomain'; tenant: number; host: number }
  | { kind: 'insertMembership'; tenant: number; user: number; status: MembershipStatus }
  | { kind: 'updateMembership'; tenant: number; user: number; status: MembershipStatus }
  | { kind: 'deleteMembership'; tenant: number; user: number }
  | { kind: 'deleteMembershipsOfTenant'; tenant: number }
  | { kind: 'increment'; tenant: number; resource: number; amount: number; limit: number }
  | { kind: 'decrement'; tenant: number; resource: number; amount: number }
  | { kind: 'setCounter'; tenant: number; resource: number; value: number }
  | { kind: 'deleteCounters'; tenant: number };

const ISOLATION_TENANTS = 3;
const ISOLATION_USERS = 3;
const ISOLATION_HOSTS = 4;
const ISOLATION_RESOURCES = ['users', 'projects', 'storage.bytes'] as const;

const tenantIndex = fc.integer({ min: 0, max: ISOLATION_TENANTS - 1 });
const membershipStatus = fc.constantFrom<MembershipStatus>('invited', 'active', 'suspended');
const resourceIndex = fc.integer({ min: 0, max: ISOLATION_RESOURCES.length - 1 });

const isolationOperation: fc.Arbitrary<IsolationOperation> = fc.oneof(
  fc.record({ kind: fc.constant('updateTenant' as const), tenant: tenantIndex, label: fc.string({ maxLength: 12 }) }),
  fc.record({ kind: fc.constant('stealSlug' as const), tenant: tenantIndex, victim: tenantIndex }),
  fc.record({ kind: fc.constant('insertDomain' as const), tenant: tenantIndex, host: fc.integer({ min: 0, max: ISOLATION_HOSTS - 1 }) }),
  fc.record({ kind: fc.constant('verifyDomain' as const), tenant: tenantIndex, host: fc.integer({ min: 0, max: ISOLATION_HOSTS - 1 }) }),
  fc.record({ kind: fc.constant('deleteDomain' as const), tenant: tenantIndex, host: fc.integer({ min: 0, max: ISOLATION_HOSTS - 1 }) }),
  fc.record({
    kind: fc.constant('insertMembership' as const),
    tenant: tenantIndex,
    user: fc.integer({ min: 0, max: ISOLATION_USERS - 1 }),
    status: membershipStatus,
  }),
  fc.record({
    kind: fc.constant('updateMembership' as const),
    tenant: tenantIndex,
    user: fc.integer({ min: 0, max: ISOLATION_USERS - 1 }),
    status: membershipStatus,
  }),
  fc.record({ kind: fc.constant('deleteMembership' as const), tenant: tenantIndex, user: fc.integer({ min: 0, max: ISOLATION_USERS - 1 }) }),
  fc.record({ kind: fc.constant('deleteMembershipsOfTenant' as const), tenant: tenantIndex }),
  fc.record({
    kind: fc.constant('increment' as const),
    tenant: tenantIndex,
    resource: resourceIndex,
    amount: fc.integer({ min: 1, max: 5 }),
    limit: fc.integer({ min: -1, max: 12 }),
  }),
  fc.record({ kind: fc.constant('decrement' as const), tenant: tenantIndex, resource: resourceIndex, amount: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('setCounter' as const), tenant: tenantIndex, resource: resourceIndex, value: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ kind: fc.constant('deleteCounters' as const), tenant: tenantIndex }),
);

/** What the stores should hold for one property run, kept with plain maps. */
interface IsolationModel {
  tenants: Tenant[];
  userIds: string[];
  hostnames: string[];
  domains: Map<string, TenantDomain>;
  memberships: Map<string, Membership>;
  counters: Map<string, Map<string, number>>;
}

function membershipKey(tenantId: string, userId: string): string {
  return JSON.stringify([tenantId, userId]);
}

/**
 * Builds the per-run universe. Tenant ids differ only in case (`_a` / `_A`) or are prefixes of
 * each other (`_a` / `_ab`), which is exactly where case-insensitive collations and prefix key
 * scans leak data across tenants.
 */
function createIsolationModel(runId: string): IsolationModel {
  const suffixes = ['a', 'A', 'ab'];
  const tenants = suffixes.map((suffix, index) =>
    buildTenant({
      id: `${runId}_${suffix}`,
      slug: `${runId}-t${index}`,
      name: `Isolation ${runId} ${index}`,
      settings: { owner: index, secret: `secret-of-${index}` },
      features: { [`feature${index}`]: true },
      limits: { users: index + 1 },
    }),
  );
  return {
    tenants,
    userIds: [`auth0|${runId}`, `${runId}@example.test`, `${runId}:svc`],
    hostnames: Array.from({ length: ISOLATION_HOSTS }, (_, index) => `h${index}.${runId}.example.test`),
    domains: new Map(),
    memberships: new Map(),
    counters: new Map(),
  };
}

async function applyIsolationOperation(stores: TenantContextStores, model: IsolationModel, operation: IsolationOperation): Promise<void> {
  const tenant = model.tenants[operation.tenant] as Tenant;
  const tenantId = tenant.id;
  const counterOf = (id: string) => {
    let counters = model.counters.get(id);
    if (counters === undefined) {
      counters = new Map();
      model.counters.set(id, counters);
    }
    return counters;
  };
  switch (operation.kind) {
    case 'updateTenant': {
      const next: Tenant = {
        ...tenant,
        name: `Isolation ${tenant.id} #${operation.label}`,
        settings: { ...tenant.settings, label: operation.label },
        updatedAt: tenant.updatedAt + 1,
        version: tenant.version + 1,
      };
      expect(await stores.tenants.updateTenant(next, tenant.version)).toBe(true);
      model.tenants[operation.tenant] = next;
      return;
    }
    case 'stealSlug': {
      const victim = model.tenants[operation.victim] as Tenant;
      const next: Tenant = { ...tenant, slug: victim.slug, version: tenant.version + 1 };
      if (operation.victim === operation.tenant) {
        expect(await stores.tenants.updateTenant(next, tenant.version)).toBe(true);
        model.tenants[operation.tenant] = next;
      } else {
        await expectErrorCode(stores.tenants.updateTenant(next, tenant.version), 'TENANT_ALREADY_EXISTS');
      }
      return;
    }
    case 'insertDomain': {
      const hostname = model.hostnames[operation.host] as string;
      const domain = buildDomain({ tenantId, hostname, verificationToken: `token-${tenantId}` });
      if (model.domains.has(hostname)) {
        await expectErrorCode(stores.tenants.insertDomain(domain), 'DOMAIN_TAKEN');
      } else {
        await stores.tenants.insertDomain(domain);
        model.domains.set(hostname, domain);
      }
      return;
    }
    case 'verifyDomain': {
      const hostname = model.hostnames[operation.host] as string;
      const current = model.domains.get(hostname);
      const verified = buildDomain({ tenantId, hostname, status: 'verified', verificationToken: `v-${tenantId}`, verifiedAt: fixtureEpochMs + 1 });
      const owned = current !== undefined && current.tenantId === tenantId;
      expect(await stores.tenants.updateDomain(verified)).toBe(owned);
      if (owned) model.domains.set(hostname, { ...verified, createdAt: current.createdAt });
      return;
    }
    case 'deleteDomain': {
      const hostname = model.hostnames[operation.host] as string;
      const owned = model.domains.get(hostname)?.tenantId === tenantId;
      expect(await stores.tenants.deleteDomain(tenantId, hostname)).toBe(owned);
      if (owned) model.domains.delete(hostname);
      return;
    }
    case 'insertMembership': {
      const userId = model.userIds[operation.user] as string;
      const key = membershipKey(tenantId, userId);
      const membership = buildMembership({ tenantId, userId, status: operation.status, invitedBy: `inviter-${tenantId}` });
      if (model.memberships.has(key)) {
        await expectErrorCode(stores.memberships.insertMembership(membership), 'MEMBERSHIP_ALREADY_EXISTS');
      } else {
        await stores.memberships.insertMembership(membership);
        model.memberships.set(key, membership);
      }
      return;
    }
    case 'updateMembership': {
      const userId = model.userIds[operation.user] as string;
      const key = membershipKey(tenantId, userId);
      const current = model.memberships.get(key);
      const next = buildMembership({ tenantId, userId, status: operation.status, invitedBy: null, updatedAt: fixtureEpochMs + 10 });
      const expected = { status: current?.status ?? 'active', updatedAt: current?.updatedAt ?? fixtureEpochMs };
      expect(await stores.memberships.updateMembership(next, expected)).toBe(current !== undefined);
      if (current !== undefined) model.memberships.set(key, { ...next, createdAt: current.createdAt });
      return;
    }
    case 'deleteMembership': {
      const userId = model.userIds[operation.user] as string;
      const key = membershipKey(tenantId, userId);
      expect(await stores.memberships.deleteMembership(tenantId, userId)).toBe(model.memberships.has(key));
      model.memberships.delete(key);
      return;
    }
    case 'deleteMembershipsOfTenant': {
      const keys = [...model.memberships.entries()].filter(([, m]) => m.tenantId === tenantId).map(([key]) => key);
      expect(await stores.memberships.deleteMembershipsOfTenant(tenantId)).toBe(keys.length);
      for (const key of keys) model.memberships.delete(key);
      return;
    }
    case 'increment': {
      const resource = ISOLATION_RESOURCES[operation.resource] as string;
      const counters = counterOf(tenantId);
      const current = counters.get(resource) ?? 0;
      const admitted = operation.limit === -1 || current + operation.amount <= operation.limit;
      const value = admitted ? current + operation.amount : current;
      expect(await stores.usageCounters.increment(tenantId, resource, operation.amount, operation.limit)).toEqual({ applied: admitted, value });
      counters.set(resource, value);
      return;
    }
    case 'decrement': {
      const resource = ISOLATION_RESOURCES[operation.resource] as string;
      const counters = counterOf(tenantId);
      const value = Math.max(0, (counters.get(resource) ?? 0) - operation.amount);
      expect(await stores.usageCounters.decrement(tenantId, resource, operation.amount)).toBe(value);
      counters.set(resource, value);
      return;
    }
    case 'setCounter': {
      const resource = ISOLATION_RESOURCES[operation.resource] as string;
      await stores.usageCounters.set(tenantId, resource, operation.value);
      counterOf(tenantId).set(resource, operation.value);
      return;
    }
    case 'deleteCounters': {
      await stores.usageCounters.deleteAll(tenantId);
      model.counters.delete(tenantId);
      return;
    }
  }
}

/** Reads everything back through every per-tenant read path and compares with the model. */
async function expectOnlyOwnData(stores: TenantContextStores, model: IsolationModel): Promise<void> {
  for (const tenant of model.tenants) {
    expect(await stores.tenants.getTenantById(tenant.id)).toEqual(tenant);
    expect(await stores.tenants.getTenantBySlug(tenant.slug)).toEqual(tenant);

    const ownDomains = [...model.domains.values()].filter((domain) => domain.tenantId === tenant.id);
    const domains = await stores.tenants.listDomains(tenant.id);
    expect(sortedStrings(domains.map((d) => d.hostname))).toEqual(sortedStrings(ownDomains.map((d) => d.hostname)));
    for (const domain of domains) expect(domain).toEqual(model.domains.get(domain.hostname));

    const ownMemberships = [...model.memberships.values()].filter((m) => m.tenantId === tenant.id);
    const page = await stores.memberships.listMembershipsByTenant(tenant.id, { limit: 500 });
    expect(page.nextCursor).toBeNull();
    expect(sortedStrings(page.items.map((m) => m.userId))).toEqual(sortedStrings(ownMemberships.map((m) => m.userId)));
    for (const membership of page.items) {
      expect(membership.tenantId).toBe(tenant.id);
      expect(membership).toEqual(model.memberships.get(membershipKey(tenant.id, membership.userId)));
    }
    for (const userId of model.userIds) {
      expect(await stores.memberships.getMembership(tenant.id, userId)).toEqual(model.memberships.get(membershipKey(tenant.id, userId)) ?? null);
    }

    const expectedCounters = Object.fromEntries(model.counters.get(tenant.id) ?? []);
    expect(withoutZeroCounters(await stores.usageCounters.getAll(tenant.id))).toEqual(withoutZeroCounters(expectedCounters));
    for (const resource of ISOLATION_RESOURCES) {
      expect(await stores.usageCounters.get(tenant.id, resource)).toBe(expectedCounters[resource] ?? 0);
    }
  }
  for (const hostname of model.hostnames) {
    expect(await stores.tenants.getDomain(hostname)).toEqual(model.domains.get(hostname) ?? null);
  }
  for (const userId of model.userIds) {
    const own = [...model.memberships.values()].filter((m) => m.userId === userId);
    const listed = await stores.memberships.listMembershipsByUser(userId);
    expect(sortedStrings(listed.map((m) => m.tenantId))).toEqual(sortedStrings(own.map((m) => m.tenantId)));
    for (const membership of listed) expect(membership).toEqual(model.memberships.get(membershipKey(membership.tenantId, userId)));
  }
}

function describeTenantIsolationProperty(getStores: StoresAccessor): void {
  describe('tenant isolation (property-based)', () => {
    it('never returns one tenant\'s data from a read for another tenant', async () => {
      const stores = getStores();
      // One setup for all runs: each run works in its own fresh, random id space instead.
      const batch = createId().slice(0, 6);
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(isolationOperation, { minLength: 1, maxLength: 30 }), async (operations) => {
          run += 1;
          const model = createIsolationModel(`iso${batch}${run}`);
          for (const tenant of model.tenants) await stores.tenants.insertTenant(tenant);
          for (const operation of operations) await applyIsolationOperation(stores, model, operation);
          await expectOnlyOwnData(stores, model);
        }),
        { numRuns: 50 },
      );
    });
  });
}
