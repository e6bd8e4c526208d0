import { WithSchemaPlugin, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import { requireTenantId } from '../../scope/tenant-scope.js';

/**
 * A Kysely plugin that qualifies every table of a query with the schema of the tenant in scope
 * when the query is compiled, that is in the async context of whoever runs it. Outside a
 * tenant scope (the system scope included) compiling fails with `TENANT_SCOPE_REQUIRED`, so
 * an unscoped query never reaches the database.
 *
 * It rewrites the query tree the way Kysely's `withSchema` does (its `WithSchemaPlugin`),
 * which never touches the connection's `search_path`: nothing is left behind on a pooled
 * connection. Tables a query names with an explicit schema (`public.plans`) keep it; raw
 * `sql` is not rewritten.
 */
export function tenantSchemaRoutingPlugin(schemaOf: (tenantId: string) => string): KyselyPlugin {
  return {
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      return new WithSchemaPlugin(schemaOf(requireTenantId())).transformQuery(args);
    },
    async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return args.result;
    },
  };
}
