import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
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
  external: ['ioredis', 'express', 'fastify', 'fastify-plugin', 'zod', 'rate-limiter-flexible', '@tenantkit/core', '@tenantkit/tenant-context'],
});
