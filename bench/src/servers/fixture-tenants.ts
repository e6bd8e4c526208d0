import {
  createTenantRegistry,
  createTenantResolver,
  fromHeader,
  memoryTenantStore,
  type TenantResolver,
} from '@tenantkit/tenant-context';

/** 50 active tenants in a memory registry and a header resolver with the default cache. */
export async function createBenchResolver(): Promise<TenantResolver> {
  const registry = createTenantRegistry({ store: memoryTenantStore() });
  for (let index = 0; index < 50; index += 1) {
    await registry.createTenant({ slug: `tenant-${index}`, name: `Tenant ${index}` });
  }
  return createTenantResolver({ registry, sources: [fromHeader({ by: 'slug' })] });
}

export const benchPayload = Object.freeze({ items: [{ id: 'prj_1', name: 'Roadmap' }], total: 1 });
