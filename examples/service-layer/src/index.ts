export { loadConfig, type ExampleConfig, type ExampleRateLimitConfig, type RateLimitWindow } from './config.js';
export { createDatabase, databaseTargetFromUrl, type DatabaseTarget } from './database.js';
export { createExampleServices, type ExampleServices } from './services.js';
export { createExampleApplication, type ExampleApplication } from './application.js';
export { seedDemoData, demoTenants } from './seed.js';
export { examplePlans, defineExamplePlans, type ExamplePlanKey } from './plans.js';
export { createExampleRateLimits, exampleRateLimitPolicies, type ExampleRateLimits, type EdgeLimitResult } from './rate-limits.js';
