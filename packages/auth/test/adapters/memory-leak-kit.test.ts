// Tenant isolation of the memory stores' tenant-owned records (API keys, invitations) over the
// full 10,000 random operations of the leak kit, three tenants, one id a prefix of another.
import { authApiKeyLeakKitTarget, authInvitationLeakKitTarget, runLeakKit } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import { memoryAuthStores } from '../../src/adapters/memory/memory-auth-stores.js';

const tenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b'] as const;
const now = Date.UTC(2026, 0, 1);

describe('memory auth stores: leak kit', () => {
  it('API keys: 10,000 random operations of three tenants never show, revoke or delete another tenant’s key', async () => {
    const { apiKeys } = memoryAuthStores();
    const report = await runLeakKit(authApiKeyLeakKitTarget(apiKeys, tenants, { now }), { tenants, operations: 10_000 });
    expect(report.operations).toBeGreaterThanOrEqual(10_000);
  }, 120_000);

  it('API keys, one tenant at a time (no interleaving): 10,000 operations, no leak', async () => {
    const { apiKeys } = memoryAuthStores();
    const report = await runLeakKit(authApiKeyLeakKitTarget(apiKeys, tenants, { now }), { tenants, operations: 10_000, concurrent: false });
    expect(report.operations).toBeGreaterThanOrEqual(10_000);
  }, 120_000);

  it('invitations for emails every tenant shares: 10,000 random operations never show, consume or void another tenant’s invitation', async () => {
    const { oneTimeTokens } = memoryAuthStores();
    const report = await runLeakKit(authInvitationLeakKitTarget(oneTimeTokens, tenants, { now }), { tenants, operations: 10_000 });
    expect(report.operations).toBeGreaterThanOrEqual(10_000);
  }, 120_000);
});
