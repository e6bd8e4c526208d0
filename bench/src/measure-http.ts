import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import autocannon from 'autocannon';
import { median } from './measure-ops.js';

/**
 * Compares two HTTP servers side by side. Each server runs in its own child process (so the
 * load generator here does not share its event loop), rounds alternate ours/peer, and the
 * median requests per second wins.
 */
export interface HttpTarget {
  /** Module that starts a server and sends `{ port }` to its parent via process.send. */
  serverModule: string;
  /** Request to send (path and headers). */
  path: string;
  headers?: Record<string, string>;
}

export interface MeasureHttpOptions {
  rounds?: number;
  durationSeconds?: number;
  connections?: number;
}

async function startServer(target: HttpTarget): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(target.serverModule, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [message] = (await once(child, 'message')) as [{ port: number }];
  return { child, port: message.port };
}

async function requestsPerSecond(port: number, target: HttpTarget, durationSeconds: number, connections: number): Promise<number> {
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${target.path}`,
    headers: target.headers ?? {},
    connections,
    pipelining: 1,
    duration: durationSeconds,
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`benchmark target answered ${result.non2xx} non-2xx and ${result.errors} errors`);
  }
  return result.requests.average;
}

export async function compareHttp(
  ours: HttpTarget,
  peer: HttpTarget,
  options: MeasureHttpOptions = {},
): Promise<{ ours: number; peer: number }> {
  const rounds = options.rounds ?? 3;
  const duration = options.durationSeconds ?? 3;
  const connections = options.connections ?? 50;
  const oursServer = await startServer(ours);
  const peerServer = await startServer(peer);
  try {
    // Warm-up round for both, not counted.
    await requestsPerSecond(oursServer.port, ours, 1, connections);
    await requestsPerSecond(peerServer.port, peer, 1, connections);
    const oursRounds: number[] = [];
    const peerRounds: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      oursRounds.push(await requestsPerSecond(oursServer.port, ours, duration, connections));
      peerRounds.push(await requestsPerSecond(peerServer.port, peer, duration, connections));
    }
    return { ours: median(oursRounds), peer: median(peerRounds) };
  } finally {
    oursServer.child.kill();
    peerServer.child.kill();
  }
}
