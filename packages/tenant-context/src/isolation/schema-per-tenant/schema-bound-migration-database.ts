import type { Kysely, QueryExecutor } from 'kysely';
import { schemaMigrationLockAdapter } from './schema-advisory-locks.js';
import { schemaScopedIntrospector } from './schema-scoped-introspector.js';

/** Reads `property` of `target` with `target` as `this`, binding methods to it (Kysely's classes use private fields). */
function forward(target: object, property: string | symbol): unknown {
  const value: unknown = Reflect.get(target, property, target);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

/**
 * The `db` a tenant schema's `Migrator` runs with: `db.withSchema(schema)` (so migrations'
 * query and schema builders land in the schema, and so does Kysely's migration table), with a
 * per-schema migration lock ({@link schemaMigrationLockAdapter}) and a schema-scoped
 * introspector ({@link schemaScopedIntrospector}).
 *
 * Kysely offers no public way to swap the adapter or the introspector of an existing
 * instance, and the application hands us an instance, not its dialect; so this is a thin view
 * over it that answers `getExecutor().adapter` and `introspection` differently and forwards
 * everything else. Queries still run through the application's own driver and pool.
 */
export function schemaBoundMigrationDatabase(db: Kysely<any>, schema: string): Kysely<any> {
  const bound = db.withSchema(schema);
  const executor = bound.getExecutor();
  const adapter = schemaMigrationLockAdapter(executor.adapter, schema);
  const introspector = schemaScopedIntrospector(db, schema);
  const executorView = new Proxy(executor, {
    get: (target, property) => (property === 'adapter' ? adapter : forward(target, property)),
  }) as QueryExecutor;
  return new Proxy(bound, {
    get(target, property) {
      if (property === 'getExecutor') return () => executorView;
      if (property === 'introspection') return introspector;
      return forward(target, property);
    },
  });
}
