import type { Generated } from 'kysely';

/** The example's own tables. tenantkit's tables are created by its migrations. */
export interface ProjectsTable {
  tenant_id: string;
  id: string;
  name: string;
  created_by: string;
  created_at: Generated<number> | number;
}

export interface ExampleDatabase {
  example_projects: ProjectsTable;
}
