import { createId } from '@tenantkit/core';
import { requireTenantId } from '@tenantkit/tenant-context';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { ExampleDatabase } from './schema.js';

/** A tenant's project: the example's stand-in for any tenant-owned business record. */
export interface Project {
  id: string;
  name: string;
  createdBy: string;
  createdAt: number;
}

export const newProjectSchema = z.strictObject({ name: z.string().trim().min(1).max(120) });

export async function migrateProjects(db: Kysely<ExampleDatabase>): Promise<void> {
  await db.schema
    .createTable('example_projects')
    .ifNotExists()
    .addColumn('tenant_id', 'varchar(64)', (column) => column.notNull())
    .addColumn('id', 'varchar(64)', (column) => column.notNull())
    .addColumn('name', 'varchar(120)', (column) => column.notNull())
    .addColumn('created_by', 'varchar(128)', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    // tenant_id leads the key: every lookup is per tenant, and it is the sharding column.
    .addPrimaryKeyConstraint('example_projects_pk', ['tenant_id', 'id'])
    .execute();
}

/**
 * Tenant-scoped project repository: every query reads the tenant from the scope
 * (requireTenantId throws when none is open), so a handler can never forget the filter.
 */
export function createProjectRepository(db: Kysely<ExampleDatabase>) {
  const toProject = (row: { id: string; name: string; created_by: string; created_at: number | string | bigint }): Project => ({
    id: row.id,
    name: row.name,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
  });

  return {
    async list(): Promise<Project[]> {
      const rows = await db
        .selectFrom('example_projects')
        .select(['id', 'name', 'created_by', 'created_at'])
        .where('tenant_id', '=', requireTenantId())
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      return rows.map(toProject);
    },

    async create(name: string, createdBy: string, now: number): Promise<Project> {
      const project = { tenant_id: requireTenantId(), id: createId('prj'), name, created_by: createdBy, created_at: now };
      await db.insertInto('example_projects').values(project).execute();
      return toProject(project);
    },

    async remove(id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('example_projects')
        .where('tenant_id', '=', requireTenantId())
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Offboarding hook: removes every project of one tenant. */
    async removeAllOfTenant(tenantId: string): Promise<number> {
      const result = await db.deleteFrom('example_projects').where('tenant_id', '=', tenantId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async countOfTenant(tenantId: string): Promise<number> {
      const row = await db
        .selectFrom('example_projects')
        .select(sql<string | number>`count(*)`.as('count'))
        .where('tenant_id', '=', tenantId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}

export type ProjectRepository = ReturnType<typeof createProjectRepository>;
