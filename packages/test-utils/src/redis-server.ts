import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { unusedLocalPort } from './unused-local-port.js';

/**
 * A `redis-server` process of one test's own, on a free local port, that the test may kill and
 * start again on the same port (outage and recovery tests). Never the shared server on 6379.
 *
 * @example
 * ```ts
 * const server = await startLocalRedisServer();
 * const redis = new Redis(server.port, server.host, { retryStrategy: (times) => Math.min(times * 50, 500) });
 * await server.kill('SIGKILL'); // outage
 * await server.restart(); // same port, empty dataset
 * await server.stop();
 * ```
 */
export interface LocalRedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The process id while a server runs, else undefined. */
  readonly pid: number | undefined;
  /** Whether a server process is running. */
  readonly running: boolean;
  /**
   * Sends a signal that ends the process (default SIGKILL) and resolves when it has exited.
   * No-op when stopped. To freeze it, use {@link LocalRedisServer.pause}.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Resolves when the running process exits on its own (after a `SHUTDOWN` sent by the test). */
  exited(): Promise<void>;
  /**
   * Freezes the process (SIGSTOP): connections stay open and commands get no answer, as with a
   * hung server or a network partition that drops packets.
   */
  pause(): void;
  /** Lets a paused process run again (SIGCONT); it answers what it received meanwhile. */
  resume(): void;
  /** Starts a new server on the same port (empty dataset: no persistence) and waits for PING. */
  restart(): Promise<void>;
  /** Stops the server for good (SIGTERM, SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Options of {@link startLocalRedisServer}.
 *
 * @example
 * ```ts
 * const options: LocalRedisServerOptions = { startTimeoutMs: 10_000 };
 * ```
 */
export interface LocalRedisServerOptions {
  /** A fixed port; default a free one the OS picks. */
  port?: number;
  /** The `redis-server` binary; default `REDIS_SERVER_BIN` or `redis-server` on the PATH. */
  redisServer?: string;
  /** How long a start (or restart) may take; default 10 s. */
  startTimeoutMs?: number;
}

const HOST = '127.0.0.1';

function redisServerBinary(options: LocalRedisServerOptions): string {
  return options.redisServer ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One raw `PING` over TCP, so the helper needs no Redis client. */
function answersPing(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
    socket.connect(port, HOST, () => socket.write('PING\r\n'));
  });
}

interface RunningServer {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  hasExited: boolean;
  output: string;
}

function spawnServer(binary: string, port: number): RunningServer {
  const child = spawn(
    binary,
    // No persistence: a restart comes back empty, as a crashed cache node would.
    ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', '/tmp'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const server: RunningServer = {
    child,
    hasExited: false,
    output: '',
    exited: new Promise<void>((resolve) => {
      const done = () => {
        server.hasExited = true;
        resolve();
      };
      child.once('exit', done);
      child.once('error', (error) => {
        server.output += String(error);
        done();
      });
    }),
  };
  // The pipes must be drained; the tail of the log goes into start errors.
  const append = (chunk: Buffer) => {
    server.output = (server.output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return server;
}

/**
 * Starts a `redis-server` (no persistence) on a free 127.0.0.1 port and waits until it
 * answers PING. The returned handle can kill it (any signal), wait for a `SHUTDOWN` to take
 * effect and start it again on the same port; a test worker that exits without `stop()` does
 * not leave it running.
 *
 * @example
 * ```ts
 * let server: LocalRedisServer;
 * beforeAll(async () => { server = await startLocalRedisServer(); });
 * afterAll(() => server.stop());
 * ```
 */
export async function startLocalRedisServer(options: LocalRedisServerOptions = {}): Promise<LocalRedisServer> {
  const binary = redisServerBinary(options);
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  const port = options.port ?? (await unusedLocalPort());
  let current: RunningServer | undefined;
  let stopped = false;

  const killOnExit = () => {
    if (current !== undefined && !current.hasExited) current.child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const start = async () => {
    if (current !== undefined && !current.hasExited) throw new Error(`startLocalRedisServer: port ${port} already has a running server`);
    const server = spawnServer(binary, port);
    current = server;
    const deadline = Date.now() + startTimeoutMs;
    while (!(await answersPing(port))) {
      if (server.hasExited) throw new Error(`redis-server on port ${port} exited:\n${server.output}`);
      if (Date.now() > deadline) {
        server.child.kill('SIGKILL');
        throw new Error(`startLocalRedisServer: redis-server on port ${port} did not answer PING within ${startTimeoutMs} ms\n${server.output}`);
      }
      await sleep(20);
    }
  };

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const server = current;
    if (server === undefined || server.hasExited) return;
    server.child.kill(signal);
    await server.exited;
  };

  await start().catch((error: unknown) => {
    process.off('exit', killOnExit);
    throw error;
  });

  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    get pid() {
      return current !== undefined && !current.hasExited ? current.child.pid : undefined;
    },
    get running() {
      return current !== undefined && !current.hasExited;
    },
    kill,
    exited: async () => {
      await current?.exited;
    },
    pause: () => {
      if (current === undefined || current.hasExited) throw new Error('startLocalRedisServer: no running server to pause');
      current.child.kill('SIGSTOP');
    },
    resume: () => {
      if (current !== undefined && !current.hasExited) current.child.kill('SIGCONT');
    },
    restart: async () => {
      if (stopped) throw new Error('startLocalRedisServer: restart after stop');
      await start();
    },
    stop: async () => {
      stopped = true;
      process.off('exit', killOnExit);
      const server = current;
      if (server === undefined || server.hasExited) return;
      // A paused server would hold SIGTERM until it runs again.
      server.child.kill('SIGCONT');
      server.child.kill('SIGTERM');
      const exited = await Promise.race([server.exited.then(() => true), sleep(5000).then(() => false)]);
      if (!exited) await kill('SIGKILL');
    },
  };
}

function canRun(binary: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { timeout: 5000 }, (error) => resolve(error === null));
  });
}

/**
 * `describe` with a {@link startLocalRedisServer} server of the suite's own, started before its
 * tests and stopped after them; `body` gets a function returning it (call it in hooks and
 * tests). A test that kills the server restarts it before it ends, so the next test finds it
 * running. Without the `redis-server` binary it behaves like `describeWithService`: with
 * `CI=true` one failing test, otherwise a loud skip.
 *
 * @example
 * ```ts
 * await describeWithLocalRedisServer('limiter during a Redis outage', (server) => {
 *   it('fails over', async () => {
 *     await server().kill('SIGKILL');
 *     await server().restart();
 *   });
 * });
 * ```
 */
export async function describeWithLocalRedisServer(
  title: string,
  body: (server: () => LocalRedisServer) => void,
  options: LocalRedisServerOptions = {},
): Promise<void> {
  const binary = redisServerBinary(options);
  if (!(await canRun(binary))) {
    const reason = `the redis-server binary (${binary}) cannot be run`;
    if (process.env.CI === 'true') {
      describe(title, () => {
        it('needs the redis-server binary', () => {
          throw new Error(`Integration service missing in CI: ${reason}`);
        });
      });
      return;
    }
    console.warn(`\n!!! SKIPPED "${title}": ${reason}. These Redis tests did not run.\n`);
    describe.skip(title, () => body(() => {
      throw new Error('no local redis-server');
    }));
    return;
  }
  describe(title, () => {
    let server: LocalRedisServer | undefined;
    beforeAll(async () => {
      server = await startLocalRedisServer(options);
    }, (options.startTimeoutMs ?? 10_000) * 2);
    afterAll(async () => {
      await server?.stop();
    });
    body(() => {
      if (server === undefined) throw new Error('describeWithLocalRedisServer: the server is not started yet (use it in hooks and tests)');
      return server;
    });
  });
}
