import type { AddressInfo } from 'node:net';
import { request as httpRequest, Agent } from 'node:http';
import { describeReferenceAppScenarios, type AppHarness } from '@tenantkit/example-service-layer/test-support';
import { describeWithService } from '@tenantkit/test-utils';
import { buildExpressApp } from '../src/app.js';

/** JSON bodies parsed; anything else (the Prometheus text of /metrics) as it came. */
const parseBody = (contentType: string | undefined, text: string): unknown =>
  text === '' ? undefined : contentType?.startsWith('application/json') ? JSON.parse(text) : text;

const startExpress: AppHarness = async (services) => {
  const server = buildExpressApp(services).listen(0, '127.0.0.1');
  // Longer than any suite: a server closing an idle keep-alive socket just as the agent reuses
  // it makes that request fail with ECONNRESET (seen under load in the 300-request scenario).
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  // node:http rather than fetch: fetch forbids setting the Host header, which subdomain and custom-domain resolution read.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  return {
    send({ method, path, headers = {}, body, rawBody, clientIp }) {
      const payload = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method,
            path,
            agent,
            // The agent keeps one socket pool per local address, so each client IP has its own connections.
            ...(clientIp === undefined ? {} : { localAddress: clientIp }),
            // An explicit length: node:http frames a DELETE body neither by default (no chunked encoding for DELETE).
            headers: {
              ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
              ...headers,
            },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parseBody(res.headers['content-type'], text) }));
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    async close() {
      agent.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
};

describeReferenceAppScenarios('Express', startExpress);
await describeWithService('mariadb', 'Express reference app on MariaDB', () => {
  describeReferenceAppScenarios('Express', startExpress, 'mariadb');
});
