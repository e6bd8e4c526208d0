import type { SchemableIdentifierNode } from 'kysely';
import { TenantContextError } from '../../errors.js';

/**
 * How one tenant-scoped table is declared: the name of its tenant column, or an object naming
 * it (room for more per-table settings later).
 *
 * @example
 * ```ts
 * const projects: TenantScopedTableSpec = 'tenant_id';
 * const tasks: TenantScopedTableSpec = { column: 'org_id' };
 * ```
 */
export type TenantScopedTableSpec = string | { readonly column: string };

// Unquoted SQL identifiers every supported database accepts as they are: ASCII letters,
// digits, `_` and `$`, not starting with a digit or `$`, at most 63 characters (Postgres' limit).
const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

interface TableEntry {
  /** Tenant column of the table declared without a schema: it matches the table in any schema. */
  anySchema: string | undefined;
  /** Tenant columns of schema-qualified declarations, by lower-cased schema. */
  readonly bySchema: Map<string, string>;
  /** Tenant column an unqualified reference resolves to when only qualified declarations exist. */
  unqualified: string | undefined;
}

/**
 * The tenant-scoped tables of one plugin, validated, with lookups the query scoper runs on
 * every table reference. Names compare case-insensitively: SQLite and MySQL treat `Projects`
 * and `projects` as one table, and matching too much only adds a predicate (or fails on a
 * missing column), while matching too little would leak.
 */
export interface TenantTableRegistry {
  /** The tenant column of the table a reference names, or `undefined` if it is not scoped. */
  tenantColumnOf(table: SchemableIdentifierNode): string | undefined;
  /** Whether a bare identifier is the name of a tenant-scoped table. */
  isScopedTableName(name: string): boolean;
  /** Whether SQL text mentions a tenant-scoped table name as a whole word. */
  mentionsScopedTable(text: string): boolean;
  /** The declared tables, as `schema.table` or `table`, for messages. */
  readonly declaredTables: readonly string[];
}

function configurationError(message: string): TenantContextError {
  return new TenantContextError('CONFIGURATION_INVALID', `Invalid tenant isolation options: ${message}`);
}

function readTenantColumn(name: string, spec: unknown): string {
  let column: unknown = spec;
  if (typeof spec === 'object' && spec !== null && !Array.isArray(spec)) {
    const keys = Object.keys(spec);
    const unknownKey = keys.find((key) => key !== 'column');
    if (unknownKey !== undefined) throw configurationError(`tables.${name} has an unknown setting "${unknownKey}"`);
    column = (spec as { column?: unknown }).column;
  }
  if (typeof column !== 'string' || !IDENTIFIER_PATTERN.test(column)) {
    throw configurationError(
      `tables.${name} needs a tenant column name (a string, or { column }) of 1-63 characters of A-Z, a-z, 0-9, "_" or "$", not starting with a digit`,
    );
  }
  return column;
}

function splitTableName(name: string): { schema: string | undefined; table: string } {
  const parts = name.split('.');
  const valid = parts.length <= 2 && parts.every((part) => IDENTIFIER_PATTERN.test(part));
  if (!valid) {
    throw configurationError(
      `table name "${name}" must be "table" or "schema.table", each part 1-63 characters of A-Z, a-z, 0-9, "_" or "$", not starting with a digit`,
    );
  }
  return parts.length === 2 ? { schema: parts[0], table: parts[1]! } : { schema: undefined, table: parts[0]! };
}

function escapeForPattern(text: string): string {
  return text.replace(/[$]/g, '\\$');
}

/**
 * Validates the `tables` option and builds the lookups. Throws `CONFIGURATION_INVALID`.
 *
 * @example
 * ```ts
 * const registry = createTenantTableRegistry({ projects: 'tenant_id', 'app.tasks': { column: 'org_id' } });
 * ```
 */
export function createTenantTableRegistry(tables: unknown): TenantTableRegistry {
  if (typeof tables !== 'object' || tables === null || Array.isArray(tables)) {
    throw configurationError('tables must be an object mapping table names to their tenant column');
  }
  const names = Object.keys(tables);
  if (names.length === 0) throw configurationError('tables must declare at least one tenant-scoped table');

  const entries = new Map<string, TableEntry>();
  for (const name of names) {
    const column = readTenantColumn(name, (tables as Record<string, unknown>)[name]);
    const { schema, table } = splitTableName(name);
    const key = table.toLowerCase();
    let entry = entries.get(key);
    if (entry === undefined) {
      entry = { anySchema: undefined, bySchema: new Map(), unqualified: undefined };
      entries.set(key, entry);
    }
    if (schema === undefined) {
      if (entry.anySchema !== undefined && entry.anySchema.toLowerCase() !== column.toLowerCase()) {
        throw configurationError(`table "${table}" is declared twice (names compare case-insensitively) with different tenant columns`);
      }
      entry.anySchema = column;
    } else {
      const schemaKey = schema.toLowerCase();
      const existing = entry.bySchema.get(schemaKey);
      if (existing !== undefined && existing.toLowerCase() !== column.toLowerCase()) {
        throw configurationError(`table "${name}" is declared twice (names compare case-insensitively) with different tenant columns`);
      }
      entry.bySchema.set(schemaKey, column);
    }
  }

  for (const [key, entry] of entries) {
    if (entry.anySchema !== undefined) {
      entry.unqualified = entry.anySchema;
      continue;
    }
    const columns = new Set([...entry.bySchema.values()].map((column) => column.toLowerCase()));
    if (columns.size > 1) {
      // An unqualified reference (resolved through the search path) could be any of them.
      throw configurationError(
        `tables in several schemas are named "${key}" with different tenant columns; also declare "${key}" itself, so an unqualified reference has one tenant column`,
      );
    }
    entry.unqualified = entry.bySchema.values().next().value;
  }

  const tableNames = [...entries.keys()];
  // Whole words only: `projects` matches `projects`, `"Projects"`, `app.projects` and
  // `` `projects` ``, but not `project_tasks` or `projects2`.
  const mentionPattern = new RegExp(`(?<![A-Za-z0-9_$])(?:${tableNames.map(escapeForPattern).join('|')})(?![A-Za-z0-9_$])`, 'i');

  return Object.freeze({
    declaredTables: Object.freeze([...names]),
    tenantColumnOf(table: SchemableIdentifierNode): string | undefined {
      const entry = entries.get(table.identifier.name.toLowerCase());
      if (entry === undefined) return undefined;
      if (table.schema === undefined) return entry.unqualified;
      return entry.bySchema.get(table.schema.name.toLowerCase()) ?? entry.anySchema;
    },
    isScopedTableName(name: string): boolean {
      return entries.has(name.toLowerCase());
    },
    mentionsScopedTable(text: string): boolean {
      return mentionPattern.test(text);
    },
  });
}
