// A child process of the multi-process tests: one limiter on a shared Redis, driven over IPC.
// Runs under `node --import tsx` (see limiter-worker-pool.ts), so it imports the sources by
// relative path; `@tenantkit/*` inside them resolve through the root tsconfig's `paths`.
import { Cluster, Redis } from 'ioredis';
import { redisRateLimitStore } from '../../src/adapters/redis.js';
import { createRateLimiter } from '../../src/limiter/create-rate-limiter.js';
import type { RateLimiter } from '../../src/limiter/rate-limiter.js';
import type { WorkerCommand, WorkerRedisTarget, WorkerReport, WorkerRequest, WorkerTagCounts } from './worker-protocol.js';

if (typeof process.send !== 'function') {
  console.error('limiter-worker.ts runs as a forked child with an IPC channel');
  process.exit(2);
}

const send = (report: WorkerReport) => process.send?.(report);

const clients = new Map<string, Redis | Cluster>();

async function clientFor(target: WorkerRedisTarget): Promise<Redis | Cluster> {
  const id = JSON.stringify(target);
  let client = clients.get(id);
  if (client === undefined) {
    client =
      target.kind === 'redis'
        ? new Redis(target.url)
        : new Cluster([...target.nodes]);
    clients.set(id, client);
  }
  if (client.status !== 'ready') {
    const pending = client;
    await new Promise<void>((resolve, reject) => {
      pending.once('ready', () => resolve());
      pending.once('end', () => reject(new Error('the Redis client ended before it was ready')));
    });
  }
  return client;
}

interface PreparedRun {
  readonly limiter: RateLimiter;
  readonly requests: readonly WorkerRequest[];
  readonly counters: { storeFailures: number };
}

let prepared: PreparedRun | undefined;

async function fire(run: PreparedRun, id: number, startAt: number): Promise<void> {
  const byTag: Record<string, WorkerTagCounts> = {};
  const errors: string[] = [];
  let degraded = 0;
  // The parent sends the same start time to every worker so they charge concurrently.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  const started = Date.now();
  await Promise.all(
    run.requests.map(async (request) => {
      const counts = (byTag[request.tag] ??= { admitted: 0, refused: 0, admittedPoints: 0 });
      try {
        const decision = await run.limiter.check(request.subject, request.cost === undefined ? undefined : { cost: request.cost });
        if (decision.outcomes.some((outcome) => outcome.degraded !== undefined)) degraded += 1;
        if (decision.allowed) {
          counts.admitted += 1;
          counts.admittedPoints += request.cost ?? 1;
        } else {
          counts.refused += 1;
        }
      } catch (error) {
        const coded = error as { code?: unknown; message?: unknown };
        errors.push(`${String(coded.code)}: ${String(coded.message)}`);
      }
    }),
  );
  send({ type: 'result', id, byTag, errors, degraded, storeFailures: run.counters.storeFailures, elapsedMs: Date.now() - started });
}

async function handle(command: WorkerCommand): Promise<void> {
  switch (command.type) {
    case 'prepare': {
      await prepared?.limiter.close();
      const client = await clientFor(command.target);
      const counters = { storeFailures: 0 };
      const limiter = createRateLimiter({
        store: redisRateLimitStore(client),
        policies: command.policies,
        keyPrefix: command.keyPrefix,
        // Closed: a store failure shows up as an error in the report instead of a silent admit.
        failure: 'closed',
        // A burst of hundreds of checks per process can queue past the default 500 ms on a busy
        // machine; a timed-out check would still be counted by Redis later and skew the totals.
        // These runs are about counting, not latency (redis-outage.test.ts covers timeouts).
        storeTimeoutMs: 10_000,
        metering: false,
        onEvent: (event) => {
          if (event.type === 'store-failed') counters.storeFailures += 1;
        },
      });
      prepared = { limiter, requests: command.requests, counters };
      for (const subject of command.warmup) await limiter.check(subject);
      send({ type: 'ready', id: command.id });
      return;
    }
    case 'fire': {
      if (prepared === undefined) throw new Error('fire before prepare');
      await fire(prepared, command.id, command.startAt);
      return;
    }
    case 'exit': {
      await prepared?.limiter.close();
      await Promise.all([...clients.values()].map((client) => client.quit().catch(() => client.disconnect())));
      process.exit(0);
    }
  }
}

process.on('message', (message: WorkerCommand) => {
  const id = message.type === 'exit' ? 0 : message.id;
  handle(message).catch((error: unknown) => {
    send({ type: 'failed', id, error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error) });
  });
});

// The parent went away (test crashed or timed out): do not linger.
process.on('disconnect', () => process.exit(0));
