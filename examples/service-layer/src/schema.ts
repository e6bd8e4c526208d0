import type { ColumnType, Generated } from 'kysely';

/**
 * A tenant column of a tenant-scoped table: readable, but never written by application code.
 * The tenant isolation plugin stamps it on every insert from the tenant in scope (and refuses a
 * different value), so the types leave it out of inserts and updates.
 */
export type TenantColumn = ColumnType<string, never, never>;

/** The example's own tables. tenantkit's tables are created by its migrations. */
export interface ProjectsTable {
  tenant_id: TenantColumn;
  id: string;
  name: string;
  created_by: string;
  created_at: Generated<number> | number;
}

export interface ExampleDatabase {
  example_projects: ProjectsTable;
}

/**
 * The example's tenant-scoped tables and their tenant columns, for the tenant isolation plugin.
 * A table missing from it is not isolated, so the type makes every table of ExampleDatabase
 * declare its tenant column (a global table added later would be split off explicitly).
 */
export const exampleTenantTables = { example_projects: 'tenant_id' } as const satisfies Record<keyof ExampleDatabase, string>;
