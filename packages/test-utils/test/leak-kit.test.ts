import { TenantContextError, currentTenantId, requireTenantId } from '@tenantkit/tenant-context';
import { describe, expect, it } from 'vitest';
import { runLeakKit, type LeakKitRecord, type LeakKitTarget } from '../src/leak-kit.js';

/** A correct in-memory target keyed by (tenant, id), with seams to break it on purpose. */
function memoryTarget(flaws: {
  listAll?: boolean;
  getAnyTenant?: boolean;
  updateAnyTenant?: boolean;
  acceptForeignInsert?: boolean;
  defaultTenant?: string;
  slowAsync?: boolean;
} = {}): LeakKitTarget {
  const rows = new Map<string, LeakKitRecord & { tenant: string }>();
  const tenant = () => (flaws.defaultTenant !== undefined ? (currentTenantId() ?? flaws.defaultTenant) : requireTenantId());
  const key = (t: string, id: string) => `${t}\u0000${id}`;
  const pause = () => (flaws.slowAsync ? new Promise((resolve) => setTimeout(resolve, 0)) : Promise.resolve());
  return {
    async reset() {
      rows.clear();
    },
    async insert(record) {
      const owner = tenant();
      await pause();
      rows.set(key(owner, record.id), { ...record, tenant: owner });
    },
    async get(id) {
      const owner = tenant();
      await pause();
      const found = flaws.getAnyTenant
        ? [...rows.values()].find((row) => row.id === id)
        : rows.get(key(owner, id));
      return found === undefined ? undefined : { id: found.id, value: found.value };
    },
    async list() {
      const owner = tenant();
      return [...rows.values()].filter((row) => flaws.listAll || row.tenant === owner).map(({ id, value }) => ({ id, value }));
    },
    async update(id, value) {
      const owner = tenant();
      let changed = 0;
      for (const row of rows.values()) {
        if (row.id === id && (flaws.updateAnyTenant || row.tenant === owner)) {
          rows.set(key(row.tenant, id), { ...row, value });
          changed += 1;
        }
      }
      return changed;
    },
    async remove(id) {
      return rows.delete(key(tenant(), id)) ? 1 : 0;
    },
    async count() {
      const owner = tenant();
      return [...rows.values()].filter((row) => row.tenant === owner).length;
    },
    async insertClaimingTenant(record, foreignTenantId) {
      if (!flaws.acceptForeignInsert && foreignTenantId !== tenant()) {
        throw new TenantContextError('TENANT_ISOLATION_VIOLATION', 'foreign tenant');
      }
      rows.set(key(foreignTenantId, record.id), { ...record, tenant: foreignTenantId });
    },
  };
}

describe('runLeakKit', () => {
  it('passes a correctly isolated target over 10,000 operations, hostile writes included', async () => {
    const report = await runLeakKit(memoryTarget({ slowAsync: true }));
    expect(report.operations).toBeGreaterThanOrEqual(10_000);
    expect(report.refusedHostileWrites).toBeGreaterThan(0);
  });

  it('passes sequentially too', async () => {
    const report = await runLeakKit(memoryTarget(), { concurrent: false, operations: 2_000, tenants: ['tnt_x', 'tnt_y'] });
    expect(report.operations).toBeGreaterThanOrEqual(2_000);
  });

  it.each([
    ['a list that returns other tenants\' rows', { listAll: true }, /CROSS-TENANT READ/],
    ['a get that ignores the tenant', { getAnyTenant: true }, /CROSS-TENANT READ|expected/],
    ['an update that ignores the tenant', { updateAnyTenant: true }, /cross-tenant write|CROSS-TENANT READ|listed|expected/],
    ['a hostile insert that is accepted', { acceptForeignInsert: true }, /must reject with TENANT_ISOLATION_VIOLATION/],
    ['a target that falls back to a default tenant', { defaultTenant: 'tnt_leak_a' }, /Fail-closed check/],
  ] as const)('detects %s', async (_name, flaws, message) => {
    await expect(runLeakKit(memoryTarget(flaws), { operations: 2_000 })).rejects.toThrow(message);
  });

  it('refuses fewer than two tenants', async () => {
    await expect(runLeakKit(memoryTarget(), { tenants: ['tnt_only'] })).rejects.toThrow(/two distinct tenants/);
  });
});
