import { createId } from '@tenantkit/core';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { testServices } from './services.js';

/**
 * A database created for one test file, on the local test server.
 *
 * @example
 * ```ts
 * const database: TemporaryDatabase = await createTemporaryPostgresDatabase();
 * const pool = new pg.Pool({ connectionString: database.url });
 * // ...
 * await pool.end();
 * await database.drop();
 * ```
 */
export interface TemporaryDatabase {
  /** Connection URL of the new database (the server URL with its name as the path). */
  readonly url: string;
  /** The database name: `tenantkit_test_` and random lower-case letters and digits. */
  readonly name: string;
  /** Drops the database, closing connections that still use it. Safe to call twice. */
  drop(): Promise<void>;
}

function temporaryDatabaseName(): string {
  // Lower-case letters and digits only, so the name needs no quoting rules beyond the basics.
  return `tenantkit_test_${createId().slice(0, 16)}`;
}

function urlWithDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Options of {@link createTemporaryPostgresDatabase}.
 *
 * @example
 * ```ts
 * const options: TemporaryPostgresDatabaseOptions = { icuLocale: 'en-US' };
 * ```
 */
export interface TemporaryPostgresDatabaseOptions {
  /**
   * Give the database this ICU locale as its default collation (Postgres 15+), like the
   * `en_US` databases production servers usually have, instead of the server's default
   * (often `C`, which hides code that relies on byte-wise ordering). Letters, digits and `-`.
   */
  icuLocale?: string;
}

/**
 * Creates a uniquely named database on the test Postgres server (`testServices.postgres`), so
 * a test file can migrate and truncate freely while other files run in parallel.
 *
 * @example
 * ```ts
 * let database: TemporaryDatabase;
 * beforeAll(async () => { database = await createTemporaryPostgresDatabase(); });
 * afterAll(async () => { await database.drop(); });
 * ```
 */
export async function createTemporaryPostgresDatabase(options: TemporaryPostgresDatabaseOptions = {}): Promise<TemporaryDatabase> {
  const serverUrl = testServices.postgres.url;
  const name = temporaryDatabaseName();
  const { icuLocale } = options;
  if (icuLocale !== undefined && !/^[A-Za-z0-9-]{1,40}$/.test(icuLocale)) {
    throw new RangeError('icuLocale must be 1-40 characters of letters, digits and "-"');
  }
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const locale = icuLocale === undefined ? '' : ` template template0 locale_provider icu icu_locale '${icuLocale}'`;
    await admin.query(`create database "${name}"${locale}`);
  } finally {
    await admin.end();
  }

  let dropped = false;
  return {
    url: urlWithDatabase(serverUrl, name),
    name,
    async drop() {
      if (dropped) return;
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        // pg's pool.end() resolves before its sockets have closed: give ended pools a moment to
        // disconnect, or terminating their backends makes the closing clients reject
        // (57P01) as unhandled errors in the test that just finished.
        for (let attempt = 0; attempt < 40; attempt += 1) {
          const { rows } = await client.query<{ count: string }>(
            'select count(*) as count from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
            [name],
          );
          if (Number(rows[0]?.count ?? 0) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        // A pool a test forgot to end would otherwise block DROP DATABASE.
        await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
          name,
        ]);
        await client.query(`drop database if exists "${name}"`);
        dropped = true;
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * Creates a uniquely named database (utf8mb4) on the test MariaDB/MySQL server
 * (`testServices.mariadb`).
 *
 * @example
 * ```ts
 * const database = await createTemporaryMariadbDatabase();
 * const pool = createPool({ uri: database.url, connectionLimit: 10 });
 * ```
 */
export async function createTemporaryMariadbDatabase(): Promise<TemporaryDatabase> {
  const serverUrl = testServices.mariadb.url;
  const name = temporaryDatabaseName();
  const admin = await mysql.createConnection(serverUrl);
  try {
    await admin.query(`create database \`${name}\` character set utf8mb4`);
  } finally {
    await admin.end();
  }

  let dropped = false;
  return {
    url: urlWithDatabase(serverUrl, name),
    name,
    async drop() {
      if (dropped) return;
      const connection = await mysql.createConnection(serverUrl);
      try {
        // Connections left open would hold metadata locks that block DROP DATABASE.
        const [sessions] = await connection.query<mysql.RowDataPacket[]>(
          'select id from information_schema.processlist where db = ? and id <> connection_id()',
          [name],
        );
        for (const session of sessions) {
          await connection.query('kill ?', [session.id]).catch(() => {
            // The session may have ended on its own in the meantime.
          });
        }
        await connection.query(`drop database if exists \`${name}\``);
        dropped = true;
      } finally {
        await connection.end();
      }
    },
  };
}
