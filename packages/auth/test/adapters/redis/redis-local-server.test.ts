// The Redis auth stores on a redis-server of this file's own: script-cache loss and a real
// outage with recovery, which must not be staged on the shared server other test files use.
import { buildRefreshFamilyRecord, buildRefreshTokenRecord, buildSessionRecord, describeWithLocalRedisServer } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisAuthStores } from '../../../src/adapters/redis.js';

const code = (c: string) => expect.objectContaining({ code: c });

await describeWithLocalRedisServer('redisAuthStores on a redis-server of its own', (server) => {
  let client: Redis;

  beforeAll(async () => {
    client = new Redis(server().url, { maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 50, 200) });
    client.on('error', () => undefined);
    await client.ping();
  });

  afterAll(() => {
    client?.disconnect();
  });

  it('runs its scripts again after the script cache was flushed (EVAL on NOSCRIPT)', async () => {
    const stores = redisAuthStores(client);
    const now = Date.now();
    const session = buildSessionRecord({ id: 'ses_flush', tokenHash: 'sth_flush', userId: 'usr_flush', createdAt: now });
    expect(await stores.sessions.create(session)).toBe('created');
    await client.script('FLUSH');
    expect(await stores.sessions.touch(session.id, { now, expiresAt: now + 2 * 86_400_000 })).toMatchObject({ id: session.id, lastSeenAt: now });
    await client.script('FLUSH');
    expect(await stores.sessions.deleteByUser(session.userId)).toEqual([session.id]);
  });

  it('rejects with STORE_UNAVAILABLE while the server is down and works again once it is back', async () => {
    const stores = redisAuthStores(client);
    const now = Date.now();
    await server().kill('SIGKILL');
    const family = buildRefreshFamilyRecord({ id: 'rtf_outage', userId: 'usr_outage', createdAt: now });
    const first = buildRefreshTokenRecord({ tokenHash: 'rth_outage', familyId: family.id, issuedAt: now });
    await expect(stores.refreshTokens.createFamily(family, first)).rejects.toEqual(code('STORE_UNAVAILABLE'));
    await expect(stores.revocations.check({ jti: 'j', sessionId: 's', userId: 'u', tenantId: 't' }, now)).rejects.toEqual(code('STORE_UNAVAILABLE'));
    await server().restart();
    await client.ping();
    // The restarted server is empty (no persistence) and has no scripts cached either.
    expect(await stores.refreshTokens.createFamily(family, first)).toBe('created');
    expect(
      await stores.refreshTokens.rotate({
        presentedHash: first.tokenHash,
        next: buildRefreshTokenRecord({ tokenHash: 'rth_outage_1', familyId: family.id, generation: 1, issuedAt: now }),
        successorSealed: 'sealed',
        now,
        graceMs: 10_000,
      }),
    ).toEqual({ outcome: 'rotated', family });
  });
});
