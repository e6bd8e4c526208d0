export {
  loadConfig,
  type ExampleConfig,
  type ExampleAuthConfig,
  type ExampleRateLimitConfig,
  type RateLimitWindow,
} from './config.js';
export { createDatabase, databaseTargetFromUrl, type DatabaseTarget } from './database.js';
export { createExampleServices, type ExampleServices } from './services.js';
export {
  createExampleApplication,
  type ExampleApplication,
  type AuthAnswer,
  type AuthRequestFacts,
  type ExampleErrorResponse,
} from './application.js';
export { seedDemoData, seedAccount, demoTenants, demoAccounts, demoPassword } from './seed.js';
export { examplePlans, defineExamplePlans, type ExamplePlanKey } from './plans.js';
export { createExampleRateLimits, exampleRateLimitPolicies, type ExampleRateLimits, type EdgeLimitResult } from './rate-limits.js';
export { createExampleAuth, type ExampleAuth, type ExampleAuthOptions } from './authentication.js';
export { createMailOutbox, type MailOutbox, type MailOutboxOptions, type OutboxMail, type OutboxMailKind } from './mail-outbox.js';
export { sessionCookieHeader, clearedSessionCookieHeader } from './session-cookie.js';
