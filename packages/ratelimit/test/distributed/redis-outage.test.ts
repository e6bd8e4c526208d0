import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { describeWithLocalRedisServer, type LocalRedisServer } from '@tenantkit/test-utils';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisRateLimitStore } from '../../src/adapters/redis.js';
import { RateLimitError } from '../../src/errors.js';
import { createRateLimiter } from '../../src/limiter/create-rate-limiter.js';
import type { RateLimitDecision } from '../../src/limiter/rate-limit-decision.js';
import type { RateLimitEvent, RateLimiter } from '../../src/limiter/rate-limiter.js';
import type { FailurePolicy } from '../../src/policies/rate-limit-policy.js';

const STORE_TIMEOUT_MS = 300;
/** A check may take its store timeout plus this much (event loop, GC) before it counts as hung. */
const SETTLE_SLACK_MS = 700;
const RECOVERY_BUDGET_MS = 5000;
const STREAM_INTERVAL_MS = 20;
const HEALTHY_MS = 500;
const OUTAGE_MS = 1500;
/** Redis points of the insurance limiter; during the outage each process may admit a quarter. */
const INSURANCE_POINTS = 200;
const INSURANCE_DIVIDE_BY = 8;
const FAILURE_POLICIES = ['open', 'closed', 'insurance'] as const satisfies readonly FailurePolicy[];

/**
 * The ioredis options docs-notes/redis-failure-config.md recommends: reconnect forever with a
 * short cap (recovery is at most one retry delay after Redis is back), fail in-flight commands
 * at once when the connection drops (nothing replays later), and bound a connection attempt.
 */
function recommendedClientOptions(): RedisOptions {
  return {
    retryStrategy: (times) => Math.min(times * 50, 500),
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
  };
}

const now = () => performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface CheckRecord {
  readonly policy: FailurePolicy;
  readonly startedAt: number;
  settledAt?: number;
  decision?: RateLimitDecision;
  error?: unknown;
}

/** Fires one check per limiter every STREAM_INTERVAL_MS without waiting for the previous ones. */
function startCheckStream(limiters: Readonly<Record<FailurePolicy, RateLimiter>>, tenantId: string) {
  const records: CheckRecord[] = [];
  const pending = new Set<Promise<void>>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const policy of FAILURE_POLICIES) {
        const record: CheckRecord = { policy, startedAt: now() };
        records.push(record);
        // The closed limiter goes through enforce: an outage must be a 503, never a 429.
        const call = policy === 'closed' ? limiters[policy].enforce({ tenantId }) : limiters[policy].check({ tenantId });
        const settled: Promise<void> = call
          .then(
            (decision) => {
              record.decision = decision;
            },
            (error: unknown) => {
              record.error = error;
            },
          )
          .finally(() => {
            record.settledAt = now();
            pending.delete(settled);
          });
        pending.add(settled);
      }
      await sleep(STREAM_INTERVAL_MS);
    }
  })();
  return {
    records,
    async stop() {
      running = false;
      await loop;
      await Promise.race([Promise.all(pending), sleep(STORE_TIMEOUT_MS + SETTLE_SLACK_MS)]);
    },
  };
}

const answeredByRedis = (record: CheckRecord) =>
  record.decision !== undefined && record.decision.outcomes.every((outcome) => outcome.degraded === undefined);

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!condition() && now() < deadline) await sleep(10);
}

/** One way Redis goes away, and how it comes back. */
interface OutageCase {
  readonly name: string;
  /** Resolves once Redis is gone. */
  readonly takeDown: (server: LocalRedisServer) => Promise<void>;
  /** Resolves once Redis can answer again. */
  readonly bringBack: (server: LocalRedisServer) => Promise<void>;
}

const outageCases: readonly OutageCase[] = [
  {
    name: 'killed (SIGKILL), then restarted on the same port',
    takeDown: (server) => server.kill('SIGKILL'),
    bringBack: (server) => server.restart(),
  },
  {
    name: 'stopped cleanly (SHUTDOWN NOSAVE), then restarted on the same port',
    takeDown: async (server) => {
      const admin = new Redis(server.port, server.host, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      admin.on('error', () => undefined);
      await admin.connect();
      // The server closes the connection instead of answering.
      await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      await server.exited();
      admin.disconnect();
    },
    bringBack: (server) => server.restart(),
  },
  {
    // The connection stays up and nothing answers: only storeTimeoutMs ends a check.
    name: 'frozen (SIGSTOP), then resumed (SIGCONT)',
    takeDown: async (server) => server.pause(),
    bringBack: async (server) => server.resume(),
  },
];

await describeWithLocalRedisServer('a Redis outage mid-run: failure policies, no hang, recovery within 5 s', (server) => {
  const unhandledRejections: unknown[] = [];
  const onUnhandledRejection = (reason: unknown) => {
    unhandledRejections.push(reason);
  };
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandledRejection);
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandledRejection);
  });

  it.each(outageCases)(
    'Redis $name: open admits, closed refuses with STORE_UNAVAILABLE, insurance counts in memory; back on Redis within 5 s',
    async ({ name, takeDown, bringBack }) => {
      const redis = server();
      const client = new Redis(redis.port, redis.host, recommendedClientOptions());
      // Connection errors are expected here; an app would log them.
      const clientErrors: Error[] = [];
      client.on('error', (error: Error) => clientErrors.push(error));
      if (client.status !== 'ready') await once(client, 'ready');

      const keyPrefix = `tk:rl:outage-${randomBytes(4).toString('hex')}`;
      const events: Record<FailurePolicy, RateLimitEvent['type'][]> = { open: [], closed: [], insurance: [] };
      const limiterFor = (failure: FailurePolicy, points: number) =>
        createRateLimiter({
          store: redisRateLimitStore(client),
          policies: [{ name: 'api', by: ['tenant'], points, duration: 60 }],
          failure,
          insurance: { divideBy: INSURANCE_DIVIDE_BY },
          storeTimeoutMs: STORE_TIMEOUT_MS,
          recoveryConfirmMs: 200,
          keyPrefix: `${keyPrefix}:${failure}`,
          metering: false,
          onEvent: (event) => {
            if (event.type !== 'decision') events[failure].push(event.type);
          },
        });
      const limiters = {
        open: limiterFor('open', 100_000),
        closed: limiterFor('closed', 100_000),
        insurance: limiterFor('insurance', INSURANCE_POINTS),
      };

      const stream = startCheckStream(limiters, 'acme');
      try {
        await sleep(HEALTHY_MS);
        const outageStartedAt = now();
        await takeDown(redis);
        const downAt = now();
        await sleep(OUTAGE_MS);
        const restartAt = now();
        await bringBack(redis);
        const backAt = now();
        const firstFromRedis = (policy: FailurePolicy) =>
          stream.records.find((record) => record.policy === policy && record.startedAt >= restartAt && answeredByRedis(record));
        await waitUntil(() => FAILURE_POLICIES.every((policy) => firstFromRedis(policy)?.settledAt !== undefined), RECOVERY_BUDGET_MS + 3000);
        // A little longer, to see that it stays on Redis.
        await sleep(300);
        await stream.stop();

        const { records } = stream;
        const by = (policy: FailurePolicy) => records.filter((record) => record.policy === policy);

        // Nothing hung: every check settled, within its store timeout plus slack.
        expect(records.filter((record) => record.settledAt === undefined)).toEqual([]);
        const slowest = Math.max(...records.map((record) => (record.settledAt ?? Infinity) - record.startedAt));
        expect(slowest).toBeLessThanOrEqual(STORE_TIMEOUT_MS + SETTLE_SLACK_MS);

        // Before the outage: Redis answered every check.
        for (const policy of FAILURE_POLICIES) {
          const healthy = by(policy).filter((record) => (record.settledAt ?? Infinity) < outageStartedAt);
          expect(healthy.length).toBeGreaterThan(10);
          expect(healthy.every((record) => answeredByRedis(record) && record.decision?.allowed === true)).toBe(true);
        }

        // While Redis is down, each failure policy answers as configured. A check started less than
        // its store timeout before Redis came back may still get Redis's answer (a frozen server
        // answers its backlog on SIGCONT; the limiter starts its timer a little after we note the
        // start): those are left out.
        const duringOutage = (policy: FailurePolicy) =>
          by(policy).filter((record) => record.startedAt >= downAt && record.startedAt < restartAt - STORE_TIMEOUT_MS - 150);
        const open = duringOutage('open');
        expect(open.length).toBeGreaterThan(10);
        for (const record of open) {
          expect(record.error).toBeUndefined();
          expect(record.decision?.allowed).toBe(true);
          expect(record.decision?.outcomes.map((outcome) => outcome.degraded)).toEqual(['open']);
        }

        const closed = duringOutage('closed');
        expect(closed.length).toBeGreaterThan(10);
        for (const record of closed) {
          expect(record.decision).toBeUndefined();
          expect(record.error).toBeInstanceOf(RateLimitError);
          expect((record.error as RateLimitError).code).toBe('STORE_UNAVAILABLE');
          expect((record.error as RateLimitError).status).toBe(503);
        }
        // No check of the closed limiter, at any time, was refused as rate limited.
        expect(by('closed').some((record) => record.error instanceof RateLimitError && record.error.code === 'RATE_LIMITED')).toBe(false);

        const insurance = duringOutage('insurance');
        for (const record of insurance) {
          expect(record.error).toBeUndefined();
          expect(record.decision?.outcomes.map((outcome) => outcome.degraded)).toEqual(['insurance']);
        }
        const insured = by('insurance').filter((record) => record.decision?.outcomes.some((outcome) => outcome.degraded === 'insurance'));
        const insuranceLimit = INSURANCE_POINTS / INSURANCE_DIVIDE_BY;
        expect(insured.length).toBeGreaterThan(insuranceLimit);
        // The in-memory counter admits points / divideBy, then refuses as a limit (not as an error).
        expect(insured.filter((record) => record.decision?.allowed === true)).toHaveLength(insuranceLimit);
        const insuranceRefused = insured.filter((record) => record.decision?.allowed === false);
        expect(insuranceRefused.length).toBeGreaterThan(0);
        expect(insuranceRefused.every((record) => record.decision?.reason === 'limited')).toBe(true);

        // Back on Redis within 5 s of Redis coming back, and it stays there.
        const recovery: string[] = [];
        for (const policy of FAILURE_POLICIES) {
          const first = firstFromRedis(policy);
          expect(first, `${policy}: no check answered by Redis after it came back`).toBeDefined();
          const settledAt = first?.settledAt ?? Infinity;
          const sinceRestart = settledAt - restartAt;
          recovery.push(`${policy} ${Math.round(sinceRestart)} ms (${Math.round(settledAt - backAt)} ms after it answered PING)`);
          expect(sinceRestart).toBeLessThanOrEqual(RECOVERY_BUDGET_MS);
          const later = by(policy).filter((record) => record.startedAt > settledAt);
          expect(later.length).toBeGreaterThan(0);
          expect(later.filter((record) => !answeredByRedis(record))).toEqual([]);
        }
        console.log(
          `[redis outage: ${name}] coming back took ${Math.round(backAt - restartAt)} ms; first check answered by Redis after that: ${recovery.join(', ')}; ` +
            `outage checks: open ${open.length}, closed ${closed.length}, insurance ${insurance.length} ` +
            `(insurance admitted ${insured.filter((record) => record.decision?.allowed === true).length} of ${insured.length} degraded, limit ${insuranceLimit}); ` +
            `slowest check ${Math.round(slowest)} ms; ioredis error events ${clientErrors.length}`,
        );

        // One failure and one recovery event per limiter for the one outage.
        for (const policy of FAILURE_POLICIES) expect(events[policy]).toEqual(['store-failed', 'store-recovered']);
        expect(unhandledRejections).toEqual([]);
        expect(await client.ping()).toBe('PONG');
      } finally {
        // Whatever failed, the stream stops and the next case needs a running server.
        await stream.stop();
        redis.resume();
        if (!redis.running) await redis.restart();
        await Promise.all(Object.values(limiters).map((limiter) => limiter.close()));
        client.disconnect();
      }
    },
    20_000,
  );
});
