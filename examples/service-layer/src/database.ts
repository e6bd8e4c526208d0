import { PGlite } from '@electric-sql/pglite';
import { Kysely, MysqlDialect, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { createPool } from 'mysql2';
import pg from 'pg';
import type { ExampleDatabase } from './schema.js';

/**
 * Which SQL database the example runs on: the embedded PGlite (default, no server), or a real
 * PostgreSQL / MariaDB / MySQL given by URL.
 */
export type DatabaseTarget =
  | { kind: 'embedded'; dataDir?: string }
  | { kind: 'postgres'; url: string }
  | { kind: 'mysql'; url: string };

export function databaseTargetFromUrl(url: string | undefined, dataDir?: string): DatabaseTarget {
  if (url === undefined || url === '') return dataDir === undefined ? { kind: 'embedded' } : { kind: 'embedded', dataDir };
  const protocol = new URL(url).protocol;
  if (protocol === 'postgres:' || protocol === 'postgresql:') return { kind: 'postgres', url };
  if (protocol === 'mysql:' || protocol === 'mariadb:') return { kind: 'mysql', url: url.replace(/^mariadb:/, 'mysql:') };
  throw new Error(`DATABASE_URL must be postgres://, postgresql://, mysql:// or mariadb:// (got ${protocol})`);
}

export function createDatabase(target: DatabaseTarget): Kysely<ExampleDatabase> {
  switch (target.kind) {
    case 'embedded':
      return new Kysely({ dialect: new PGliteDialect(new PGlite(target.dataDir)) });
    case 'postgres':
      return new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: target.url, max: 10 }) }) });
    case 'mysql':
      return new Kysely({ dialect: new MysqlDialect({ pool: createPool({ uri: target.url, connectionLimit: 10 }) }) });
  }
}
