import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', kysely: 'src/kysely.ts', mongodb: 'src/mongodb.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  // The drivers are the user's own instances: never bundle them.
  external: ['kysely', 'mongodb'],
});
