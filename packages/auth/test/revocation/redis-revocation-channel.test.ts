import { createId, createManualClock } from '@tenantkit/core';
import { describeWithService, testServices } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisRevocationChannel } from '../../src/adapters/redis.js';
import { memoryRevocationStore } from '../../src/adapters/memory/memory-revocation-store.js';
import { createSigningKeySet } from '../../src/keys/create-signing-key-set.js';
import { generateSigningKey } from '../../src/keys/generate-signing-key.js';
import { createRevocationService } from '../../src/revocation/create-revocation-service.js';
import type { RevocationService } from '../../src/revocation/revocation-service.js';
import type { RevocationChannel, RevocationEvent, RevocationStore } from '../../src/store.js';
import type { AccessTokenService } from '../../src/tokens/access-token-service.js';
import { createAccessTokenService } from '../../src/tokens/create-access-token-service.js';

// Pub/sub delivery on a loaded CI machine (2 cores, the whole suite in parallel) can take over
// vi.waitFor's 1 s default; the assertions are about delivery, not latency.
const pubSubDelivery = { timeout: 5_000, interval: 20 };

const code = (c: string) => expect.objectContaining({ code: c });

describe('redisRevocationChannel options', () => {
  const lazy = new Redis({ lazyConnect: true });
  afterAll(() => lazy.disconnect());

  it('refuses what is not a client, one connection for both roles, bad channel names and unknown options', () => {
    const subscriber = lazy.duplicate();
    expect(() => redisRevocationChannel(undefined as never)).toThrow(code('CONFIGURATION_INVALID'));
    expect(() => redisRevocationChannel({ publisher: {} as never, subscriber })).toThrow(code('CONFIGURATION_INVALID'));
    expect(() => redisRevocationChannel({ publisher: lazy, subscriber: { subscribe() {} } as never })).toThrow(code('CONFIGURATION_INVALID'));
    expect(() => redisRevocationChannel({ publisher: lazy, subscriber: lazy })).toThrow(code('CONFIGURATION_INVALID'));
    for (const channelName of ['', 'has space', 'x'.repeat(257), 42 as never]) {
      expect(() => redisRevocationChannel({ publisher: lazy, subscriber, channelName })).toThrow(code('CONFIGURATION_INVALID'));
    }
    expect(() => redisRevocationChannel({ publisher: lazy, subscriber, channel: 'x' } as never)).toThrow(code('CONFIGURATION_INVALID'));
    expect(() => redisRevocationChannel({ publisher: lazy, subscriber, onError: 'log' as never })).toThrow(code('CONFIGURATION_INVALID'));
    subscriber.disconnect();
  });
});

async function numberOfSubscribers(client: Redis, channel: string): Promise<number> {
  const reply = (await client.pubsub('NUMSUB', channel)) as [string, number];
  return Number(reply[1]);
}

async function clientIdByName(client: Redis, name: string): Promise<string> {
  const list = (await client.client('LIST')) as string;
  const line = list.split('\n').find((entry) => entry.includes(` name=${name} `));
  const id = /(?:^|\s)id=(\d+)/.exec(line ?? '')?.[1];
  if (id === undefined) throw new Error(`no client named ${name}`);
  return id;
}

/** A store shared by both "processes" that counts the round trips of each. */
function countedView(store: RevocationStore) {
  const counted = { ...store, checks: 0 };
  counted.check = (query, now) => {
    counted.checks += 1;
    return store.check(query, now);
  };
  return counted;
}

await describeWithService('redis', 'Redis revocation channel', () => {
  const connections: Redis[] = [];
  const channels: RevocationChannel[] = [];
  const services: RevocationService[] = [];
  const connect = (options: { connectionName?: string } = {}) => {
    const client = new Redis(testServices.redis.url, options);
    connections.push(client);
    return client;
  };
  const open = (options: Parameters<typeof redisRevocationChannel>[0]) => {
    const channel = redisRevocationChannel(options);
    channels.push(channel);
    return channel;
  };
  const uniqueChannelName = () => `tktest:${createId()}:auth-revocation`;
  let admin: Redis;

  beforeAll(() => {
    admin = connect();
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.close()));
    await Promise.all(channels.splice(0).map((channel) => channel.close()));
  });
  afterAll(async () => {
    await Promise.all(connections.map((client) => client.quit().catch(() => undefined)));
  });

  it('delivers every event kind between connections, the publisher included, as JSON {v:1,event}', async () => {
    const channelName = uniqueChannelName();
    const first = open({ publisher: connect(), subscriber: connect(), channelName });
    const second = open({ publisher: connect(), subscriber: connect(), channelName });
    const atFirst: RevocationEvent[] = [];
    const atSecond: RevocationEvent[] = [];
    await first.subscribe((event) => atFirst.push(event));
    await second.subscribe((event) => atSecond.push(event));
    const events: RevocationEvent[] = [
      { kind: 'jti', id: 'jti_1', until: 1767226500000 },
      { kind: 'session', id: 'ses_1', until: 1767226500000 },
      { kind: 'user-epoch', id: 'usr_1', epoch: 1767225600000 },
      { kind: 'tenant-epoch', id: 'tnt_a', epoch: 1767225600000 },
      { kind: 'api-key', id: 'key_1' },
      { kind: 'signing-key-retired', id: 'k1' },
    ];
    for (const event of events) await first.publish(event);
    await vi.waitFor(() => {
      expect(atFirst).toEqual(events);
      expect(atSecond).toEqual(events);
    }, pubSubDelivery);
  });

  it('ignores malformed messages (never trusted), reports them, and keeps delivering', async () => {
    const channelName = uniqueChannelName();
    const errors: unknown[] = [];
    const channel = open({ publisher: connect(), subscriber: connect(), channelName, onError: (error) => errors.push(error) });
    const seen: RevocationEvent[] = [];
    await channel.subscribe((event) => seen.push(event));
    const garbage = [
      'not json',
      '{"kind":"user-epoch","id":"usr_1","epoch":1}',
      '{"v":2,"event":{"kind":"user-epoch","id":"usr_1","epoch":1}}',
      '{"v":1,"event":{"kind":"user-epoch","id":"usr_1","epoch":"9999999999999"}}',
      '{"v":1,"event":{"kind":"user-epoch","id":"usr_1","epoch":1,"extra":true}}',
      '{"v":1,"event":{"kind":"everything","id":"*"}}',
      '{"v":1,"event":{"kind":"jti","id":""," until":1}}',
      `{"v":1,"event":{"kind":"api-key","id":"${'x'.repeat(3000)}"}}`,
    ];
    for (const message of garbage) await admin.publish(channelName, message);
    await admin.publish(channelName, '{"v":1,"event":{"kind":"api-key","id":"key_ok"}}');
    await vi.waitFor(() => expect(seen).toEqual([{ kind: 'api-key', id: 'key_ok' }]), pubSubDelivery);
    expect(errors).toEqual(garbage.map(() => code('VALIDATION_FAILED')));
  });

  it('publish refuses what is not a revocation event', async () => {
    const channel = open({ publisher: connect(), subscriber: connect(), channelName: uniqueChannelName() });
    await expect(channel.publish({ kind: 'jti', id: 'x' } as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('subscribes on the first listener and unsubscribes when the last leaves; close leaves the connections to their owner', async () => {
    const channelName = uniqueChannelName();
    const subscriber = connect();
    const channel = open({ publisher: connect(), subscriber, channelName });
    const stopA = await channel.subscribe(() => undefined);
    const stopB = await channel.subscribe(() => undefined);
    expect(await numberOfSubscribers(admin, channelName)).toBe(1);
    await stopA();
    expect(await numberOfSubscribers(admin, channelName)).toBe(1);
    await stopB();
    expect(await numberOfSubscribers(admin, channelName)).toBe(0);
    await channel.subscribe(() => undefined);
    await channel.close();
    expect(await numberOfSubscribers(admin, channelName)).toBe(0);
    expect(subscriber.status).toBe('ready');
    await expect(channel.publish({ kind: 'api-key', id: 'k' })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('after the subscriber connection drops, resubscribes on ready and calls onResync', async () => {
    const connectionName = `tktest-auth-sub-${createId()}`;
    const channelName = uniqueChannelName();
    const subscriber = connect({ connectionName });
    const channel = open({ publisher: connect(), subscriber, channelName });
    const seen: RevocationEvent[] = [];
    let resyncs = 0;
    await channel.subscribe(
      (event) => seen.push(event),
      () => {
        resyncs += 1;
      },
    );
    await channel.publish({ kind: 'api-key', id: 'before' });
    await vi.waitFor(() => expect(seen).toHaveLength(1), pubSubDelivery);
    await admin.client('KILL', 'ID', await clientIdByName(admin, connectionName));
    await vi.waitFor(() => expect(resyncs).toBe(1), { timeout: 10_000 });
    await channel.publish({ kind: 'api-key', id: 'after' });
    await vi.waitFor(() => expect(seen.map((event) => event.id)).toEqual(['before', 'after']), pubSubDelivery);
  });

  describe('two processes: separate revocation services sharing one store and a Redis channel', () => {
    async function twoProcesses() {
      const channelName = uniqueChannelName();
      // The clock never moves and the staleness bound is long: without the message, B would
      // keep trusting its last store answer for the whole test.
      const clock = createManualClock();
      const shared = memoryRevocationStore({ clock });
      const keyInput = await generateSigningKey({ kid: 'k1' });
      const start = async () => {
        const store = countedView(shared);
        const revocation = createRevocationService({
          store,
          channel: open({ publisher: connect(), subscriber: connect(), channelName }),
          clock,
          maxStalenessMs: 300_000,
        });
        services.push(revocation);
        const keys = await createSigningKeySet({ keys: [keyInput], clock });
        const tokens: AccessTokenService = createAccessTokenService({ keys, issuer: 'https://auth.example.com', audience: 'api', revocation, clock });
        return { store, revocation, tokens };
      };
      const a = await start();
      const b = await start();
      await vi.waitFor(async () => expect(await numberOfSubscribers(admin, channelName)).toBe(2), pubSubDelivery);
      // Both services finished subscribing (and trust their memo) once a probe goes through.
      const heard: RevocationEvent[] = [];
      b.revocation.onEvent((event) => heard.push(event));
      await vi.waitFor(async () => {
        await a.revocation.announce({ kind: 'api-key', id: 'probe' });
        expect(heard.length).toBeGreaterThan(0);
      }, pubSubDelivery);
      return { a, b, clock };
    }

    /** Polls B's verify for up to 1 s until it fails; returns the error. */
    async function failureWithinOneSecond(tokens: AccessTokenService, token: string): Promise<unknown> {
      let failure: unknown;
      await vi.waitFor(
        async () => {
          failure = await tokens.verify(token).then(
            () => undefined,
            (error: unknown) => error,
          );
          expect(failure).toBeDefined();
        },
        { timeout: 1_000, interval: 10 },
      );
      return failure;
    }

    it('a revoked jti in A fails B within the message delivery', async () => {
      const { a, b } = await twoProcesses();
      const issued = await a.tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
      await expect(b.tokens.verify(issued.token)).resolves.toBeDefined();
      await expect(b.tokens.verify(issued.token)).resolves.toBeDefined();
      expect(b.store.checks).toBe(1);
      await a.tokens.revoke(issued.claims);
      await expect(a.tokens.verify(issued.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
      await expect(failureWithinOneSecond(b.tokens, issued.token)).resolves.toMatchObject({ code: 'TOKEN_REVOKED' });
      // The message did it: B never asked the store again.
      expect(b.store.checks).toBe(1);
    });

    it('revokeUser, revokeSession and revokeTenant in A fail B within the message delivery', async () => {
      const { a, b, clock } = await twoProcesses();
      const user = await a.tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
      const session = await a.tokens.issue({ userId: 'usr_2', tenantId: 'tnt_a', sessionId: 'ses_2' });
      const tenant = await a.tokens.issue({ userId: 'usr_3', tenantId: 'tnt_c', sessionId: 'ses_3' });
      for (const issued of [user, session, tenant]) await b.tokens.verify(issued.token);
      clock.advance(1);
      await a.revocation.revokeUser('usr_1');
      await a.revocation.revokeSession('ses_2', session.expiresAt);
      await a.revocation.revokeTenant('tnt_c');
      for (const issued of [user, session, tenant]) {
        await expect(failureWithinOneSecond(b.tokens, issued.token)).resolves.toMatchObject({ code: 'TOKEN_REVOKED' });
      }
      expect(b.store.checks).toBe(3);
    });
  });
});
