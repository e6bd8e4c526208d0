import { createExampleServices, loadConfig, seedDemoData } from '@tenantkit/example-service-layer';
import { buildExpressApp } from './app.js';

const config = loadConfig();
const services = await createExampleServices(config);
if (config.seedDemoData) await seedDemoData(services);
const server = buildExpressApp(services).listen(config.port, config.host, () => {
  const database = config.database.kind === 'embedded' ? 'embedded PGlite (in memory, no server)' : config.database.kind;
  console.log(`tenantkit Express example on http://${config.host}:${config.port} — database: ${database}`);
  console.log(`admin token (x-admin-token): ${config.adminToken}`);
  // Only a token generated for this run: a configured one is a secret that logs must not hold.
  if (process.env.METRICS_TOKEN === undefined) console.log(`metrics token (GET /metrics, authorization: Bearer <token>): ${config.metricsToken}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => void services.close().then(() => process.exit(0)));
  });
}
