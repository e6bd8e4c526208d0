import { createExampleServices, demoAccounts, demoPassword, loadConfig, seedDemoData } from '@tenantkit/example-service-layer';
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
  // What a developer needs to know about auth at start; secrets configured by the operator are never printed.
  if (services.signingKey.generated) {
    console.warn('JWT_SIGNING_KEY is not set: tokens are signed with a key generated for this process, and die with it (set one in production).');
  }
  if (config.auth.apiKeyHashKeyGenerated) console.warn('API_KEY_PEPPER is not set: API keys created now stop working when the process ends.');
  if (config.auth.deviceTokenSecret === undefined) console.warn('AUTH_DEVICE_TOKEN_SECRET is not set: a restart forgets which devices signed in before.');
  if (config.seedDemoData) console.log(`demo accounts: ${demoAccounts.map((account) => account.email).join(', ')} — password: ${demoPassword}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close(() => void services.close().then(() => process.exit(0)));
  });
}
