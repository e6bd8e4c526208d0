import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { TenantContextError } from '../../errors.js';
import { currentScope, requireTenantId, type TenantScope } from '../../scope/tenant-scope.js';
import { TenantQueryScoper, type TenantScopingSettings } from './tenant-query-scoper.js';
import { createTenantTableRegistry, type TenantScopedTableSpec, type TenantTableRegistry } from './tenant-table-registry.js';
// For the documentation links only.
import type { unscopedSql } from './unscoped-sql.js';
import type { withoutTenantIsolation } from './without-tenant-isolation.js';

/**
 * Options of {@link createTenantIsolationPlugin}.
 *
 * @example
 * ```ts
 * const options: TenantIsolationPluginOptions = {
 *   tables: { projects: 'tenant_id', 'app.tasks': { column: 'org_id' } },
 *   onUnscopedQuery: (event) => audit.record('tenant-isolation.bypass', event),
 * };
 * ```
 */
export interface TenantIsolationPluginOptions {
  /**
   * The tenant-scoped tables and their tenant columns: `{ projects: 'tenant_id' }` or
   * `{ tasks: { column: 'org_id' } }`. A name without a schema matches the table in every
   * schema; `'app.tasks'` matches `app.tasks` and an unqualified `tasks`. Names compare
   * case-insensitively. Identifiers are 1-63 characters of `A-Z a-z 0-9 _ $`, not starting
   * with a digit.
   */
  tables: Readonly<Record<string, TenantScopedTableSpec>>;
  /**
   * Where the tenant comes from, called (at most once per query) when a query touches a
   * tenant-scoped table. Defaults to {@link requireTenantId}: the ambient tenant scope, and
   * `TENANT_SCOPE_REQUIRED` outside one (the system scope included). A function returning
   * anything but a non-empty string fails with `TENANT_SCOPE_REQUIRED` too.
   */
  tenantId?: () => string;
  /**
   * Audit hook, called synchronously for every query that bypasses tenant scoping: raw SQL
   * marked with {@link unscopedSql}, and every query of a {@link withoutTenantIsolation}
   * handle. It may be called more than once for one statement when parts of it (subqueries,
   * CTEs) are built as separate builders. If it throws, the query is refused with that error,
   * so nothing bypasses isolation unaudited; a returned promise is not awaited.
   */
  onUnscopedQuery?: (event: UnscopedQueryEvent) => void;
}

/**
 * One query that bypassed tenant scoping, as reported to
 * {@link TenantIsolationPluginOptions.onUnscopedQuery}.
 *
 * @example
 * ```ts
 * const onUnscopedQuery = (event: UnscopedQueryEvent) =>
 *   log.warn({ via: event.via, reason: event.reason, actor: event.actor, kind: event.queryKind }, 'unscoped query');
 * ```
 */
export interface UnscopedQueryEvent {
  /** `unscopedSql`: marked raw SQL; `withoutTenantIsolation`: a query of an unscoped handle. */
  readonly via: 'unscopedSql' | 'withoutTenantIsolation';
  /** The reason given to `unscopedSql(reason)`, or the reason of the enclosing `runAsSystem`. */
  readonly reason: string;
  /** The actor of the enclosing `runAsSystem`, if any. */
  readonly actor: string | undefined;
  /** The scope the query ran in. */
  readonly scope: TenantScope | undefined;
  /** The kind of the root operation node, e.g. `SelectQueryNode` or `RawNode`. */
  readonly queryKind: string;
  /** Kysely's id of the query. */
  readonly queryId: string;
}

/**
 * The Kysely plugin {@link createTenantIsolationPlugin} returns.
 *
 * @example
 * ```ts
 * const plugin: TenantIsolationPlugin = createTenantIsolationPlugin({ tables: { projects: 'tenant_id' } });
 * plugin.tables; // ['projects']
 * ```
 */
export interface TenantIsolationPlugin extends KyselyPlugin {
  /** The declared tenant-scoped tables, as given. */
  readonly tables: readonly string[];
  /**
   * Rewrites a query for the tenant in scope (Kysely calls it on `compile()`, on `execute()`
   * and when a builder is embedded in another query). Throws `TENANT_SCOPE_REQUIRED` or
   * `TENANT_ISOLATION_VIOLATION` instead of returning a query that could cross tenants.
   */
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode;
  /** Returns the result unchanged: rows are already filtered by the database. */
  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>>;
}

function report(hook: TenantIsolationPluginOptions['onUnscopedQuery'], event: UnscopedQueryEvent): void {
  if (hook === undefined) return;
  const result: unknown = hook(event);
  if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
    // An async hook's rejection would otherwise be unhandled; it cannot hold the query back.
    Promise.resolve(result).catch(() => undefined);
  }
}

interface PluginConfiguration {
  readonly registry: TenantTableRegistry;
  readonly settings: TenantScopingSettings;
  readonly onUnscopedQuery: TenantIsolationPluginOptions['onUnscopedQuery'];
}

/**
 * The plugin class behind {@link createTenantIsolationPlugin}; {@link withoutTenantIsolation}
 * recognises its instances.
 */
export class KyselyTenantIsolationPlugin implements TenantIsolationPlugin {
  readonly #configuration: PluginConfiguration;
  readonly #unscoped: boolean;
  #twin: KyselyTenantIsolationPlugin | undefined;

  /** @internal Use {@link createTenantIsolationPlugin}. */
  constructor(configuration: PluginConfiguration, unscoped: boolean) {
    this.#configuration = configuration;
    this.#unscoped = unscoped;
  }

  get tables(): readonly string[] {
    return this.#configuration.registry.declaredTables;
  }

  /** @internal The same plugin in unscoped mode (one per plugin), for withoutTenantIsolation(). */
  unscopedTwin(): KyselyTenantIsolationPlugin {
    if (this.#unscoped) return this;
    this.#twin ??= new KyselyTenantIsolationPlugin(this.#configuration, true);
    return this.#twin;
  }

  transformQuery({ node, queryId }: PluginTransformQueryArgs): RootOperationNode {
    if (this.#unscoped) {
      const scope = currentScope();
      if (scope?.kind !== 'system') {
        throw new TenantContextError(
          'TENANT_SCOPE_REQUIRED',
          'A withoutTenantIsolation() handle runs queries only inside runAsSystem(), so unscoped access is always named and audited',
        );
      }
      report(this.#configuration.onUnscopedQuery, {
        via: 'withoutTenantIsolation',
        reason: scope.reason,
        actor: scope.actor,
        scope,
        queryKind: node.kind,
        queryId: queryId.queryId,
      });
      return node;
    }
    const scoper = new TenantQueryScoper(this.#configuration.settings);
    const scoped = scoper.scopeRoot(node);
    if (scoper.unscopedSqlReasons !== undefined && this.#configuration.onUnscopedQuery !== undefined) {
      const scope = currentScope();
      for (const reason of scoper.unscopedSqlReasons) {
        report(this.#configuration.onUnscopedQuery, {
          via: 'unscopedSql',
          reason,
          actor: scope?.kind === 'system' ? scope.actor : undefined,
          scope,
          queryKind: node.kind,
          queryId: queryId.queryId,
        });
      }
    }
    return scoped;
  }

  async transformResult({ result }: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return result;
  }
}

/**
 * Creates a Kysely plugin that isolates tenants sharing tables (the shared-schema strategy):
 * every query on a declared tenant-scoped table is rewritten for the tenant in scope, before
 * Kysely compiles it. Options are validated now (`CONFIGURATION_INVALID`).
 *
 * What it does:
 * - **Reads and writes are filtered.** SELECT, UPDATE and DELETE get
 *   `<alias or table>.<tenant column> = $n` for every reference to a scoped table: FROM items
 *   (in WHERE), joins (in the join's ON, so LEFT JOIN keeps its meaning; CROSS JOIN in WHERE),
 *   subqueries in the select list, WHERE, HAVING and FROM, EXISTS, CTE bodies (a CTE named like
 *   a table shadows it when read, never as an UPDATE/DELETE target, and in WITH RECURSIVE only
 *   from its own and later CTEs), every UNION/INTERSECT/EXCEPT branch, UPDATE ... FROM, MySQL
 *   `update a, b`, DELETE ... USING and MySQL multi-table deletes. With a RIGHT or FULL join
 *   (whose preserved side a predicate cannot filter), the query's scoped tables become
 *   `(select * from t where t.tenant = $n) as t` instead. The tenant is always a bound
 *   parameter. Queries that touch no scoped table pass unchanged and need no scope.
 * - **Inserts are stamped.** INSERT into a scoped table sets the tenant column on every row
 *   (multi-row VALUES, `DEFAULT` cells, DEFAULT VALUES), and refuses an explicit different
 *   value. INSERT ... SELECT scopes the SELECT and appends the tenant to its select list, or, if
 *   the tenant column is listed, accepts only the tenant in scope or the tenant column of a
 *   scoped table the SELECT reads; compound SELECTs (UNION ...) are refused.
 * - **Upserts stay in the tenant.** ON CONFLICT DO UPDATE gets `WHERE <table>.<tenant> = $n`
 *   and MySQL ON DUPLICATE KEY UPDATE assignments become `case when <tenant> = ? then <value>
 *   else <column> end`, so a conflict with another tenant's row (a unique key without the
 *   tenant column) changes nothing. Assigning the tenant column there, or in UPDATE SET, is
 *   allowed only to the tenant in scope (a no-op); anything else throws. REPLACE and
 *   `insert or replace` into a scoped table are refused (they delete the conflicting row).
 * - **Raw SQL is refused** when its text (whole word, any case, quoted or not), a
 *   `sql.table()`, `sql.ref()`, `sql.id()` or `sql.lit()` in it names a scoped table, unless it
 *   is written with {@link unscopedSql}; nested raw SQL (`sql.raw`, `sql` in `sql`) is checked
 *   with its parent's text, as it is written into it. Query builders interpolated into raw SQL
 *   are scoped; an UPDATE, DELETE or INSERT builder on a scoped table there is refused (Kysely
 *   writes it without parentheses, so text after it would extend its WHERE).
 * - **Raw SQL stays in its place.** In a query on a scoped table, unmarked raw SQL that opens a
 *   comment (`--`, `/*`, MySQL's `#`), holds `;`, a dollar quote, a backslash in quotes, an
 *   unterminated quote or a `)` it did not open, a function name that is not a plain
 *   (optionally schema-qualified) identifier (Kysely writes it unquoted), and raw
 *   `modifyEnd()` SQL (`or true` would extend the tenant filter) are refused. Kysely's own
 *   modifiers (`forUpdate()`, `skipLocked()`, ...) stay available; queries on other tables
 *   are unaffected. Postgres functions that read a table named by a parameter or run SQL text
 *   (`table_to_xml`, `query_to_xml`, `database_to_xml` and kin, `dblink*`, `ts_stat`,
 *   `ts_rewrite`) are refused in every query, in the builder and in raw SQL.
 * - **Fails closed.** No tenant in scope (the system scope included) throws
 *   `TENANT_SCOPE_REQUIRED` from `compile()`/`execute()`, before anything is sent. Cross-tenant
 *   work uses a {@link withoutTenantIsolation} handle inside `runAsSystem`. MERGE on a scoped
 *   table and schema statements that read one (CREATE VIEW ... AS) throw
 *   `TENANT_ISOLATION_VIOLATION`, as does every refusal above.
 *
 * Pitfalls guarded against: OR precedence (`a or b and tenant = $1`; the user's filter is
 * parenthesised), LEFT JOIN turned into INNER JOIN by a WHERE predicate, RIGHT/FULL joins
 * leaking the preserved side, aliases (`projects as p` is filtered as `p`), CTE names
 * shadowing tables, upserts updating another tenant's row, REPLACE deleting one, multi-row
 * inserts with `DEFAULT` tenant cells, `||` meaning OR in MySQL, SQLite reading a string
 * literal as a table name, and subqueries built as separate builders (Kysely runs plugins on
 * them when they are embedded; a query embedded in a query of another tenant's scope is
 * re-scoped to the outer tenant).
 *
 * Known limits:
 * - `db.executeQuery(CompiledQuery.raw(...))`, `db.withoutPlugins()` and another `Kysely`
 *   instance without the plugin bypass it: Kysely runs plugins only on builders and `sql`.
 *   Compile with the plugin, never hand-write a `CompiledQuery` for tenant data. A query
 *   compiled (`.compile()`) in one tenant's scope keeps that tenant's id as a parameter: run
 *   it with `db.executeQuery(compiled)` in the same scope only, never cache it across tenants.
 * - Schema statements (`db.schema.dropTable(...)`, `alterTable(...)`) are not scoped: they act on
 *   the whole table, every tenant's rows with it. Run migrations on a handle the application's
 *   request code does not use.
 * - Views, functions, procedures and triggers that read tables run in the database, unseen:
 *   declare a view as a tenant-scoped table of its own (with its tenant column), and keep
 *   functions and triggers tenant-aware yourself (beyond the well-known query-running
 *   functions refused above, a function may read any table: with Postgres, also revoke
 *   EXECUTE on such functions from the application role). Combine with Postgres row-level security for
 *   defence in depth.
 * - Raw SQL detection is textual: a column or string literal spelled like a scoped table is
 *   refused too (use {@link unscopedSql}); an unusual spelling of the table (a Unicode escape,
 *   dynamic SQL built inside the database) is not seen.
 * - Unique keys without the tenant column still reveal that a key exists in another tenant
 *   (the insert fails, or the upsert silently does nothing). Lead every key with the tenant.
 * - A plugin placed after one that copies nodes (CamelCasePlugin, `withSchema`) may scope a
 *   separately built subquery twice: the predicate is repeated, results are unchanged.
 * - INSERT ... SELECT appends the tenant as an untyped parameter; for a non-text tenant column
 *   on Postgres, select it from the source table instead (it is checked) or cast it.
 * - Build queries inside the tenant scope: Kysely runs plugins on a subquery builder (and on
 *   the builders `eb.selectFrom` callbacks return) when it is embedded in another query, so
 *   embedding a scoped one outside any scope throws `TENANT_SCOPE_REQUIRED` already then.
 * - In RIGHT/FULL-join queries an unaliased schema-qualified table becomes a derived table
 *   named after the table, so `schema.table.column` references to it stop resolving: alias it.
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from 'kysely';
 * import { runWithTenant } from '@tenantkit/tenant-context';
 * import { createTenantIsolationPlugin } from '@tenantkit/tenant-context/kysely';
 *
 * const db = new Kysely<Database>({
 *   dialect: new PostgresDialect({ pool }),
 *   plugins: [createTenantIsolationPlugin({ tables: { projects: 'tenant_id', tasks: { column: 'org_id' } } })],
 * });
 *
 * await runWithTenant('tnt_acme', async () => {
 *   // select * from "projects" as "p" where "p"."archived" = $1 and "p"."tenant_id" = $2
 *   await db.selectFrom('projects as p').selectAll().where('p.archived', '=', false).execute();
 *   // insert into "projects" ("id", "name", "tenant_id") values ($1, $2, $3)
 *   await db.insertInto('projects').values({ id: 'prj_1', name: 'Roadmap' }).execute();
 * });
 * ```
 */
export function createTenantIsolationPlugin(options: TenantIsolationPluginOptions): TenantIsolationPlugin {
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'Invalid tenant isolation options: expected an object with tables');
  }
  const unknownOption = Object.keys(options).find((key) => key !== 'tables' && key !== 'tenantId' && key !== 'onUnscopedQuery');
  if (unknownOption !== undefined) {
    throw new TenantContextError('CONFIGURATION_INVALID', `Invalid tenant isolation options: unknown option "${unknownOption}"`);
  }
  const { tenantId, onUnscopedQuery } = options;
  if (tenantId !== undefined && typeof tenantId !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'Invalid tenant isolation options: tenantId must be a function returning the tenant id');
  }
  if (onUnscopedQuery !== undefined && typeof onUnscopedQuery !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'Invalid tenant isolation options: onUnscopedQuery must be a function');
  }
  const registry = createTenantTableRegistry(options.tables);
  const readTenantId = tenantId ?? requireTenantId;
  const settings: TenantScopingSettings = Object.freeze({
    registry,
    resolveTenantId(): string {
      const id: unknown = readTenantId();
      if (typeof id !== 'string' || id === '') {
        throw new TenantContextError('TENANT_SCOPE_REQUIRED', 'The tenantId() option returned no tenant id; tenant-scoped queries need one');
      }
      return id;
    },
  });
  return new KyselyTenantIsolationPlugin(Object.freeze({ registry, settings, onUnscopedQuery }), false);
}
