import { describeReferenceAppScenarios, type AppHarness } from '@tenantkit/example-service-layer/test-support';
import { describeWithService } from '@tenantkit/test-utils';
import { buildFastifyApp } from '../src/app.js';

const startFastify: AppHarness = async (services) => {
  const app = await buildFastifyApp(services);
  await app.ready();
  return {
    async send({ method, path, headers = {}, body, rawBody, clientIp }) {
      const payload = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
      const response = await app.inject({
        method,
        url: path,
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(payload === undefined ? {} : { payload }),
        ...(clientIp === undefined ? {} : { remoteAddress: clientIp }),
      });
      const contentType = response.headers['content-type'];
      const json = typeof contentType === 'string' && contentType.startsWith('application/json');
      return {
        status: response.statusCode,
        headers: response.headers as Record<string, string | string[] | undefined>,
        // JSON bodies parsed; anything else (the Prometheus text of /metrics) as it came.
        body: response.body === '' ? undefined : json ? response.json() : response.body,
      };
    },
    close: () => app.close(),
  };
};

describeReferenceAppScenarios('Fastify', startFastify);
await describeWithService('postgres', 'Fastify reference app on Postgres + Redis', () => {
  describeReferenceAppScenarios('Fastify', startFastify, 'postgres+redis');
});
