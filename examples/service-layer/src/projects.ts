import { createId } from '@tenantkit/core';
import type { TenantCache } from '@tenantkit/tenant-context/redis';
import { type Expression, type ExpressionBuilder, type Kysely, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import type { ExampleDatabase } from './schema.js';

/**
 * A tenant's project: the example's stand-in for any tenant-owned business record. A type
 * alias, not an interface, so it is a JsonValue the tenant cache can hold.
 */
export type Project = {
  id: string;
  name: string;
  createdBy: string;
  createdAt: number;
};

/**
 * Strict: a body naming any other field (a smuggled `tenant_id` or `tenantId` included) is
 * refused with VALIDATION_FAILED before anything is written. The tenant comes from the scope only.
 */
export const newProjectSchema = z.strictObject({ name: z.string().trim().min(1).max(120) });
export const renameProjectSchema = newProjectSchema;

/** The most projects one import creates (and so the most rate-limit points it costs). */
export const MAX_PROJECTS_PER_IMPORT = 50;

/** An import of several projects in one request (strict, like a single creation). */
export const projectImportSchema = z.strictObject({
  names: z.array(newProjectSchema.shape.name).min(1).max(MAX_PROJECTS_PER_IMPORT),
});

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

/** How the repository caches each tenant's project list (Redis-backed deployments only). */
export interface ProjectRepositoryOptions {
  /**
   * A tenant cache for the project list, invalidated by every write of this repository. A list
   * read racing a write may store what it read before the write, and an invalidation that fails
   * leaves the old entry; the cache's TTL bounds both. Reads fail with STORE_UNAVAILABLE while
   * the cache cannot be reached.
   */
  listCache?: TenantCache<Project[]>;
}

const LIST_KEY = 'list';

/**
 * Where each project attribute a permission condition may name (`resource.createdBy`) lives,
 * for turning a principal's conditions into a where-clause (`kyselyPermissionFilter`).
 */
export const projectFilterColumns = {
  'resource.id': 'id',
  'resource.name': 'name',
  'resource.createdBy': 'created_by',
  'resource.createdAt': 'created_at',
} as const;

/** A where-clause over `example_projects`, such as the one `kyselyPermissionFilter` builds. */
export type ProjectFilter = (eb: ExpressionBuilder<ExampleDatabase, 'example_projects'>) => Expression<SqlBool>;

/**
 * Tenant-scoped project repository on the tenant-isolated handle (the one with
 * `createTenantIsolationPlugin`): the plugin adds `tenant_id = <tenant in scope>` to every read,
 * update and delete and stamps it on every insert, so no query here names the tenant, and a
 * query outside a tenant scope (the system scope included) fails with TENANT_SCOPE_REQUIRED
 * before it reaches the database. Lifecycle steps run inside the tenant's scope, so the
 * onboarding and offboarding hooks use the same methods as the request handlers.
 */
export function createProjectRepository(db: Kysely<ExampleDatabase>, options: ProjectRepositoryOptions = {}) {
  const { listCache } = options;
  const columns = ['id', 'name', 'created_by', 'created_at'] as const;
  const toProject = (row: { id: string; name: string; created_by: string; created_at: number | string | bigint }): Project => ({
    id: row.id,
    name: row.name,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
  });

  async function loadList(): Promise<Project[]> {
    const rows = await db.selectFrom('example_projects').select(columns).orderBy('created_at').orderBy('id').execute();
    return rows.map(toProject);
  }

  async function get(id: string): Promise<Project | undefined> {
    const row = await db.selectFrom('example_projects').select(columns).where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toProject(row);
  }

  /**
   * Drops the cached list after a write (cache-aside: the database is written first). A failure
   * here must not fail the write, which has happened: the caller would report an error and undo
   * its side effects (the quota) for a project that exists. The stale entry expires within the TTL.
   */
  async function invalidateList(): Promise<void> {
    if (listCache === undefined) return;
    try {
      await listCache.delete(LIST_KEY);
    } catch {
      // See above: bounded staleness beats a write reported as failed.
    }
  }

  return {
    async list(): Promise<Project[]> {
      return listCache === undefined ? loadList() : listCache.wrap(LIST_KEY, loadList);
    },

    /**
     * The projects matching `filter` (a caller who may read only some projects), from the
     * database: the cached list is the whole tenant's, so it cannot answer this.
     */
    async listWhere(filter: ProjectFilter): Promise<Project[]> {
      const rows = await db.selectFrom('example_projects').select(columns).where(filter).orderBy('created_at').orderBy('id').execute();
      return rows.map(toProject);
    },

    /** The project with this id in the tenant in scope; another tenant's project is as absent as a missing one. */
    get,

    /** The oldest project of the tenant in scope with this name (read from the database, never the cache). */
    async findByName(name: string): Promise<Project | undefined> {
      const row = await db
        .selectFrom('example_projects')
        .select(columns)
        .where('name', '=', name)
        .orderBy('created_at')
        .orderBy('id')
        .executeTakeFirst();
      return row === undefined ? undefined : toProject(row);
    },

    async create(name: string, createdBy: string, now: number): Promise<Project> {
      const row = { id: createId('prj'), name, created_by: createdBy, created_at: now };
      await db.insertInto('example_projects').values(row).execute();
      await invalidateList();
      return toProject(row);
    },

    /** Creates several projects in one insert: all of them or, when it fails, none. */
    async createMany(names: readonly string[], createdBy: string, now: number): Promise<Project[]> {
      const rows = names.map((name) => ({ id: createId('prj'), name, created_by: createdBy, created_at: now }));
      await db.insertInto('example_projects').values(rows).execute();
      await invalidateList();
      return rows.map(toProject);
    },

    /** Renames a project; resolves the changed project, or undefined when this tenant has none with that id. */
    async rename(id: string, name: string): Promise<Project | undefined> {
      const result = await db.updateTable('example_projects').set({ name }).where('id', '=', id).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return undefined;
      await invalidateList();
      return get(id);
    },

    async remove(id: string): Promise<boolean> {
      const result = await db.deleteFrom('example_projects').where('id', '=', id).executeTakeFirst();
      const removed = Number(result.numDeletedRows) > 0;
      if (removed) await invalidateList();
      return removed;
    },

    /** Removes every project of the tenant in scope (the offboarding hook and onboarding compensation). */
    async removeAll(): Promise<number> {
      const result = await db.deleteFrom('example_projects').executeTakeFirst();
      await invalidateList();
      return Number(result.numDeletedRows);
    },

    /** How many projects the tenant in scope has (read from the database, never the cache). */
    async count(): Promise<number> {
      const row = await db
        .selectFrom('example_projects')
        .select(sql<string | number>`count(*)`.as('count'))
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}

export type ProjectRepository = ReturnType<typeof createProjectRepository>;
