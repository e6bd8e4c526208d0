import { describeReferenceAppScenarios, type AppHarness } from '@tenantkit/example-service-layer/test-support';
import { describeWithService } from '@tenantkit/test-utils';
import { buildFastifyApp } from '../src/app.js';

const startFastify: AppHarness = async (services) => {
  const app = await buildFastifyApp(services);
  await app.ready();
  return {
    async send({ method, path, headers = {}, body, rawBody }) {
      const payload = rawBody ?? (body === undefined ? undefined : JSON.stringify(body));
      const response = await app.inject({
        method,
        url: path,
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(payload === undefined ? {} : { payload }),
      });
      return { status: response.statusCode, body: response.body === '' ? undefined : response.json() };
    },
    close: () => app.close(),
  };
};

describeReferenceAppScenarios('Fastify', startFastify);
await describeWithService('postgres', 'Fastify reference app on Postgres + Redis', () => {
  describeReferenceAppScenarios('Fastify', startFastify, 'postgres+redis');
});
