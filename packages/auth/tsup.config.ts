import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'adapters/kysely': 'src/adapters/kysely.ts',
    'adapters/mongodb': 'src/adapters/mongodb.ts',
    'adapters/redis': 'src/adapters/redis.ts',
    'bindings/express': 'src/bindings/express.ts',
    'bindings/fastify': 'src/bindings/fastify.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // Drivers and frameworks are the user's own instances: never bundle them.
  external: [
    'kysely', 'mongodb', 'ioredis', 'express', 'fastify', 'fastify-plugin', 'zod', 'jose',
    '@tenantkit/core', '@tenantkit/tenant-context', '@tenantkit/rbac', '@tenantkit/ratelimit',
  ],
});
