import { createHash, createHmac } from 'node:crypto';
import { createRateLimiter } from '@tenantkit/ratelimit';
import { runWithTenant } from '@tenantkit/tenant-context';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryRevocationStore } from '../../src/adapters/memory/memory-revocation-store.js';
import { createApiKeyService } from '../../src/api-keys/create-api-key-service.js';
import { createRevocationService } from '../../src/revocation/create-revocation-service.js';
import { createInProcessRevocationChannel } from '../../src/revocation/in-process-revocation-channel.js';
import type { RevocationService } from '../../src/revocation/revocation-service.js';
import { memoryApiKeyStore } from '../../src/adapters/memory/memory-api-key-store.js';
import { ACME, GLOBEX, PEPPER_V1, PEPPER_V2, alice, closeServices, countingStore, rejectionOf, setup } from './api-key-fixture.js';

const KEY_SHAPE = /^tk_([0-9a-z]{20})_([A-Za-z0-9_-]{43})$/;

const revocations: RevocationService[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await closeServices();
  await Promise.all(revocations.splice(0).map((revocation) => revocation.close()));
});

function secretOf(key: string): string {
  return KEY_SHAPE.exec(key)?.[2] as string;
}

describe('API key creation', () => {
  it('checklist: API keys are prefixed (<prefix>_<id>_<secret>, the id is the record id)', async () => {
    const { service, another } = await setup();
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    const match = KEY_SHAPE.exec(key);
    expect(match?.[1]).toBe(record.id);
    const custom = await another({ prefix: 'acme' }).create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    expect(custom.key).toMatch(/^acme_[0-9a-z]{20}_[A-Za-z0-9_-]{43}$/);
  });

  it('checklist: API keys are shown once (the record and list() hold neither the secret nor an unkeyed hash of it)', async () => {
    const { service, store } = await setup();
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    const secret = secretOf(key);
    const unkeyed = [createHash('sha256').update(secret).digest('base64url'), createHash('sha256').update(secret).digest('hex'), createHash('sha256').update(key).digest('base64url')];
    const listed = await service.list(ACME);
    const stored = await store.findById(record.id);
    for (const shown of [JSON.stringify(record), JSON.stringify(listed), JSON.stringify(stored)]) {
      expect(shown).not.toContain(secret);
      for (const hash of unkeyed) expect(shown).not.toContain(hash);
    }
    expect(listed.map((listedKey) => listedKey.id)).toEqual([record.id]);
    expect(Object.keys(record).sort()).toEqual(
      ['createdAt', 'createdBy', 'expiresAt', 'hashKeyId', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scopes', 'secretHash', 'tenantId'].sort(),
    );
  });

  it('checklist: API keys are hashed at rest with a keyed hash (another pepper gives another hash and refuses the key)', async () => {
    const { service, another } = await setup();
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    const secret = secretOf(key);
    expect(record.hashKeyId).toBe('v1');
    expect(record.secretHash).toBe(createHmac('sha256', PEPPER_V1).update(secret).digest('base64url'));
    expect(createHmac('sha256', PEPPER_V2).update(secret).digest('base64url')).not.toBe(record.secretHash);
    // A service whose only pepper has the same id but another value cannot verify it.
    const otherPepper = another({ hashKeys: [{ id: 'v1', secret: PEPPER_V2 }] });
    expect(await rejectionOf(otherPepper.authenticate(key))).toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('rotates the pepper: new keys use the first hash key, keys of an older one still verify until it is dropped', async () => {
    const { service, another } = await setup();
    const old = await service.create({ tenantId: ACME, name: 'old', scopes: ['projects:read'], creator: alice });
    const rotated = another({ hashKeys: [{ id: 'v2', secret: PEPPER_V2 }, { id: 'v1', secret: PEPPER_V1 }] });
    const fresh = await rotated.create({ tenantId: ACME, name: 'new', scopes: ['projects:read'], creator: alice });
    expect(fresh.record.hashKeyId).toBe('v2');
    await expect(rotated.authenticate(old.key)).resolves.toMatchObject({ id: old.record.id });
    await expect(rotated.authenticate(fresh.key)).resolves.toMatchObject({ id: fresh.record.id });
    const dropped = another({ hashKeys: [{ id: 'v2', secret: PEPPER_V2 }] });
    expect(await rejectionOf(dropped.authenticate(old.key))).toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('checklist: scopes must be a subset of the creator permissions (API_KEY_SCOPE_FORBIDDEN naming the scope)', async () => {
    const { service, calls } = await setup();
    const error = await rejectionOf(
      service.create({ tenantId: ACME, name: 'too wide', scopes: ['projects:read', 'billing:manage'], creator: alice }),
    );
    expect(error).toMatchObject({ code: 'API_KEY_SCOPE_FORBIDDEN', details: { scope: 'billing:manage' } });
    expect(calls.create).toBe(0);
    // A creator token scoped to read cannot mint a deploy key, even though the role allows deploy.
    const readOnlyToken = { ...alice, scopes: ['projects:read'] };
    expect(await rejectionOf(service.create({ tenantId: ACME, name: 'x', scopes: ['projects:deploy'], creator: readOnlyToken }))).toMatchObject({
      code: 'API_KEY_SCOPE_FORBIDDEN',
      details: { scope: 'projects:deploy' },
    });
    await expect(service.create({ tenantId: ACME, name: 'ok', scopes: ['projects:read', 'projects:deploy'], creator: alice })).resolves.toBeDefined();
  });

  it('refuses scopes that are not concrete rbac permissions (PERMISSION_INVALID)', async () => {
    const { service } = await setup();
    for (const scope of ['projects:*', '*:*', 'projects', 'Projects:Read!']) {
      expect(await rejectionOf(service.create({ tenantId: ACME, name: 'x', scopes: [scope], creator: alice })), scope).toMatchObject({
        code: 'PERMISSION_INVALID',
      });
    }
  });

  it('refuses a creator signed in to another tenant (TENANT_SCOPE_CONFLICT), and a creator without grants there', async () => {
    const { service } = await setup();
    expect(await rejectionOf(service.create({ tenantId: GLOBEX, name: 'x', scopes: ['projects:read'], creator: alice }))).toMatchObject({
      code: 'TENANT_SCOPE_CONFLICT',
    });
    const aliceInGlobex = { ...alice, tenantId: GLOBEX };
    expect(await rejectionOf(service.create({ tenantId: GLOBEX, name: 'x', scopes: ['projects:read'], creator: aliceInGlobex }))).toMatchObject({
      code: 'API_KEY_SCOPE_FORBIDDEN',
    });
  });

  it('validates the input (VALIDATION_FAILED): no scopes, an api-key creator, an expiry in the past, unknown fields', async () => {
    const { service, clock } = await setup();
    const valid = { tenantId: ACME, name: 'x', scopes: ['projects:read'], creator: alice };
    for (const input of [
      { ...valid, scopes: [] },
      { ...valid, name: '  ' },
      { ...valid, creator: { ...alice, kind: 'api-key' as const } },
      { ...valid, expiresAt: clock.now() },
      { ...valid, expiresAt: 1.5 },
      { ...valid, scope: ['projects:read'] },
    ]) {
      expect(await rejectionOf(service.create(input as never)), JSON.stringify(input)).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  it('cannot create keys without a permissions checker (CONFIGURATION_INVALID) but still authenticates', async () => {
    const { service, another } = await setup();
    const { key } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    const verifier = another({ permissions: undefined });
    expect(await rejectionOf(verifier.create({ tenantId: ACME, name: 'x', scopes: ['projects:read'], creator: alice }))).toMatchObject({
      code: 'CONFIGURATION_INVALID',
    });
    await expect(verifier.authenticate(key)).resolves.toMatchObject({ kind: 'api-key' });
  });
});

describe('API key authentication', () => {
  it('returns the key principal, which rbac caps by the key scopes', async () => {
    const { service, rbac } = await setup();
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    const principal = await service.authenticate(key);
    expect(principal).toEqual({ kind: 'api-key', id: record.id, tenantId: ACME, method: 'api-key', grantsFrom: alice.id, scopes: ['projects:read'] });
    expect(await rbac.can(principal, 'projects:read', undefined, { tenantId: ACME })).toBe(true);
    expect(await rbac.can(principal, 'projects:deploy', undefined, { tenantId: ACME })).toBe(false);
  });

  it('makes a scopes-only key with createdBy null and grantsFrom null', async () => {
    const { service } = await setup();
    const { key, record } = await service.create({ tenantId: ACME, name: 'bot', scopes: ['projects:read'], creator: alice, scopesOnly: true });
    expect(record.createdBy).toBeNull();
    expect(await service.authenticate(key)).toMatchObject({ grantsFrom: null, scopes: ['projects:read'] });
  });

  it('refuses malformed keys with API_KEY_INVALID before any store call', async () => {
    const { service, calls } = await setup();
    const { key } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    const malformed = [
      '',
      'tk',
      key.slice(0, -1),
      `${key}A`,
      key.replace(/^tk_/, 'xx_'),
      key.replace(/^tk_/, 'TK_'),
      `${key.slice(0, 3)}${key.slice(3, 23).toUpperCase()}${key.slice(23)}`,
      `${key.slice(0, -1)}!`,
      `${key.slice(0, 23)}-${key.slice(24)}`,
      `${key.slice(0, -2)}\u00e9`,
      'x'.repeat(100_000),
      `${key}, ${key}`,
    ];
    calls.findById = 0;
    for (const presented of malformed) {
      expect(await rejectionOf(service.authenticate(presented)), presented.slice(0, 80)).toMatchObject({ code: 'API_KEY_INVALID', message: 'Invalid API key' });
    }
    expect(await rejectionOf(service.authenticate(42 as never))).toMatchObject({ code: 'API_KEY_INVALID' });
    expect(calls.findById).toBe(0);
  });

  it('refuses a wrong secret for a known id, cached or not, with the same answer as an unknown key', async () => {
    const { service } = await setup();
    const { key } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    const flipped = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    const uncached = await rejectionOf(service.authenticate(flipped));
    await service.authenticate(key);
    const cached = await rejectionOf(service.authenticate(flipped));
    const unknown = await rejectionOf(service.authenticate(`tk_${'0'.repeat(20)}_${secretOf(key)}`));
    for (const error of [uncached, cached, unknown]) expect(error).toMatchObject({ code: 'API_KEY_INVALID', message: 'Invalid API key' });
    expect(cached.details).toBeUndefined();
  });

  it('checklist: a key of another tenant is refused (explicit tenant and ambient tenant scope)', async () => {
    const { service } = await setup();
    const { key } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    expect(await rejectionOf(service.authenticate(key, { tenantId: GLOBEX }))).toMatchObject({ code: 'API_KEY_INVALID' });
    expect(await rejectionOf(runWithTenant(GLOBEX, () => service.authenticate(key)))).toMatchObject({ code: 'API_KEY_INVALID' });
    // null does not switch the ambient check off.
    expect(await rejectionOf(runWithTenant(GLOBEX, () => service.authenticate(key, { tenantId: null })))).toMatchObject({ code: 'API_KEY_INVALID' });
    await expect(runWithTenant(ACME, () => service.authenticate(key))).resolves.toMatchObject({ tenantId: ACME });
    await expect(service.authenticate(key, { tenantId: ACME })).resolves.toMatchObject({ tenantId: ACME });
  });

  it('checklist: API keys expire (refused at expiresAt, even while cached)', async () => {
    const { service, clock } = await setup();
    const { key } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice, expiresAt: clock.now() + 10_000 });
    await expect(service.authenticate(key)).resolves.toBeDefined();
    clock.advance(9_999);
    await expect(service.authenticate(key)).resolves.toBeDefined();
    clock.advance(1);
    expect(await rejectionOf(service.authenticate(key))).toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('serves a verified key from memory: one store read for repeated use within cacheTtlSeconds', async () => {
    const { service, calls, clock } = await setup({ cacheTtlSeconds: 30 });
    const { key } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    for (let index = 0; index < 10; index += 1) await service.authenticate(key);
    expect(calls.findById).toBe(1);
    clock.advance(30_000);
    await service.authenticate(key);
    expect(calls.findById).toBe(2);
  });
});

describe('API key revocation', () => {
  it('checklist: revocation is immediate in the same process (a cached key is refused at once)', async () => {
    const { service } = await setup();
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    await service.authenticate(key);
    await service.revoke(ACME, record.id);
    expect(await rejectionOf(service.authenticate(key))).toMatchObject({ code: 'API_KEY_INVALID' });
    expect((await service.list(ACME))[0]?.revokedAt).not.toBeNull();
  });

  it('checklist: revocation is immediate in another process sharing the store and a revocation channel', async () => {
    const channel = createInProcessRevocationChannel();
    const revocationStore = memoryRevocationStore();
    const processA = createRevocationService({ store: revocationStore, channel });
    const processB = createRevocationService({ store: revocationStore, channel });
    revocations.push(processA, processB);
    const { service, another } = await setup({ revocation: processA });
    const serviceB = another({ revocation: processB });
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    await serviceB.authenticate(key); // now cached in B, with a 30 s TTL
    await service.revoke(ACME, record.id);
    expect(await rejectionOf(serviceB.authenticate(key))).toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('without a revocation channel, another process keeps a cached key at most cacheTtlSeconds', async () => {
    const { service, another, clock } = await setup({ cacheTtlSeconds: 30 });
    const serviceB = another();
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    await serviceB.authenticate(key);
    await service.revoke(ACME, record.id);
    await expect(serviceB.authenticate(key)).resolves.toBeDefined();
    clock.advance(30_000);
    expect(await rejectionOf(serviceB.authenticate(key))).toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('does not put a key back in the cache when a revocation arrived during its store read', async () => {
    const { store: inner } = countingStore();
    const gate: { release?: (() => void) | undefined } = {};
    /** Lets the read in flight finish, and arms the gate for the next one. */
    const openGate = () => {
      const release = gate.release;
      gate.release = undefined;
      release?.();
    };
    const slowStore = {
      ...inner,
      findById: async (id: string) => {
        const record = await inner.findById(id);
        await new Promise<void>((resolve) => (gate.release = resolve));
        return record;
      },
    };
    const listeners = new Set<(event: { kind: string; id: string }) => void>();
    const revocation = {
      announce: async (event: { kind: string; id: string }) => listeners.forEach((listener) => listener(event)),
      onEvent: (listener: (event: { kind: string; id: string }) => void) => (listeners.add(listener), () => void listeners.delete(listener)),
    };
    const { service, another } = await setup({ store: inner });
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    const reader = another({ store: slowStore, revocation: revocation as never });
    const pending = reader.authenticate(key);
    await vi.waitFor(() => expect(gate.release).toBeDefined());
    // Revoked (by another process) while the read is in flight: the read saw the live record.
    await inner.revoke(ACME, record.id, 0);
    await revocation.announce({ kind: 'api-key', id: record.id });
    openGate();
    await expect(pending).resolves.toBeDefined();
    const second = reader.authenticate(key);
    await vi.waitFor(() => expect(gate.release).toBeDefined());
    openGate();
    expect(await rejectionOf(second)).toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it("checklist: API keys revoked with their creator — a raised user epoch refuses the creator's earlier keys at once (cached or not, in every process), later keys work", async () => {
    const channel = createInProcessRevocationChannel();
    const revocationStore = memoryRevocationStore();
    const { service, another, clock } = await setup();
    const processA = createRevocationService({ store: revocationStore, channel, clock });
    const processB = createRevocationService({ store: revocationStore, channel, clock });
    revocations.push(processA, processB);
    const serviceA = another({ revocation: processA });
    const serviceB = another({ revocation: processB });
    const { key } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    await serviceA.authenticate(key);
    await serviceB.authenticate(key); // cached in both
    clock.advance(1);

    await processA.revokeUser(alice.id);

    expect(await rejectionOf(serviceA.authenticate(key))).toMatchObject({ code: 'API_KEY_INVALID' });
    expect(await rejectionOf(serviceB.authenticate(key))).toMatchObject({ code: 'API_KEY_INVALID' });
    clock.advance(1);
    const later = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    await expect(serviceB.authenticate(later.key)).resolves.toMatchObject({ grantsFrom: alice.id });
  });

  it('a scopes-only key has no creator: the user epoch leaves it, the tenant epoch ends it; another tenant is untouched', async () => {
    const { another, clock } = await setup();
    const revocation = createRevocationService({ store: memoryRevocationStore(), clock });
    revocations.push(revocation);
    const service = another({ revocation });
    const scoped = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice, scopesOnly: true });
    const userKey = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    clock.advance(1);
    await revocation.revokeUser(alice.id);
    await expect(service.authenticate(scoped.key)).resolves.toMatchObject({ grantsFrom: null });
    expect(await rejectionOf(service.authenticate(userKey.key))).toMatchObject({ code: 'API_KEY_INVALID' });
    await revocation.revokeTenant(GLOBEX);
    await expect(service.authenticate(scoped.key)).resolves.toMatchObject({ grantsFrom: null });
    await revocation.revokeTenant(ACME);
    expect(await rejectionOf(service.authenticate(scoped.key))).toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('answers API_KEY_NOT_FOUND for an unknown key and for another tenant\'s key, which keeps working', async () => {
    const { service } = await setup();
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    expect(await rejectionOf(service.revoke(ACME, 'k'.repeat(20)))).toMatchObject({ code: 'API_KEY_NOT_FOUND' });
    expect(await rejectionOf(service.revoke(GLOBEX, record.id))).toMatchObject({ code: 'API_KEY_NOT_FOUND' });
    await expect(service.authenticate(key)).resolves.toBeDefined();
    await service.revoke(ACME, record.id);
    await expect(service.revoke(ACME, record.id)).resolves.toBeUndefined();
  });

  it('lists the tenant keys, newest first, revoked ones included, no other tenant', async () => {
    const { service, clock } = await setup();
    const first = await service.create({ tenantId: ACME, name: 'first', scopes: ['projects:read'], creator: alice });
    clock.advance(1);
    const second = await service.create({ tenantId: ACME, name: 'second', scopes: ['projects:read'], creator: alice });
    await service.revoke(ACME, first.record.id);
    expect((await service.list(ACME)).map((record) => [record.name, record.revokedAt !== null])).toEqual([
      ['second', false],
      ['first', true],
    ]);
    expect(await service.list(GLOBEX)).toEqual([]);
    expect(second.record.createdAt).toBe(first.record.createdAt + 1);
  });
});

describe('API key last-used tracking', () => {
  it('writes no usage per request: 100 authentications, no recordUsage until the flush, then one batch', async () => {
    const { service, calls, clock } = await setup();
    const one = await service.create({ tenantId: ACME, name: 'one', scopes: ['projects:read'], creator: alice });
    const two = await service.create({ tenantId: ACME, name: 'two', scopes: ['projects:read'], creator: alice });
    for (let index = 0; index < 100; index += 1) {
      clock.advance(10);
      await service.authenticate(index % 2 === 0 ? one.key : two.key);
    }
    expect(calls.recordUsage).toHaveLength(0);
    await service.flushUsage();
    expect(calls.recordUsage).toHaveLength(1);
    expect(calls.recordUsage[0]).toEqual(
      expect.arrayContaining([
        { id: one.record.id, lastUsedAt: clock.now() - 10 },
        { id: two.record.id, lastUsedAt: clock.now() },
      ]),
    );
    expect(calls.recordUsage[0]).toHaveLength(2);
    expect((await service.list(ACME)).find((record) => record.id === two.record.id)?.lastUsedAt).toBe(clock.now());
    await service.flushUsage();
    expect(calls.recordUsage).toHaveLength(1);
  });

  it('flushes every usageFlushSeconds on a timer, and on close()', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { service, calls } = await setup({ usageFlushSeconds: 60 });
    const { key } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    await service.authenticate(key);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(calls.recordUsage).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls.recordUsage).toHaveLength(1);
    await service.authenticate(key);
    await service.close();
    expect(calls.recordUsage).toHaveLength(2);
  });

  it('keeps a batch whose write failed for the next flush', async () => {
    const { store: inner } = countingStore(memoryApiKeyStore());
    let failures = 1;
    const flaky = {
      ...inner,
      recordUsage: async (usage: readonly { id: string; lastUsedAt: number }[]) => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('database down');
        }
        return inner.recordUsage(usage);
      },
    };
    const { service } = await setup({ store: flaky });
    const { key, record } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    await service.authenticate(key);
    await expect(service.flushUsage()).rejects.toThrow('database down');
    await service.flushUsage();
    expect((await inner.findById(record.id))?.lastUsedAt).not.toBeNull();
  });
});

describe('API key rate limit', () => {
  it('charges the per-key policy after verification and refuses with AuthError RATE_LIMITED and retryAfterSeconds', async () => {
    const fixture = await setup();
    const limiter = createRateLimiter({ policies: [{ name: 'api-key', by: ['apiKey'], points: 2, duration: 60 }], clock: fixture.clock });
    const service = fixture.another({ rateLimit: { limiter, policy: 'api-key' } });
    const { key } = await service.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: alice });
    const other = await service.create({ tenantId: ACME, name: 'other', scopes: ['projects:read'], creator: alice });
    const wrongSecret = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    for (let index = 0; index < 5; index += 1) await rejectionOf(service.authenticate(wrongSecret));
    await service.authenticate(key);
    await service.authenticate(key);
    const error = await rejectionOf(service.authenticate(key));
    expect(error).toMatchObject({ code: 'RATE_LIMITED', name: 'AuthError', details: { retryAfterSeconds: expect.any(Number) } });
    expect(error.details?.retryAfterSeconds).toBeGreaterThan(0);
    await expect(service.authenticate(other.key)).resolves.toBeDefined();
    await limiter.close();
  });

  it('rejects a policy the limiter does not have (CONFIGURATION_INVALID)', async () => {
    const limiter = createRateLimiter({ policies: [{ name: 'api-key', by: ['apiKey'], points: 2, duration: 60 }] });
    expect(() =>
      createApiKeyService({ store: memoryApiKeyStore(), hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], rateLimit: { limiter, policy: 'nope' } }),
    ).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    await limiter.close();
  });
});

describe('createApiKeyService options', () => {
  it('rejects invalid options with CONFIGURATION_INVALID and never echoes a pepper', () => {
    const store = memoryApiKeyStore();
    const short = 'short-pepper-31-bytes-0123456789'.slice(0, 31);
    for (const options of [
      { store, hashKeys: [] },
      { store, hashKeys: [{ id: 'v1', secret: short }] },
      { store, hashKeys: [{ id: 'v1', secret: new Uint8Array(31) }] },
      { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }, { id: 'v1', secret: PEPPER_V2 }] },
      { store, hashKeys: [{ id: 'v 1', secret: PEPPER_V1 }] },
      { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], prefix: 'TK' },
      { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], prefix: 't' },
      { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], prefix: 'tk_x' },
      { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], usageFlushSeconds: 0 },
      { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], cacheTtlSeconds: -1 },
      { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], permissions: {} },
      { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], revocation: {} },
      { store: {}, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }] },
      { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], pepper: 'x' },
    ]) {
      let thrown: unknown;
      try {
        createApiKeyService(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown, JSON.stringify(Object.keys(options))).toMatchObject({ code: 'CONFIGURATION_INVALID' });
      const text = `${(thrown as Error).message} ${JSON.stringify((thrown as { details?: unknown }).details)}`;
      for (const secret of [short, PEPPER_V1, PEPPER_V2]) expect(text).not.toContain(secret);
    }
  });

  it('accepts a 32-byte binary pepper', async () => {
    const service = createApiKeyService({ store: memoryApiKeyStore(), hashKeys: [{ id: 'bin', secret: new Uint8Array(32).fill(7) }] });
    await service.close();
  });
});
