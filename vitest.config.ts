import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const fromRoot = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the TypeScript sources, so `pnpm test` needs no build first.
const alias = [
  { find: /^@tenantkit\/core$/, replacement: fromRoot('./packages/core/src/index.ts') },
  { find: /^@tenantkit\/core\/(kysely|mongodb)$/, replacement: fromRoot('./packages/core/src/$1.ts') },
  { find: /^@tenantkit\/tenant-context$/, replacement: fromRoot('./packages/tenant-context/src/index.ts') },
  { find: /^@tenantkit\/tenant-context\/(kysely|mongodb|redis)$/, replacement: fromRoot('./packages/tenant-context/src/adapters/$1.ts') },
  { find: /^@tenantkit\/tenant-context\/(express|fastify)$/, replacement: fromRoot('./packages/tenant-context/src/bindings/$1.ts') },
  { find: /^@tenantkit\/rbac$/, replacement: fromRoot('./packages/rbac/src/index.ts') },
  { find: /^@tenantkit\/rbac\/(kysely|mongodb|redis)$/, replacement: fromRoot('./packages/rbac/src/adapters/$1.ts') },
  { find: /^@tenantkit\/rbac\/(express|fastify)$/, replacement: fromRoot('./packages/rbac/src/bindings/$1.ts') },
  { find: /^@tenantkit\/ratelimit$/, replacement: fromRoot('./packages/ratelimit/src/index.ts') },
  { find: /^@tenantkit\/ratelimit\/redis$/, replacement: fromRoot('./packages/ratelimit/src/adapters/redis.ts') },
  { find: /^@tenantkit\/ratelimit\/(express|fastify)$/, replacement: fromRoot('./packages/ratelimit/src/bindings/$1.ts') },
  { find: /^@tenantkit\/auth$/, replacement: fromRoot('./packages/auth/src/index.ts') },
  { find: /^@tenantkit\/auth\/(kysely|mongodb|redis)$/, replacement: fromRoot('./packages/auth/src/adapters/$1.ts') },
  { find: /^@tenantkit\/auth\/(express|fastify)$/, replacement: fromRoot('./packages/auth/src/bindings/$1.ts') },
  { find: /^@tenantkit\/test-utils$/, replacement: fromRoot('./packages/test-utils/src/index.ts') },
  { find: /^@tenantkit\/example-service-layer$/, replacement: fromRoot('./examples/service-layer/src/index.ts') },
  { find: /^@tenantkit\/example-service-layer\/test-support$/, replacement: fromRoot('./examples/service-layer/test-support/http-scenarios.ts') },
];

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/{src,test}/**/*.test.ts', 'examples/*/{src,test}/**/*.test.ts', 'bench/src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
