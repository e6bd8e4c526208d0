import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

/**
 * Anything that starts an HTTP server the way `express()` does.
 *
 * @example
 * ```ts
 * const app: ListeningApp = express();
 * ```
 */
export interface ListeningApp {
  listen(port: number, host: string): Server;
}

/**
 * Registers an `afterEach` that closes every server started through the returned function, which
 * starts an app on a free port of 127.0.0.1 and resolves to its base URL. Call it at the top of a
 * test file.
 *
 * @example
 * ```ts
 * const listen = useLocalHttpServers();
 * it('answers', async () => {
 *   const url = await listen(app);
 *   expect((await fetch(`${url}/health`)).status).toBe(200);
 * });
 * ```
 */
export function useLocalHttpServers(): (app: ListeningApp) => Promise<string> {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });
  return async (app) => {
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
}
