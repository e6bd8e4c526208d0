import { createId, createManualClock } from '@tenantkit/core';
import { buildAssignment, describeWithRedisCluster, describeWithService, testServices } from '@tenantkit/test-utils';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { defaultRedisInvalidationChannel, redisInvalidationChannel } from '../../src/adapters/redis.js';
import { decodeInvalidationMessage, encodeInvalidationMessage } from '../../src/adapters/redis/invalidation-message.js';
import { memoryRbacStore } from '../../src/adapters/memory.js';
import { createRbac } from '../../src/create-rbac.js';
import type { InvalidationChannel } from '../../src/invalidation/invalidation-channel.js';
import { syncPolicy } from '../../src/policy/sync-policy.js';

// Pub/sub delivery on a loaded CI machine (2 cores, the whole suite in parallel) can take over
// vi.waitFor's 1 s default; the assertions are about delivery, not latency.
const pubSubDelivery = { timeout: 5_000, interval: 20 };

const code = (c: string) => expect.objectContaining({ code: c });

describe('invalidation messages', () => {
  it('round-trips a tenant id and null (global roles)', () => {
    expect(decodeInvalidationMessage(encodeInvalidationMessage('tnt_1'))).toEqual({ tenantId: 'tnt_1' });
    expect(decodeInvalidationMessage(encodeInvalidationMessage(null))).toEqual({ tenantId: null });
    expect(encodeInvalidationMessage('tnt_1')).toBe('{"v":1,"tenantId":"tnt_1"}');
  });

  it('ignores everything that is not an invalidation', () => {
    const garbage: unknown[] = [
      'hello',
      '',
      'null',
      '[]',
      '"tnt_1"',
      '{"v":2,"tenantId":"tnt_1"}',
      '{"v":1}',
      '{"tenantId":"tnt_1"}',
      '{"v":1,"tenantId":"tnt_1","extra":true}',
      '{"v":1,"tenantId":42}',
      '{"v":1,"tenantId":""}',
      '{"v":1,"tenantId":"../etc"}',
      '{"v":1,"tenantId":"tnt 1"}',
      `{"v":1,"tenantId":"${'x'.repeat(65)}"}`,
      `{"v":1,"tenantId":"tnt_1","pad":"${'x'.repeat(600)}"}`,
      '{"__proto__":{"v":1},"tenantId":"tnt_1"}',
      Buffer.from('{"v":1,"tenantId":"tnt_1"}'),
      undefined,
    ];
    for (const message of garbage) expect(decodeInvalidationMessage(message)).toBeUndefined();
  });
});

describe('redisInvalidationChannel options', () => {
  const lazy = new Redis({ lazyConnect: true });
  afterAll(() => lazy.disconnect());

  it('refuses what is not an ioredis client, the same client twice, bad channel names and unknown options', () => {
    expect(() => redisInvalidationChannel(undefined as never)).toThrow(code('CONFIGURATION_INVALID'));
    expect(() => redisInvalidationChannel({ publisher: {} as never })).toThrow(code('CONFIGURATION_INVALID'));
    expect(() => redisInvalidationChannel({ publisher: lazy, subscriber: { subscribe() {} } as never })).toThrow(
      code('CONFIGURATION_INVALID'),
    );
    expect(() => redisInvalidationChannel({ publisher: lazy, subscriber: lazy })).toThrow(code('CONFIGURATION_INVALID'));
    for (const channel of ['', 'has space', 'x'.repeat(257), 'tab\t', 42 as never]) {
      expect(() => redisInvalidationChannel({ publisher: lazy, subscriber: lazy.duplicate(), channel })).toThrow(
        code('CONFIGURATION_INVALID'),
      );
    }
    expect(() => redisInvalidationChannel({ publisher: lazy, subscribr: lazy } as never)).toThrow(code('CONFIGURATION_INVALID'));
    expect(() => redisInvalidationChannel({ publisher: lazy, onError: 'log' as never })).toThrow(code('CONFIGURATION_INVALID'));
  });
});

/** Collects what a channel delivers. */
function recorder() {
  const received: (string | null)[] = [];
  let resyncs = 0;
  return {
    received,
    listener: (tenantId: string | null) => {
      received.push(tenantId);
    },
    onResync: () => {
      resyncs += 1;
    },
    get resyncs() {
      return resyncs;
    },
  };
}

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

await describeWithService('redis', 'Redis invalidation channel on a single node', () => {
  const connections: Redis[] = [];
  const channels: InvalidationChannel[] = [];
  const connect = (options: { connectionName?: string } = {}) => {
    const client = new Redis(testServices.redis.url, options);
    connections.push(client);
    return client;
  };
  const open = (options: Parameters<typeof redisInvalidationChannel>[0]) => {
    const channel = redisInvalidationChannel(options);
    channels.push(channel);
    return channel;
  };
  const channelName = () => `tktest:${createId()}:rbac-invalidate`;
  let admin: Redis;

  beforeAll(() => {
    admin = connect();
  });
  afterEach(async () => {
    await Promise.all(channels.splice(0).map((channel) => channel.close()));
  });
  afterAll(async () => {
    await Promise.all(connections.map((client) => client.quit().catch(() => undefined)));
  });

  it('delivers publishes between two processes (separate connections), the publisher included', async () => {
    const name = channelName();
    const first = open({ publisher: connect(), channel: name });
    const second = open({ publisher: connect(), channel: name });
    const atFirst = recorder();
    const atSecond = recorder();
    await first.subscribe(atFirst.listener);
    await second.subscribe(atSecond.listener);

    await first.publish('tnt_a');
    await second.publish(null);
    await second.publish('tnt_b');

    await vi.waitFor(() => {
      expect(atFirst.received).toEqual(['tnt_a', null, 'tnt_b']);
      expect(atSecond.received).toEqual(['tnt_a', null, 'tnt_b']);
    }, pubSubDelivery);
  });

  it('keeps channels of different names apart', async () => {
    const one = open({ publisher: connect(), channel: channelName() });
    const other = open({ publisher: connect(), channel: channelName() });
    const atOther = recorder();
    const atOne = recorder();
    await other.subscribe(atOther.listener);
    await one.subscribe(atOne.listener);
    await one.publish('tnt_a');
    await other.publish('tnt_b');
    await vi.waitFor(() => expect(atOther.received).toEqual(['tnt_b']), pubSubDelivery);
    expect(atOne.received).toEqual(['tnt_a']);
  });

  it('ignores garbage on the channel, reports it, and keeps delivering', async () => {
    const name = channelName();
    const errors: unknown[] = [];
    const channel = open({ publisher: connect(), channel: name, onError: (error) => errors.push(error) });
    const seen = recorder();
    await channel.subscribe(seen.listener);
    await admin.publish(name, 'not json');
    await admin.publish(name, '{"v":1,"tenantId":"../../etc"}');
    await admin.publish(name, '{"v":1,"tenantId":"tnt_ok"}');
    await vi.waitFor(() => expect(seen.received).toEqual(['tnt_ok']), pubSubDelivery);
    expect(errors).toEqual([code('VALIDATION_FAILED'), code('VALIDATION_FAILED')]);
  });

  it('never lets a throwing listener (or a throwing onError) stop delivery to the others', async () => {
    const name = channelName();
    const channel = open({
      publisher: connect(),
      channel: name,
      onError: () => {
        throw new Error('reporter broke too');
      },
    });
    const seen = recorder();
    await channel.subscribe(() => {
      throw new Error('listener broke');
    });
    await channel.subscribe(seen.listener);
    await channel.publish('tnt_a');
    await channel.publish('tnt_b');
    await vi.waitFor(() => expect(seen.received).toEqual(['tnt_a', 'tnt_b']), pubSubDelivery);
  });

  it('subscribes on the first listener and unsubscribes when the last one leaves', async () => {
    const name = channelName();
    const channel = open({ publisher: connect(), channel: name });
    expect(await numberOfSubscribers(admin, name)).toBe(0);
    const first = recorder();
    const second = recorder();
    const removeFirst = await channel.subscribe(first.listener);
    const removeSecond = await channel.subscribe(second.listener);
    expect(await numberOfSubscribers(admin, name)).toBe(1);

    await removeFirst();
    await removeFirst(); // idempotent
    await channel.publish('tnt_a');
    await vi.waitFor(() => expect(second.received).toEqual(['tnt_a']), pubSubDelivery);
    expect(first.received).toEqual([]);

    await removeSecond();
    expect(await numberOfSubscribers(admin, name)).toBe(0);
  });

  it('survives concurrent subscribe and unsubscribe calls', async () => {
    const name = channelName();
    const channel = open({ publisher: connect(), channel: name });
    const removers = await Promise.all(Array.from({ length: 20 }, () => channel.subscribe(() => undefined)));
    await Promise.all(removers.map((remove) => remove()));
    expect(await numberOfSubscribers(admin, name)).toBe(0);
    const seen = recorder();
    const [remove] = await Promise.all([channel.subscribe(seen.listener), ...removers.map((r) => r())]);
    expect(await numberOfSubscribers(admin, name)).toBe(1);
    await remove();
  });

  it('refuses a tenant id no store holds', async () => {
    const channel = open({ publisher: connect(), channel: channelName() });
    for (const tenantId of ['', 'a b', '../x', 'x'.repeat(65), 7 as never]) {
      await expect(channel.publish(tenantId)).rejects.toEqual(code('TENANT_IDENTIFIER_INVALID'));
    }
    await expect(channel.subscribe('nope' as never)).rejects.toEqual(code('VALIDATION_FAILED'));
  });

  it('closes the subscriber it created, leaves the publisher open, and refuses use after close', async () => {
    const publisher = connect();
    const name = channelName();
    const channel = redisInvalidationChannel({ publisher, channel: name });
    await channel.subscribe(() => undefined);
    expect(await numberOfSubscribers(admin, name)).toBe(1);
    await channel.close();
    await channel.close(); // idempotent
    expect(await numberOfSubscribers(admin, name)).toBe(0);
    expect(await publisher.ping()).toBe('PONG');
    await expect(channel.publish('tnt_a')).rejects.toEqual(code('STORE_UNAVAILABLE'));
    await expect(channel.subscribe(() => undefined)).rejects.toEqual(code('STORE_UNAVAILABLE'));
  });

  it('only unsubscribes a subscriber it was given, and keeps it usable', async () => {
    const subscriber = connect();
    const name = channelName();
    const channel = redisInvalidationChannel({ publisher: connect(), subscriber, channel: name });
    await channel.subscribe(() => undefined);
    await channel.close();
    expect(await numberOfSubscribers(admin, name)).toBe(0);
    expect(subscriber.status).toBe('ready');
    expect(await subscriber.ping()).toBe('PONG');
  });

  it('after the subscriber connection is killed, resubscribes, calls onResync and delivers again', async () => {
    const connectionName = `tktest-sub-${createId().replace(/[^a-z0-9]/gi, '')}`;
    const name = channelName();
    const subscriber = connect({ connectionName });
    const errors: unknown[] = [];
    const channel = open({ publisher: connect(), subscriber, channel: name, onError: (error) => errors.push(error) });
    const seen = recorder();
    const other = recorder();
    await channel.subscribe(seen.listener, seen.onResync);
    await channel.subscribe(other.listener); // no onResync: fine
    await channel.publish('tnt_before');
    await vi.waitFor(() => expect(seen.received).toEqual(['tnt_before']), pubSubDelivery);
    expect(seen.resyncs).toBe(0);

    const id = await clientIdByName(admin, connectionName);
    await admin.client('KILL', 'ID', id);

    await vi.waitFor(() => expect(seen.resyncs).toBe(1), { timeout: 10_000 });
    expect(await numberOfSubscribers(admin, name)).toBe(1);
    await channel.publish('tnt_after');
    await vi.waitFor(() => expect(seen.received).toEqual(['tnt_before', 'tnt_after']), pubSubDelivery);
    expect(other.received).toEqual(['tnt_before', 'tnt_after']);
  });

  it('lets one createRbac tell another, through Redis, to drop a tenant it has cached', async () => {
    const name = channelName();
    const clock = createManualClock();
    const store = memoryRbacStore();
    await syncPolicy(store, { roles: { reader: { permissions: ['docs:read'] } } }, { tenantId: 'tnt_a', clock });
    // The clock never moves, so without a message the second process would serve its cache forever.
    const first = createRbac({ store, clock, invalidation: open({ publisher: connect(), channel: name }), cache: { maxStalenessMs: 60_000 } });
    const second = createRbac({ store, clock, invalidation: open({ publisher: connect(), channel: name }), cache: { maxStalenessMs: 60_000 } });
    try {
      await vi.waitFor(async () => expect(await numberOfSubscribers(admin, name)).toBe(2), pubSubDelivery);
      const alice = { id: 'usr_1' };
      expect(await second.can(alice, 'docs:read', undefined, { tenantId: 'tnt_a' })).toBe(false);
      // Written behind both processes' backs: nobody announced it yet.
      await store.insertAssignment(buildAssignment({ tenantId: 'tnt_a', id: 'asg_1', roleKey: 'reader', subjectId: 'usr_1' }), {
        maxAssignments: null,
        now: clock.now(),
      });
      expect(await second.can(alice, 'docs:read', undefined, { tenantId: 'tnt_a' })).toBe(false);
      await first.invalidateTenant('tnt_a');
      await vi.waitFor(async () => expect(await second.can(alice, 'docs:read', undefined, { tenantId: 'tnt_a' })).toBe(true), pubSubDelivery);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('uses the default channel name when none is given', async () => {
    const channel = open({ publisher: connect() });
    await channel.subscribe(() => undefined);
    expect(await numberOfSubscribers(admin, defaultRedisInvalidationChannel)).toBeGreaterThanOrEqual(1);
  });

  it('turns a failed publish into STORE_UNAVAILABLE', async () => {
    const publisher = new Redis(testServices.redis.url, { lazyConnect: true, enableOfflineQueue: false });
    connections.push(publisher);
    const channel = open({ publisher, subscriber: connect(), channel: channelName() });
    await expect(channel.publish('tnt_a')).rejects.toEqual(code('STORE_UNAVAILABLE'));
  });
});

await describeWithRedisCluster('Redis invalidation channel on a Redis Cluster', (cluster) => {
  const clients: Cluster[] = [];
  const channels: InvalidationChannel[] = [];
  const connect = () => {
    const client = new Cluster([...cluster().nodes]);
    clients.push(client);
    return client;
  };

  afterAll(async () => {
    await Promise.all(channels.map((channel) => channel.close()));
    await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
  });

  it('delivers publishes between two Cluster clients (plain PUBLISH reaches every node)', async () => {
    const name = `tktest:${createId()}:rbac-invalidate`;
    const first = redisInvalidationChannel({ publisher: connect(), channel: name });
    const second = redisInvalidationChannel({ publisher: connect(), channel: name });
    channels.push(first, second);
    const atFirst = recorder();
    const atSecond = recorder();
    await first.subscribe(atFirst.listener);
    await second.subscribe(atSecond.listener);
    // Publish many tenants from both sides: whichever node each client's subscriber and
    // publisher talk to, every message arrives everywhere (in no set order: it travels the
    // cluster bus from the node it was published on).
    const tenants = Array.from({ length: 10 }, (_, index) => `tnt_${index}`);
    for (const [index, tenantId] of tenants.entries()) await (index % 2 === 0 ? first : second).publish(tenantId);
    await vi.waitFor(() => {
      expect([...atFirst.received].sort()).toEqual(tenants);
      expect([...atSecond.received].sort()).toEqual(tenants);
    }, pubSubDelivery);
  });

  it('publishes through one node and hears it on a subscriber connected to every other node', async () => {
    const name = `tktest:${createId()}:rbac-invalidate`;
    const publisher = redisInvalidationChannel({ publisher: connect(), channel: name });
    channels.push(publisher);
    // One plain connection per master as subscriber; the lazy publishers never connect.
    const nodeClients = cluster().nodes.flatMap((node) => [
      new Redis(node.port, node.host),
      new Redis(node.port, node.host, { lazyConnect: true }),
    ]);
    const listening: { channel: InvalidationChannel; seen: ReturnType<typeof recorder> }[] = [];
    try {
      for (let index = 0; index < nodeClients.length; index += 2) {
        const channel = redisInvalidationChannel({ publisher: nodeClients[index + 1]!, subscriber: nodeClients[index]!, channel: name });
        const seen = recorder();
        listening.push({ channel, seen });
        await channel.subscribe(seen.listener);
      }
      await publisher.publish('tnt_x');
      await vi.waitFor(() => {
        for (const { seen } of listening) expect(seen.received).toEqual(['tnt_x']);
      }, pubSubDelivery);
    } finally {
      for (const { channel } of listening) await channel.close();
      for (const client of nodeClients) client.disconnect();
    }
  });
});
