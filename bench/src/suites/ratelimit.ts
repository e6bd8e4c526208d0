import { fileURLToPath } from 'node:url';
import { createRateLimiter, memoryRateLimitStore, type RateLimiter, type RateLimitPolicyDefinition, type RateLimitSubject } from '@tenantkit/ratelimit';
import { redisRateLimitStore } from '@tenantkit/ratelimit/redis';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterUnion, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { benchResult, type BenchResult, type BenchSuite } from '../bench-result.js';
import { compareHttp } from '../measure-http.js';
import { compareOps, median } from '../measure-ops.js';
import { benchKeyPrefix, deleteKeysWithPrefix, redisUrl } from '../servers/fastify-ratelimit-fixture.js';

/*
 * Our limiter against rate-limiter-flexible (RLF) itself, the engine it is built on, and
 * against @fastify/rate-limit for an HTTP route, in the same run.
 *
 * - Memory: `createRateLimiter({ policies: [one], store: memoryRateLimitStore() }).check()`
 *   vs `RateLimiterMemory.consume()` over the same 10k keys, once with limits nothing reaches
 *   and once with every key already over its limit (refusals: RLF rejects with a
 *   RateLimiterRes, we resolve a decision).
 * - Redis (127.0.0.1:6379): `redisRateLimitStore(ioredis)` vs `RateLimiterRedis.consume()`, 64
 *   calls in flight (throughput, not latency), each side on its own ioredis client.
 * - Three policies (tenant, tenant+user, ip) in one `check` (one EVALSHA) vs three RLF
 *   consumes one after the other, vs the same three at once (Promise.all) and vs
 *   RateLimiterUnion (which consumes the SAME key in every limiter, so it is only a rough
 *   peer: it cannot key policies by different dimensions, and it is not all-or-nothing);
 *   at 64 in flight (throughput) and one at a time (latency, where the round trips show).
 * - HTTP: a Fastify route under our plugin vs @fastify/rate-limit with the same limit (both
 *   keyed by client IP, memory and Redis stores) and vs the bare route, via autocannon.
 *
 * Every side's answers are checked before anything is timed, and every Redis key the suite
 * wrote is removed afterwards (SCAN + UNLINK on its own prefix).
 */

const quick = process.env.BENCH_QUICK === '1';
const opsOptions = quick ? { rounds: 2, roundMs: 100 } : { rounds: 7, roundMs: 300 };
const concurrentOptions = quick ? { rounds: 2, roundMs: 200 } : { rounds: 5, roundMs: 1000 };
const httpOptions = quick ? { rounds: 1, durationSeconds: 1 } : { rounds: 5, durationSeconds: 3 };
const keyCount = 10_000;
const inFlight = 64;
/** A limit no run reaches: every call is admitted. */
const unreachable = 1_000_000_000;
const windowSeconds = 3600;
const server = (name: string) => fileURLToPath(new URL(`../servers/${name}.ts`, import.meta.url));

/** Runs `operation` with `concurrency` calls in flight for `roundMs`; operations per second. */
async function concurrentOpsPerSecond(operation: () => Promise<unknown>, concurrency: number, roundMs: number): Promise<number> {
  let operations = 0;
  const start = performance.now();
  const deadline = start + roundMs;
  const lane = async () => {
    while (performance.now() < deadline) {
      await operation();
      operations += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return operations / ((performance.now() - start) / 1000);
}

/** compareOps with `concurrency` calls in flight: alternating rounds after a warm-up, medians. */
async function compareConcurrent(
  ours: () => Promise<unknown>,
  peer: () => Promise<unknown>,
  concurrency = inFlight,
): Promise<{ ours: number; peer: number }> {
  const { rounds, roundMs } = concurrentOptions;
  await concurrentOpsPerSecond(ours, concurrency, roundMs);
  await concurrentOpsPerSecond(peer, concurrency, roundMs);
  const oursRounds: number[] = [];
  const peerRounds: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    oursRounds.push(await concurrentOpsPerSecond(ours, concurrency, roundMs));
    peerRounds.push(await concurrentOpsPerSecond(peer, concurrency, roundMs));
  }
  return { ours: median(oursRounds), peer: median(peerRounds) };
}

/** Cycles through a fixed array, so neither side allocates keys while it is timed. */
function cycle<T>(items: readonly T[]): () => T {
  let index = 0;
  return () => {
    const item = items[index]!;
    index = index + 1 === items.length ? 0 : index + 1;
    return item;
  };
}

/** RLF rejects a refused consume with a RateLimiterRes (not an Error); the app catches it. */
function admittedByRlf(consume: Promise<unknown>): Promise<boolean> {
  return consume.then(
    () => true,
    (rejection: unknown) => {
      if (rejection instanceof Error) throw rejection;
      return false;
    },
  );
}

async function expectDecisions(side: string, check: () => Promise<boolean>, expected: boolean, times: number): Promise<void> {
  for (let call = 0; call < times; call += 1) {
    const allowed = await check();
    if (allowed !== expected) throw new Error(`${side}: call ${call} answered allowed=${allowed}, expected ${expected}`);
  }
}

const keys = Array.from({ length: keyCount }, (_, index) => `client-${index}`);
const keySubjects: readonly RateLimitSubject[] = keys.map((key) => ({ key }));
const keyPolicy = (points: number): RateLimitPolicyDefinition => ({ name: 'api', by: ['key'], points, duration: windowSeconds });

// Three policies of a typical API: per tenant, per user in the tenant, per client IP.
// 100 tenants, 10k users (100 per tenant), 10k IPs.
const combinedSubjects: readonly RateLimitSubject[] = Array.from({ length: keyCount }, (_, index) => ({
  tenantId: `tenant-${index % 100}`,
  userId: `user-${index}`,
  ip: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
}));
const combinedPolicies: readonly RateLimitPolicyDefinition[] = [
  { name: 'tenant', by: ['tenant'], points: unreachable, duration: windowSeconds },
  { name: 'tenant-user', by: ['tenant', 'user'], points: unreachable, duration: windowSeconds },
  { name: 'ip', by: ['ip'], points: unreachable, duration: windowSeconds },
];
/** The same subjects as RLF keys, one per policy, built before timing as an app would pass them. */
const combinedRlfKeys = combinedSubjects.map((subject) => ({
  tenant: subject.tenantId!,
  tenantUser: `${subject.tenantId!}:${subject.userId!}`,
  ip: subject.ip!,
}));

async function measureMemory(results: BenchResult[]): Promise<void> {
  const admitting = createRateLimiter({ policies: [keyPolicy(unreachable)], store: memoryRateLimitStore() });
  const rlfAdmitting = new RateLimiterMemory({ points: unreachable, duration: windowSeconds });
  const nextSubject = cycle(keySubjects);
  const nextKey = cycle(keys);
  await expectDecisions('ours, memory, admitting', async () => (await admitting.check(nextSubject())).allowed, true, keyCount);
  await expectDecisions('rlf, memory, admitting', () => admittedByRlf(rlfAdmitting.consume(nextKey())), true, keyCount);
  const admitted = await compareOps(
    () => admitting.check(nextSubject()),
    () => rlfAdmitting.consume(nextKey()),
    opsOptions,
  );
  results.push(
    benchResult({
      suite: 'ratelimit',
      case: `memory, 1 policy, ${keyCount / 1000}k keys, admitted: check() (target >= 0.9)`,
      unit: 'ops/s',
      value: admitted.ours,
      peer: 'rate-limiter-flexible RateLimiterMemory.consume',
      peerValue: admitted.peer,
    }),
  );
  await admitting.close();

  // Every key over its limit before timing: each call below is a refusal.
  const refusing = createRateLimiter({ policies: [keyPolicy(1)], store: memoryRateLimitStore() });
  const rlfRefusing = new RateLimiterMemory({ points: 1, duration: windowSeconds });
  await expectDecisions('ours, memory, first call', async () => (await refusing.check(nextSubject())).allowed, true, keyCount);
  await expectDecisions('ours, memory, refusing', async () => (await refusing.check(nextSubject())).allowed, false, keyCount);
  await expectDecisions('rlf, memory, first call', () => admittedByRlf(rlfRefusing.consume(nextKey())), true, keyCount);
  await expectDecisions('rlf, memory, refusing', () => admittedByRlf(rlfRefusing.consume(nextKey())), false, keyCount);
  const refused = await compareOps(
    () => refusing.check(nextSubject()),
    () => rlfRefusing.consume(nextKey()).catch(() => false),
    opsOptions,
  );
  results.push(
    benchResult({
      suite: 'ratelimit',
      case: `memory, 1 policy, ${keyCount / 1000}k keys, every call refused: check() (target >= 0.9)`,
      unit: 'ops/s',
      value: refused.ours,
      peer: 'rate-limiter-flexible RateLimiterMemory.consume (rejects with RateLimiterRes)',
      peerValue: refused.peer,
    }),
  );
  await refusing.close();
}

async function measureRedis(results: BenchResult[], prefix: string): Promise<void> {
  const oursClient = new Redis(redisUrl, { lazyConnect: true });
  const peerClient = new Redis(redisUrl, { lazyConnect: true });
  await oursClient.connect();
  await peerClient.connect();
  const limiters: RateLimiter[] = [];
  const withLimiter = (limiter: RateLimiter) => {
    limiters.push(limiter);
    return limiter;
  };
  try {
    const nextSubject = cycle(keySubjects);
    const nextKey = cycle(keys);
    const nextCombined = cycle(combinedSubjects);
    const nextCombinedKeys = cycle(combinedRlfKeys);

    // One policy, admitted.
    const ours = withLimiter(createRateLimiter({
      policies: [keyPolicy(unreachable)],
      store: redisRateLimitStore(oursClient),
      keyPrefix: `${prefix}-ours`,
    }));
    const peer = new RateLimiterRedis({ storeClient: peerClient, keyPrefix: `${prefix}-rlf`, points: unreachable, duration: windowSeconds });
    await expectDecisions('ours, redis', async () => (await ours.check(nextSubject())).allowed, true, 100);
    await expectDecisions('rlf, redis', () => admittedByRlf(peer.consume(nextKey())), true, 100);
    const single = await compareConcurrent(
      () => ours.check(nextSubject()),
      () => peer.consume(nextKey()),
    );
    results.push(
      benchResult({
        suite: 'ratelimit',
        case: `redis, 1 policy, ${keyCount / 1000}k keys, ${inFlight} in flight, admitted: check() (target >= 0.9)`,
        unit: 'ops/s',
        value: single.ours,
        peer: 'rate-limiter-flexible RateLimiterRedis.consume (ioredis)',
        peerValue: single.peer,
      }),
    );

    // One policy, every call refused.
    const oursRefusing = withLimiter(createRateLimiter({
      policies: [keyPolicy(1)],
      store: redisRateLimitStore(oursClient),
      keyPrefix: `${prefix}-ours-refusing`,
    }));
    const peerRefusing = new RateLimiterRedis({ storeClient: peerClient, keyPrefix: `${prefix}-rlf-refusing`, points: 1, duration: windowSeconds });
    await Promise.all(keySubjects.map((subject) => oursRefusing.check(subject)));
    await Promise.all(keys.map((key) => peerRefusing.consume(key)));
    await expectDecisions('ours, redis, refusing', async () => (await oursRefusing.check(nextSubject())).allowed, false, 100);
    await expectDecisions('rlf, redis, refusing', () => admittedByRlf(peerRefusing.consume(nextKey())), false, 100);
    const refused = await compareConcurrent(
      () => oursRefusing.check(nextSubject()),
      () => peerRefusing.consume(nextKey()).catch(() => false),
    );
    results.push(
      benchResult({
        suite: 'ratelimit',
        case: `redis, 1 policy, ${keyCount / 1000}k keys, ${inFlight} in flight, every call refused: check() (target >= 0.9)`,
        unit: 'ops/s',
        value: refused.ours,
        peer: 'rate-limiter-flexible RateLimiterRedis.consume (rejects with RateLimiterRes)',
        peerValue: refused.peer,
      }),
    );

    // Three policies in one round trip vs three consumes.
    const oursCombined = withLimiter(createRateLimiter({
      policies: combinedPolicies,
      store: redisRateLimitStore(oursClient),
      keyPrefix: `${prefix}-ours-combined`,
    }));
    const rlfByPolicy = (name: string): RateLimiterAbstract =>
      new RateLimiterRedis({ storeClient: peerClient, keyPrefix: `${prefix}-rlf-combined-${name}`, points: unreachable, duration: windowSeconds });
    const rlfTenant = rlfByPolicy('tenant');
    const rlfTenantUser = rlfByPolicy('tenant-user');
    const rlfIp = rlfByPolicy('ip');
    const union = new RateLimiterUnion(rlfByPolicy('union-tenant'), rlfByPolicy('union-tenant-user'), rlfByPolicy('union-ip'));
    const sequential = async () => {
      const keysOfRequest = nextCombinedKeys();
      await rlfTenant.consume(keysOfRequest.tenant);
      await rlfTenantUser.consume(keysOfRequest.tenantUser);
      await rlfIp.consume(keysOfRequest.ip);
    };
    const parallel = () => {
      const keysOfRequest = nextCombinedKeys();
      return Promise.all([rlfTenant.consume(keysOfRequest.tenant), rlfTenantUser.consume(keysOfRequest.tenantUser), rlfIp.consume(keysOfRequest.ip)]);
    };
    const unionConsume = () => union.consume(nextCombinedKeys().tenantUser);
    await expectDecisions('ours, redis, 3 policies', async () => {
      const decision = await oursCombined.check(nextCombined());
      return decision.allowed && decision.outcomes.length === 3;
    }, true, 100);
    await expectDecisions('rlf, 3 sequential', async () => {
      await sequential();
      return true;
    }, true, 100);
    const combinedCases = [
      ['three RateLimiterRedis.consume one after the other (3 round trips)', sequential],
      ['three RateLimiterRedis.consume at once (Promise.all, 3 commands)', parallel],
      ['RateLimiterUnion of three RateLimiterRedis (same key in all three, not all-or-nothing)', unionConsume],
    ] as const;
    for (const [peerName, peerOperation] of combinedCases) {
      const combined = await compareConcurrent(() => oursCombined.check(nextCombined()), peerOperation);
      results.push(
        benchResult({
          suite: 'ratelimit',
          case: `redis, 3 policies (tenant, tenant+user, ip), ${inFlight} in flight: one check() = 1 EVALSHA`,
          unit: 'ops/s',
          value: combined.ours,
          peer: peerName,
          peerValue: combined.peer,
        }),
      );
    }
    // One request at a time: what one round trip instead of three saves in latency (at 64 in
    // flight Redis's own CPU bounds both sides, so the round trips matter less there).
    const oneAtATime = await compareConcurrent(() => oursCombined.check(nextCombined()), sequential, 1);
    results.push(
      benchResult({
        suite: 'ratelimit',
        case: 'redis, 3 policies (tenant, tenant+user, ip), 1 in flight (latency-bound): one check() = 1 EVALSHA',
        unit: 'ops/s',
        value: oneAtATime.ours,
        peer: combinedCases[0][0],
        peerValue: oneAtATime.peer,
      }),
    );
  } finally {
    for (const limiter of limiters) await limiter.close();
    oursClient.disconnect();
    peerClient.disconnect();
  }
}

async function measureHttp(results: BenchResult[]): Promise<void> {
  const path = '/projects';
  const httpCases = [
    ['fastify route, 1 policy by IP, memory store: rateLimitPlugin', 'fastify-ratelimit-ours', 'fastify-ratelimit-peer', '@fastify/rate-limit, same limit, memory store'],
    ['fastify route, 1 policy by IP, memory store: rateLimitPlugin', 'fastify-ratelimit-ours', 'fastify-bare', 'bare fastify route (no limiting)'],
    ['fastify route, 1 policy by IP, redis store: rateLimitPlugin', 'fastify-ratelimit-ours-redis', 'fastify-ratelimit-peer-redis', '@fastify/rate-limit, same limit, redis store (ioredis)'],
  ] as const;
  for (const [caseName, oursServer, peerServer, peerName] of httpCases) {
    const measured = await compareHttp({ serverModule: server(oursServer), path }, { serverModule: server(peerServer), path }, httpOptions);
    results.push(benchResult({ suite: 'ratelimit', case: caseName, unit: 'req/s', value: measured.ours, peer: peerName, peerValue: measured.peer }));
  }
}

/**
 * `pnpm bench --json ratelimit`: our memory and Redis paths against raw rate-limiter-flexible
 * (target >= 0.9), three combined policies in one Redis round trip against three consumes,
 * and a Fastify route limited by our plugin against @fastify/rate-limit and a bare route.
 */
export const ratelimitSuite: BenchSuite = {
  name: 'ratelimit',
  description: 'limiter check() vs raw rate-limiter-flexible (memory, redis, 3 policies in one round trip); fastify plugin vs @fastify/rate-limit',
  async run() {
    const results: BenchResult[] = [];
    const prefix = benchKeyPrefix(process.pid);
    const cleaner = new Redis(redisUrl, { lazyConnect: true });
    await cleaner.connect();
    try {
      await measureMemory(results);
      await measureRedis(results, prefix);
      await measureHttp(results);
    } finally {
      await deleteKeysWithPrefix(cleaner, prefix);
      cleaner.disconnect();
    }
    return results;
  },
};
