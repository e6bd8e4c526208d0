export { loadConfig, type ExampleConfig } from './config.js';
export { createDatabase, databaseTargetFromUrl, type DatabaseTarget } from './database.js';
export { createExampleServices, type ExampleServices } from './services.js';
export { createExampleApplication, type ExampleApplication } from './application.js';
export { seedDemoData, demoTenants } from './seed.js';
export { examplePlans } from './plans.js';
