import type { AddressInfo } from 'node:net';
import { request as httpRequest, Agent } from 'node:http';
import { describeReferenceAppScenarios, type AppHarness } from '@tenantkit/example-service-layer/test-support';
import { describeWithService } from '@tenantkit/test-utils';
import { buildExpressApp } from '../src/app.js';

const startExpress: AppHarness = async (services) => {
  const server = buildExpressApp(services).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  // node:http rather than fetch: fetch forbids setting the Host header, which subdomain and custom-domain resolution read.
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  return {
    send({ method, path, headers = {}, body, rawBody }) {
      const payload = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method,
            path,
            agent,
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
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? undefined : JSON.parse(text) }));
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
