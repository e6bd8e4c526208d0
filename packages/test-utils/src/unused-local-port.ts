import { createServer, type AddressInfo } from 'node:net';

/**
 * A local TCP port nothing listens on: bound on 127.0.0.1, then released, so a client pointed at
 * it gets its connection refused. For tests of "the server is unreachable".
 *
 * @example
 * ```ts
 * const offline = new Redis({ port: await unusedLocalPort(), lazyConnect: true, retryStrategy: () => null });
 * ```
 */
export async function unusedLocalPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  return port;
}
