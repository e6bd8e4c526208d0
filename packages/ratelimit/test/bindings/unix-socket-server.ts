// HTTP servers on a Unix socket, as behind nginx `proxy_pass http://unix:…`: the connections have
// no peer address.
import { randomBytes } from 'node:crypto';
import { createServer, request, type RequestListener, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** A socket path of its own under the temp directory (short: Unix socket paths are limited to ~100 bytes). */
export function unixSocketPath(): string {
  return join(tmpdir(), `tk-rl-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
}

/** One answer of {@link requestOverSocket}. */
export interface SocketAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * Sends one request over the Unix socket at `socketPath`; an array header value is sent as
 * several header lines.
 *
 * @example
 * ```ts
 * const { status } = await requestOverSocket(path, '/projects/1', { 'x-forwarded-for': '198.51.100.9' });
 * ```
 */
export function requestOverSocket(socketPath: string, path: string, headers: Record<string, string | string[]> = {}): Promise<SocketAnswer> {
  return new Promise((resolve, reject) => {
    const sent = request({ socketPath, path, headers, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end();
  });
}

/**
 * Registers an `afterEach` that closes every server started through the returned function, which
 * serves a request listener (an Express app, say) on a fresh Unix socket path and returns the path.
 *
 * @example
 * ```ts
 * const listenOnSocket = useUnixSocketServers();
 * const path = await listenOnSocket(app);
 * ```
 */
export function useUnixSocketServers(): (listener: RequestListener) => Promise<string> {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });
  return async (listener) => {
    const path = unixSocketPath();
    const server = createServer(listener);
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
      server.listen(path);
    });
    return path;
  };
}
