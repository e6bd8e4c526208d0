import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';

/**
 * One master of a {@link LocalRedisCluster}.
 *
 * @example
 * ```ts
 * const node: LocalRedisClusterNode = { host: '127.0.0.1', port: 31000 };
 * ```
 */
export interface LocalRedisClusterNode {
  readonly host: string;
  readonly port: number;
}

/**
 * A Redis Cluster of local `redis-server` processes started for one test file.
 *
 * @example
 * ```ts
 * const cluster = await startLocalRedisCluster();
 * const client = new Cluster([...cluster.nodes]);
 * // ...
 * await client.quit();
 * await cluster.stop();
 * ```
 */
export interface LocalRedisCluster {
  /** The masters, each owning a share of the 16384 slots (no replicas). */
  readonly nodes: readonly LocalRedisClusterNode[];
  /** The temporary directory holding the nodes' cluster config files (removed by `stop`). */
  readonly directory: string;
  /** The process ids of the servers, while they run. */
  readonly pids: readonly number[];
  /** Stops every server (SIGTERM, SIGKILL after 5 s) and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Options of {@link startLocalRedisCluster}.
 *
 * @example
 * ```ts
 * const options: LocalRedisClusterOptions = { masters: 3 };
 * ```
 */
export interface LocalRedisClusterOptions {
  /** How many masters, 3 (the least `redis-cli --cluster create` accepts) to 16; default 3. */
  masters?: number;
  /**
   * Use ports `basePort`, `basePort + 1`, ... (and the cluster bus ports 10000 above them)
   * instead of free ports picked by the OS. Only for debugging: fixed ports collide when test
   * files run in parallel.
   */
  basePort?: number;
  /** The `redis-server` binary; default `REDIS_SERVER_BIN` or `redis-server` on the PATH. */
  redisServer?: string;
  /** The `redis-cli` binary; default `REDIS_CLI_BIN` or `redis-cli` on the PATH. */
  redisCli?: string;
  /** How long starting may take before it fails; default 30 s. */
  startTimeoutMs?: number;
}

const HOST = '127.0.0.1';
/** Redis Cluster's bus listens at the client port plus this offset. */
const BUS_PORT_OFFSET = 10_000;
const MAX_PORT = 65_535;
const PORT_ATTEMPTS = 5;

function redisServerBinary(options: LocalRedisClusterOptions): string {
  return options.redisServer ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
}

function redisCliBinary(options: LocalRedisClusterOptions): string {
  return options.redisCli ?? process.env.REDIS_CLI_BIN ?? 'redis-cli';
}

function run(binary: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${binary} ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Whether a TCP port on 127.0.0.1 can be bound right now. */
function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

/** A port the OS says is free whose cluster bus port (+10000) is free too. */
async function pickFreePort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, HOST, () => {
        const address = server.address();
        const chosen = typeof address === 'object' && address !== null ? address.port : 0;
        server.close(() => resolve(chosen));
      });
    });
    if (port === 0 || port + BUS_PORT_OFFSET > MAX_PORT || taken.has(port) || taken.has(port + BUS_PORT_OFFSET)) continue;
    if (await isPortFree(port + BUS_PORT_OFFSET)) return port;
  }
  throw new Error('startLocalRedisCluster: found no free port pair (port and port + 10000)');
}

interface ServerProcess {
  readonly port: number;
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<void>;
  hasExited: boolean;
}

function spawnServer(binary: string, port: number, directory: string): ServerProcess {
  const child = spawn(
    binary,
    [
      '--port', String(port),
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(directory, `nodes-${port}.conf`),
      '--cluster-node-timeout', '5000',
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--bind', HOST,
      '--dir', directory,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Keep the tail of the log for error messages; the pipes must be drained either way.
  let log = '';
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const server: ServerProcess = {
    port,
    child,
    output: () => log,
    hasExited: false,
    exited: new Promise<void>((resolve) => {
      child.once('exit', () => {
        server.hasExited = true;
        resolve();
      });
      child.once('error', (error) => {
        append(Buffer.from(String(error)));
        server.hasExited = true;
        resolve();
      });
    }),
  };
  return server;
}

async function waitUntil(what: string, deadline: number, check: () => Promise<boolean>): Promise<void> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(50);
  }
  throw new Error(`startLocalRedisCluster: timed out waiting for ${what}`, { cause: lastError });
}

async function stopServers(servers: readonly ServerProcess[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      if (server.hasExited) return;
      server.child.kill('SIGTERM');
      const killed = await Promise.race([server.exited.then(() => true), sleep(5000).then(() => false)]);
      if (!killed) {
        server.child.kill('SIGKILL');
        await server.exited;
      }
    }),
  );
}

async function startOnce(options: LocalRedisClusterOptions, ports: readonly number[], deadline: number): Promise<LocalRedisCluster> {
  const cli = redisCliBinary(options);
  const directory = await mkdtemp(join(tmpdir(), 'tenantkit-redis-cluster-'));
  const servers = ports.map((port) => spawnServer(redisServerBinary(options), port, directory));
  // A test worker that dies without stop() must not leave servers behind.
  const killOnExit = () => {
    for (const server of servers) if (!server.hasExited) server.child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      process.off('exit', killOnExit);
      await stopServers(servers);
      await rm(directory, { recursive: true, force: true });
    })());

  try {
    for (const server of servers) {
      await waitUntil(`redis-server on port ${server.port}`, deadline, async () => {
        if (server.hasExited) {
          throw new Error(`redis-server on port ${server.port} exited:\n${server.output()}`);
        }
        return (await run(cli, ['-h', HOST, '-p', String(server.port), 'ping'], 2000)).trim() === 'PONG';
      }).catch((error: unknown) => {
        throw server.hasExited ? new Error(`redis-server on port ${server.port} exited:\n${server.output()}`, { cause: error }) : error;
      });
    }
    await run(
      cli,
      ['--cluster', 'create', ...ports.map((port) => `${HOST}:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
      Math.max(1000, deadline - Date.now()),
    );
    for (const port of ports) {
      await waitUntil(`cluster_state:ok on port ${port}`, deadline, async () => {
        const info = await run(cli, ['-h', HOST, '-p', String(port), 'cluster', 'info'], 2000);
        return (
          info.includes('cluster_state:ok') &&
          info.includes('cluster_slots_ok:16384') &&
          info.includes(`cluster_known_nodes:${ports.length}\r`)
        );
      });
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes: ports.map((port) => ({ host: HOST, port })),
    directory,
    get pids() {
      return servers.filter((server) => !server.hasExited).map((server) => server.child.pid ?? -1);
    },
    stop,
  };
}

/**
 * Starts a Redis Cluster of `masters` local `redis-server` processes (no replicas,
 * no persistence) in a temporary directory, creates it with `redis-cli --cluster create` and
 * waits until every node reports `cluster_state:ok`. Ports come from the OS (each checked free
 * together with its cluster bus port, +10000), so test files running in parallel never
 * collide; a start that loses a port race is retried on new ports.
 *
 * Needs the `redis-server` and `redis-cli` binaries (Redis 7); use
 * {@link describeWithRedisCluster} so a machine without them skips loudly (or fails in CI).
 *
 * @example
 * ```ts
 * let cluster: LocalRedisCluster;
 * beforeAll(async () => { cluster = await startLocalRedisCluster({ masters: 3 }); }, 60_000);
 * afterAll(() => cluster.stop());
 * ```
 */
export async function startLocalRedisCluster(options: LocalRedisClusterOptions = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  if (!Number.isInteger(masters) || masters < 3 || masters > 16) {
    throw new TypeError('startLocalRedisCluster: masters must be an integer from 3 to 16');
  }
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  if (options.basePort !== undefined) {
    const { basePort } = options;
    if (!Number.isInteger(basePort) || basePort < 1024 || basePort + masters - 1 + BUS_PORT_OFFSET > MAX_PORT) {
      throw new TypeError('startLocalRedisCluster: basePort must leave room for the ports and their bus ports (+10000)');
    }
    return startOnce(options, Array.from({ length: masters }, (_, index) => basePort + index), deadline);
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < PORT_ATTEMPTS && Date.now() < deadline; attempt += 1) {
    const ports: number[] = [];
    const taken = new Set<number>();
    for (let index = 0; index < masters; index += 1) {
      const port = await pickFreePort(taken);
      ports.push(port);
      taken.add(port).add(port + BUS_PORT_OFFSET);
    }
    try {
      return await startOnce(options, ports, deadline);
    } catch (error) {
      // Most likely another process took one of the ports between the check and the bind.
      lastError = error;
    }
  }
  throw new Error('startLocalRedisCluster: could not start a cluster', { cause: lastError });
}

/**
 * Whether the `redis-server` and `redis-cli` binaries can be run here.
 *
 * @example
 * ```ts
 * if (await isRedisClusterAvailable()) { ... }
 * ```
 */
export async function isRedisClusterAvailable(options: Pick<LocalRedisClusterOptions, 'redisServer' | 'redisCli'> = {}): Promise<boolean> {
  try {
    await run(redisServerBinary(options), ['--version'], 5000);
    await run(redisCliBinary(options), ['--version'], 5000);
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` with a local Redis Cluster ({@link startLocalRedisCluster}) started before the
 * suite's tests and stopped after them; `body` gets a function returning it (call it inside
 * hooks and tests, not while the suite is being collected). When the binaries are missing it
 * behaves like `describeWithService`: with `CI=true` the suite registers one failing test,
 * otherwise it is skipped with a loud warning.
 *
 * @example
 * ```ts
 * await describeWithRedisCluster('cache on Redis Cluster', (cluster) => {
 *   let client: Cluster;
 *   beforeAll(() => { client = new Cluster([...cluster().nodes]); });
 *   afterAll(() => client.quit());
 *   it('works', async () => { ... });
 * });
 * ```
 */
export async function describeWithRedisCluster(
  title: string,
  body: (cluster: () => LocalRedisCluster) => void,
  options: LocalRedisClusterOptions = {},
): Promise<void> {
  if (!(await isRedisClusterAvailable(options))) {
    const reason = `the redis-server / redis-cli binaries (${redisServerBinary(options)}, ${redisCliBinary(options)}) cannot be run`;
    if (process.env.CI === 'true') {
      describe(title, () => {
        it('needs a local Redis Cluster', () => {
          throw new Error(`Integration service missing in CI: ${reason}`);
        });
      });
      return;
    }
    console.warn(`\n!!! SKIPPED "${title}": ${reason}. These Redis Cluster tests did not run.\n`);
    describe.skip(title, () => body(() => {
      throw new Error('no local Redis Cluster');
    }));
    return;
  }
  describe(title, () => {
    let cluster: LocalRedisCluster | undefined;
    beforeAll(async () => {
      cluster = await startLocalRedisCluster(options);
    }, (options.startTimeoutMs ?? 30_000) * 2);
    afterAll(async () => {
      await cluster?.stop();
    });
    body(() => {
      if (cluster === undefined) throw new Error('describeWithRedisCluster: the cluster is not started yet (use it in hooks and tests)');
      return cluster;
    });
  });
}
