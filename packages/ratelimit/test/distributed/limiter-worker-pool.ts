import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RateLimitPolicyDefinition, RateLimitSubject } from '../../src/policies/rate-limit-policy.js';
import type { WorkerCommand, WorkerRedisTarget, WorkerReport, WorkerRequest, WorkerTagCounts } from './worker-protocol.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./limiter-worker.ts', import.meta.url));
// The root tsconfig maps every `@tenantkit/*` specifier to its sources (the same map `tsc --build`
// uses). tsx applies `paths` to files outside node_modules, so the child runs the workspace sources
// whether or not the packages were built (vitest's aliases do not reach a child process).
const ROOT_TSCONFIG = fileURLToPath(new URL('../../../../tsconfig.json', import.meta.url));
const STEP_TIMEOUT_MS = 20_000;

/** tsx's ESM loader, resolved from @tenantkit/ratelimit (its devDependency), as a URL for `--import`. */
function tsxLoaderUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/**
 * One check run spread over the pool.
 *
 * @example
 * ```ts
 * const scenario: WorkerScenario = {
 *   target: { kind: 'redis', url },
 *   keyPrefix: 'tk:rl:dist-1',
 *   policies: [{ name: 'tenant', by: ['tenant'], points: 100, duration: 300 }],
 *   warmup: (worker) => [{ tenantId: `warmup-${worker}` }],
 *   requests: () => Array.from({ length: 50 }, () => ({ subject: { tenantId: 'acme' }, tag: 'acme' })),
 * };
 * ```
 */
export interface WorkerScenario {
  readonly target: WorkerRedisTarget;
  readonly keyPrefix: string;
  readonly policies: readonly RateLimitPolicyDefinition[];
  /** Subjects each worker checks before the barrier, on keys the scenario does not count. */
  readonly warmup: (worker: number) => readonly RateLimitSubject[];
  /** The checks worker `worker` fires, all at once, after the barrier. */
  readonly requests: (worker: number) => readonly WorkerRequest[];
}

/**
 * What the pool's workers reported for one scenario.
 *
 * @example
 * ```ts
 * const { byTag, errors } = await pool.run(scenario);
 * expect(byTag.acme?.admitted).toBe(100);
 * ```
 */
export interface WorkerScenarioResult {
  /** Summed over the workers. */
  readonly byTag: Readonly<Record<string, WorkerTagCounts>>;
  readonly errors: readonly string[];
  readonly degraded: number;
  readonly storeFailures: number;
  /** Per worker: checks admitted, and how long its burst took. */
  readonly perWorker: readonly { readonly admitted: number; readonly checks: number; readonly elapsedMs: number }[];
}

/**
 * Long-lived child processes, each running one limiter (see limiter-worker.ts), that fire their
 * checks together after a barrier: every worker connects, builds its limiter and warms up, then
 * the parent sends all of them one start time.
 *
 * @example
 * ```ts
 * const pool = startLimiterWorkers(4);
 * afterAll(() => pool.close());
 * ```
 */
export interface LimiterWorkerPool {
  run(scenario: WorkerScenario): Promise<WorkerScenarioResult>;
  close(): Promise<void>;
}

interface WorkerHandle {
  readonly child: ChildProcess;
  readonly reports: WorkerReport[];
  readonly waiters: (() => void)[];
  stderr: string;
  exitCode: number | null | undefined;
}

function spawnWorker(): WorkerHandle {
  if (!existsSync(ROOT_TSCONFIG)) throw new Error(`limiter-worker-pool: ${ROOT_TSCONFIG} is missing`);
  const child = fork(WORKER_SCRIPT, [], {
    execArgv: ['--import', tsxLoaderUrl()],
    env: { ...process.env, TSX_TSCONFIG_PATH: ROOT_TSCONFIG },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  const handle: WorkerHandle = { child, reports: [], waiters: [], stderr: '', exitCode: undefined };
  const wake = () => {
    for (const waiter of handle.waiters.splice(0)) waiter();
  };
  child.stderr?.on('data', (chunk: Buffer) => {
    handle.stderr = (handle.stderr + chunk.toString('utf8')).slice(-4000);
  });
  child.on('message', (report: WorkerReport) => {
    handle.reports.push(report);
    wake();
  });
  child.on('exit', (code) => {
    handle.exitCode = code;
    wake();
  });
  return handle;
}

async function nextReport<T extends WorkerReport['type']>(
  handle: WorkerHandle,
  index: number,
  type: T,
  id: number,
): Promise<Extract<WorkerReport, { type: T }>> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const found = handle.reports.findIndex((report) => report.id === id && (report.type === type || report.type === 'failed'));
    if (found >= 0) {
      const [report] = handle.reports.splice(found, 1);
      if (report?.type === 'failed') throw new Error(`worker ${index} failed: ${report.error}\n${handle.stderr}`);
      return report as Extract<WorkerReport, { type: T }>;
    }
    if (handle.exitCode !== undefined) throw new Error(`worker ${index} exited (${String(handle.exitCode)}) waiting for '${type}':\n${handle.stderr}`);
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error(`worker ${index}: no '${type}' report within ${STEP_TIMEOUT_MS} ms\n${handle.stderr}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, remaining);
      handle.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

function send(handle: WorkerHandle, command: WorkerCommand): void {
  handle.child.send(command);
}

/**
 * Forks `count` limiter workers (`node --import tsx limiter-worker.ts`).
 *
 * @example
 * ```ts
 * const pool = startLimiterWorkers(4);
 * const result = await pool.run(scenario);
 * await pool.close();
 * ```
 */
export function startLimiterWorkers(count: number): LimiterWorkerPool {
  const workers = Array.from({ length: count }, () => spawnWorker());
  let nextId = 1;
  return {
    async run(scenario) {
      const id = nextId++;
      workers.forEach((worker, index) =>
        send(worker, {
          type: 'prepare',
          id,
          target: scenario.target,
          keyPrefix: scenario.keyPrefix,
          policies: scenario.policies,
          warmup: scenario.warmup(index),
          requests: scenario.requests(index),
        }),
      );
      await Promise.all(workers.map((worker, index) => nextReport(worker, index, 'ready', id)));
      // The barrier: every worker is connected and warm; all start at the same wall-clock time.
      const startAt = Date.now() + 150;
      for (const worker of workers) send(worker, { type: 'fire', id, startAt });
      const reports = await Promise.all(workers.map((worker, index) => nextReport(worker, index, 'result', id)));

      const byTag: Record<string, WorkerTagCounts> = {};
      for (const report of reports) {
        for (const [tag, counts] of Object.entries(report.byTag)) {
          const total = (byTag[tag] ??= { admitted: 0, refused: 0, admittedPoints: 0 });
          total.admitted += counts.admitted;
          total.refused += counts.refused;
          total.admittedPoints += counts.admittedPoints;
        }
      }
      return {
        byTag,
        errors: reports.flatMap((report) => report.errors),
        degraded: reports.reduce((sum, report) => sum + report.degraded, 0),
        storeFailures: reports.reduce((sum, report) => sum + report.storeFailures, 0),
        perWorker: reports.map((report) => {
          const counts = Object.values(report.byTag);
          return {
            admitted: counts.reduce((sum, tag) => sum + tag.admitted, 0),
            checks: counts.reduce((sum, tag) => sum + tag.admitted + tag.refused, 0) + report.errors.length,
            elapsedMs: report.elapsedMs,
          };
        }),
      };
    },
    async close() {
      await Promise.all(
        workers.map(async (worker) => {
          if (worker.exitCode !== undefined) return;
          const exited = new Promise<void>((resolve) => worker.child.once('exit', () => resolve()));
          if (worker.child.connected) send(worker, { type: 'exit' });
          const timer = setTimeout(() => worker.child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}
