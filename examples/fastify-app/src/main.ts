import { createExampleServices, demoAccounts, demoPassword, loadConfig, seedDemoData } from '@tenantkit/example-service-layer';
import { buildFastifyApp } from './app.js';

/** What a developer needs to know about auth at start; secrets configured by the operator are never printed. */
function logAuthNotices(address: string): void {
  if (services.signingKey.generated) {
    console.warn('JWT_SIGNING_KEY is not set: tokens are signed with a key generated for this process, and die with it (set one in production).');
  }
  if (config.auth.apiKeyHashKeyGenerated) console.warn('API_KEY_PEPPER is not set: API keys created now stop working when the process ends.');
  if (config.auth.deviceTokenSecret === undefined) console.warn('AUTH_DEVICE_TOKEN_SECRET is not set: a restart forgets which devices signed in before.');
  if (config.seedDemoData) {
    console.log(`demo accounts: ${demoAccounts.map((account) => account.email).join(', ')} — password: ${demoPassword}`);
    console.log(`try: curl -s -c /tmp/tk.jar -H 'content-type: application/json' -d '{"email":"alice@acme.example","password":"${demoPassword}","tenant":"acme"}' ${address}/auth/login`);
    console.log(`     curl -s -b /tmp/tk.jar -H 'x-tenant-id: acme' ${address}/tenant`);
  }
}

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
logAuthNotices(address);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    void app.close().then(() => services.close()).then(() => process.exit(0));
  });
}
