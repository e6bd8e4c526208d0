import { createExampleServices, loadConfig, seedDemoData } from '@tenantkit/example-service-layer';
import { buildFastifyApp } from './app.js';

const config = loadConfig();
const services = await createExampleServices(config);
if (config.seedDemoData) await seedDemoData(services);
const app = await buildFastifyApp(services, { logger: process.env.LOG === 'true' });
const address = await app.listen({ host: config.host, port: config.port });

const database = config.database.kind === 'embedded' ? 'embedded PGlite (in memory, no server)' : config.database.kind;
console.log(`tenantkit Fastify example on ${address} — database: ${database}`);
console.log(`admin token (x-admin-token): ${config.adminToken}`);
// Only a token generated for this run: a configured one is a secret that logs must not hold.
if (process.env.METRICS_TOKEN === undefined) console.log(`metrics token (GET /metrics, authorization: Bearer <token>): ${config.metricsToken}`);
console.log(`try: curl -s -H 'x-tenant-id: acme' -H 'x-user-id: usr_alice' ${address}/tenant`);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    void app.close().then(() => services.close()).then(() => process.exit(0));
  });
}
