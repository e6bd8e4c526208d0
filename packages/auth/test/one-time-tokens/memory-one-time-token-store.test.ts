import { describe, expect, it } from 'vitest';
import { memoryOneTimeTokenStore, type OneTimeTokenRecord } from '@tenantkit/auth';

function token(tokenHash: string, overrides: Partial<OneTimeTokenRecord> = {}): OneTimeTokenRecord {
  return { tokenHash, purpose: 'password-reset', subject: 'usr_1', tenantId: null, data: {}, createdAt: 0, expiresAt: 1000, ...overrides };
}

describe('memoryOneTimeTokenStore', () => {
  it('issue voids the earlier tokens of the same purpose, subject and tenant, and says how many', async () => {
    const store = memoryOneTimeTokenStore();
    expect(await store.issue(token('h1'))).toBe(0);
    expect(await store.issue(token('h2', { purpose: 'email-verification' }))).toBe(0);
    expect(await store.issue(token('h3', { tenantId: 'tnt_acme' }))).toBe(0);
    expect(await store.issue(token('h4'))).toBe(1);
    expect(await store.consume('h1', 'password-reset', 0)).toBeNull();
    expect(await store.consume('h2', 'email-verification', 0)).toMatchObject({ tokenHash: 'h2' });
    expect(await store.consume('h3', 'password-reset', 0)).toMatchObject({ tenantId: 'tnt_acme' });
    expect(await store.consume('h4', 'password-reset', 0)).toMatchObject({ tokenHash: 'h4' });
  });

  it('consume takes a live token once: 10 concurrent consumes, exactly one record', async () => {
    const store = memoryOneTimeTokenStore();
    await store.issue(token('h1'));
    const results = await Promise.all(Array.from({ length: 10 }, () => store.consume('h1', 'password-reset', 0)));
    expect(results.filter((result) => result !== null)).toHaveLength(1);
  });

  it('consume returns null at or after expiresAt and for another purpose (which leaves the token)', async () => {
    const store = memoryOneTimeTokenStore();
    await store.issue(token('h1'));
    await store.issue(token('h2', { subject: 'usr_2' }));
    expect(await store.consume('h1', 'invitation', 0)).toBeNull();
    expect(await store.consume('h1', 'password-reset', 999)).toMatchObject({ tokenHash: 'h1' });
    expect(await store.consume('h2', 'password-reset', 1000)).toBeNull();
    expect(await store.consume('unknown', 'password-reset', 0)).toBeNull();
  });

  it('keeps and returns copies of data', async () => {
    const store = memoryOneTimeTokenStore();
    const record = token('h1', { purpose: 'invitation', data: { roles: ['member'] } });
    await store.issue(record);
    (record.data.roles as string[]).push('owner');
    const taken = await store.consume('h1', 'invitation', 0);
    expect(taken!.data).toEqual({ roles: ['member'] });
  });

  it('voidFor deletes a subject tokens of one purpose, in every tenant or in one', async () => {
    const store = memoryOneTimeTokenStore();
    await store.issue(token('a', { purpose: 'invitation', subject: 'bob@example.com', tenantId: 'tnt_acme' }));
    await store.issue(token('b', { purpose: 'invitation', subject: 'bob@example.com', tenantId: 'tnt_globex' }));
    await store.issue(token('c', { purpose: 'invitation', subject: 'bob@example.com', tenantId: 'tnt_initech' }));
    await store.issue(token('d', { purpose: 'password-reset', subject: 'bob@example.com' }));
    expect(await store.voidFor('invitation', 'bob@example.com', 'tnt_acme')).toBe(1);
    expect(await store.voidFor('invitation', 'bob@example.com')).toBe(2);
    expect(await store.voidFor('invitation', 'bob@example.com')).toBe(0);
    expect(await store.consume('d', 'password-reset', 0)).toMatchObject({ tokenHash: 'd' });
  });

  it('re-issuing a consumed record (a failed flow putting its token back) makes it usable once more', async () => {
    const store = memoryOneTimeTokenStore();
    await store.issue(token('h1'));
    const taken = (await store.consume('h1', 'password-reset', 0))!;
    expect(await store.issue(taken)).toBe(0);
    expect(await store.consume('h1', 'password-reset', 0)).toEqual(taken);
  });
});
