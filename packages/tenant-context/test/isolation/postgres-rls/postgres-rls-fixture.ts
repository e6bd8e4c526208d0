import { randomBytes } from 'node:crypto';
import { createTemporaryPostgresDatabase, testServices, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect, type LogEvent } from 'kysely';
import pg from 'pg';

/**
 * A temporary database plus an application role made for one test file: LOGIN, NOSUPERUSER,
 * NOBYPASSRLS, owning nothing. `admin` is the superuser `postgres` on the same database (it
 * creates and owns the tables, and bypasses row-level security to seed and inspect them).
 */
export interface RowLevelSecurityFixture {
  readonly database: TemporaryDatabase;
  readonly admin: Kysely<any>;
  /** The application role's name, `tk_app_<random>`. */
  readonly appRole: string;
  /** Creates another role (dropped with the fixture); `attributes` as in CREATE ROLE. */
  createRole(prefix: string, attributes: string): Promise<string>;
  /** A pool of connections as the application role (ended with the fixture). */
  openAppPool(max: number): pg.Pool;
  /** A Kysely instance on such a pool; `queries` collects every SQL statement it sent. */
  openAppDb(max: number): { db: Kysely<any>; pool: pg.Pool; queries: string[] };
  /** A Kysely instance connected as another (LOGIN) role of this fixture. */
  openDbAs(role: string, max: number): Kysely<any>;
  close(): Promise<void>;
}

export function uniqueRoleName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export async function createRowLevelSecurityFixture(): Promise<RowLevelSecurityFixture> {
  const database = await createTemporaryPostgresDatabase();
  const adminPool = new pg.Pool({ connectionString: database.url, max: 3 });
  const admin = new Kysely<any>({ dialect: new PostgresDialect({ pool: adminPool }) });
  const roles: string[] = [];
  const pools: pg.Pool[] = [];
  const server = new pg.Client({ connectionString: testServices.postgres.url });
  await server.connect();

  const createRole = async (prefix: string, attributes: string): Promise<string> => {
    const name = uniqueRoleName(prefix);
    await server.query(`create role "${name}" ${attributes}`);
    roles.push(name);
    return name;
  };
  const appRole = await createRole('tk_app', 'login nosuperuser nobypassrls');

  const urlOf = (role: string): string => {
    const url = new URL(database.url);
    url.username = role;
    url.password = '';
    return url.toString();
  };
  const openPoolAs = (role: string, max: number): pg.Pool => {
    const pool = new pg.Pool({ connectionString: urlOf(role), max });
    pools.push(pool);
    return pool;
  };
  const openAppPool = (max: number): pg.Pool => openPoolAs(appRole, max);

  return {
    database,
    admin,
    appRole,
    createRole,
    openAppPool,
    openAppDb(max) {
      const pool = openAppPool(max);
      const queries: string[] = [];
      const db = new Kysely<any>({
        dialect: new PostgresDialect({ pool }),
        log: (event: LogEvent) => {
          queries.push(event.query.sql);
        },
      });
      return { db, pool, queries };
    },
    openDbAs(role, max) {
      return new Kysely<any>({ dialect: new PostgresDialect({ pool: openPoolAs(role, max) }) });
    },
    async close() {
      for (const pool of pools) await pool.end().catch(() => undefined);
      await admin.destroy();
      await database.drop();
      try {
        // The database (and every object and grant in it) is gone, so the roles own nothing.
        for (const role of roles) await server.query(`drop role if exists "${role}"`);
      } finally {
        await server.end();
      }
    },
  };
}
