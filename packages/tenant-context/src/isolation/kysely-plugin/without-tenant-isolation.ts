import type { Kysely, KyselyPlugin } from 'kysely';
import { TenantContextError } from '../../errors.js';
import { KyselyTenantIsolationPlugin } from './tenant-isolation-plugin.js';

/**
 * A handle on the same database and connections whose tenant isolation plugins run unscoped:
 * no predicates, no tenant stamping, raw SQL unchecked. It is the named escape for cross-tenant
 * work (back-office jobs, migrations of data, the reset of a test): every query on it must run
 * inside `runAsSystem` — elsewhere it throws `TENANT_SCOPE_REQUIRED`, the tenant scope included
 * — and is reported to the plugin's `onUnscopedQuery` hook with the system scope's reason and
 * actor. Other plugins of `db` stay in place, in order. Inserts into tenant-scoped tables on
 * this handle must set the tenant column themselves.
 *
 * Throws `CONFIGURATION_INVALID` when `db` has no tenant isolation plugin (so a wrong handle is
 * never mistaken for an audited one).
 *
 * @example
 * ```ts
 * await runAsSystem({ reason: 'purge closed tenants', actor: 'cron' }, async () => {
 *   await withoutTenantIsolation(db).deleteFrom('projects').where('tenant_id', 'in', closedTenantIds).execute();
 * });
 * ```
 */
export function withoutTenantIsolation<Handle extends Kysely<any>>(db: Handle): Handle {
  let plugins: readonly KyselyPlugin[];
  try {
    plugins = db.getExecutor().plugins;
  } catch (error) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'withoutTenantIsolation() needs a Kysely instance or transaction', { cause: error });
  }
  let found = false;
  const replaced = plugins.map((plugin) => {
    if (!(plugin instanceof KyselyTenantIsolationPlugin)) return plugin;
    found = true;
    return plugin.unscopedTwin();
  });
  if (!found) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      'withoutTenantIsolation() was given a Kysely instance without a tenant isolation plugin',
    );
  }
  let handle = db.withoutPlugins();
  for (const plugin of replaced) handle = handle.withPlugin(plugin);
  return handle as Handle;
}
