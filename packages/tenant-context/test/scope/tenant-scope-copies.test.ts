import { describe, expect, it, vi } from 'vitest';

describe('tenant scope across module copies', () => {
  it('a scope opened by one copy of the module is seen by another (ESM/CJS builds, bundled subpaths)', async () => {
    const first = await import('../../src/scope/tenant-scope.js');
    vi.resetModules();
    const second = await import('../../src/scope/tenant-scope.js');
    expect(second).not.toBe(first); // really two module instances
    await first.runWithTenant('tnt_shared', async () => {
      await Promise.resolve();
      expect(second.requireTenantId()).toBe('tnt_shared');
    });
    expect(() => second.requireTenantId()).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
  });
});
