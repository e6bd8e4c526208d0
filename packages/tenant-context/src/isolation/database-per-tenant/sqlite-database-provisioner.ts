import { mkdir, open, rm, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { TenantContextError } from '../../errors.js';
import { provisioningError } from './provisioning-errors.js';
import { assertTenantDatabaseName } from './tenant-database-name.js';
import type { TenantDatabaseProvisioner } from './tenant-database-provisioner.js';

const EXTENSION_PATTERN = /^\.[a-z0-9]{1,16}$/;
/** Files SQLite keeps next to a database: WAL mode's log and shared-memory index, the rollback journal. */
const SIDE_FILE_SUFFIXES = ['-wal', '-shm', '-journal'] as const;
const FILE_NAME_MAX_BYTES = 255;

/**
 * Options of {@link sqliteDatabaseProvisioner}.
 *
 * @example
 * ```ts
 * const options: SqliteDatabaseProvisionerOptions = { directory: '/var/lib/app/tenants', extension: '.db' };
 * ```
 */
export interface SqliteDatabaseProvisionerOptions {
  /** An absolute path to the directory holding one file per tenant; created when missing. */
  directory: string;
  /** The file extension, a dot and 1-16 characters of `a-z 0-9`. Default `.sqlite`. */
  extension?: string;
}

/**
 * A {@link TenantDatabaseProvisioner} for SQLite that also tells where each tenant's file is.
 *
 * @example
 * ```ts
 * const file = provisioner.filePathOf('tenant_acme'); // '/var/lib/app/tenants/tenant_acme.sqlite'
 * ```
 */
export interface SqliteDatabaseProvisioner extends TenantDatabaseProvisioner {
  /** The directory the tenant files are in. */
  readonly directory: string;
  /**
   * The path of a tenant database's main file.
   *
   * @example
   * ```ts
   * new Database(provisioner.filePathOf(databaseName), { fileMustExist: true });
   * ```
   */
  filePathOf(databaseName: string): string;
}

function isMissingFile(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/**
 * A {@link TenantDatabaseProvisioner} for SQLite, the embedded default: one database file per
 * tenant in one directory.
 *
 * - **Create** makes the directory if needed and creates an empty file exclusively (an empty
 *   file is a valid SQLite database); an existing file is `{ created: false }`.
 * - **Drop** deletes the database file and its `-wal`, `-shm` and `-journal` side files. The
 *   router closes the tenant's pool first; a connection held elsewhere (another process) keeps
 *   its open file handle, so stop those first.
 *
 * Open tenant databases with better-sqlite3's `fileMustExist: true`: otherwise a request for a
 * tenant that was never provisioned, or was just deprovisioned, silently creates an empty file.
 * Closing a WAL database checkpoints it (an fsync), so on SQLite pool eviction is costlier than
 * it looks: give the router room for every tenant active at once (`maxPools`).
 *
 * @example
 * ```ts
 * const provisioner = sqliteDatabaseProvisioner({ directory: '/var/lib/app/tenants' });
 * const router = createTenantDatabaseRouter({
 *   provisioner,
 *   openDatabase: (tenantId, { databaseName }) => {
 *     const database = new Database(provisioner.filePathOf(databaseName), { fileMustExist: true });
 *     database.pragma('journal_mode = WAL');
 *     return new Kysely({ dialect: new SqliteDialect({ database }) });
 *   },
 *   connectionsPerPool: 1,
 *   maxPools: 200,
 *   maxConnections: 200,
 * });
 * ```
 */
export function sqliteDatabaseProvisioner(options: SqliteDatabaseProvisionerOptions): SqliteDatabaseProvisioner {
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'sqliteDatabaseProvisioner() needs options with a directory');
  }
  const { directory } = options;
  if (typeof directory !== 'string' || !isAbsolute(directory) || directory.includes('\0')) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'sqliteDatabaseProvisioner() needs { directory } to be an absolute path');
  }
  const extension = options.extension ?? '.sqlite';
  if (typeof extension !== 'string' || !EXTENSION_PATTERN.test(extension)) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'extension must be a dot and 1-16 characters of a-z and 0-9');
  }
  // The longest side file name must still fit the file system's 255-byte limit.
  const maxDatabaseNameBytes = FILE_NAME_MAX_BYTES - extension.length - '-journal'.length;

  const filePathOf = (databaseName: string): string => {
    assertTenantDatabaseName(databaseName, maxDatabaseNameBytes);
    return join(directory, `${databaseName}${extension}`);
  };

  const fileExists = async (path: string): Promise<boolean> => {
    try {
      await stat(path);
      return true;
    } catch (error) {
      if (isMissingFile(error)) return false;
      throw error;
    }
  };

  return Object.freeze({
    sqlDialect: 'sqlite' as const,
    maxDatabaseNameBytes,
    directory,
    filePathOf,

    async databaseExists(name: string) {
      const path = filePathOf(name);
      try {
        return await fileExists(path);
      } catch (error) {
        throw provisioningError(error, 'inspect', name);
      }
    },

    async createDatabase(name: string) {
      const path = filePathOf(name);
      try {
        await mkdir(directory, { recursive: true });
        // 'wx' fails when the file exists, so two processes creating it at once agree on who did.
        const handle = await open(path, 'wx');
        await handle.close();
        return { created: true };
      } catch (error) {
        if ((error as { code?: unknown } | null)?.code === 'EEXIST') return { created: false };
        throw provisioningError(error, 'create', name);
      }
    },

    async dropDatabase(name: string) {
      const path = filePathOf(name);
      try {
        const existed = await fileExists(path);
        // Side files first: a crash in between leaves the main file, which a retry removes.
        for (const suffix of SIDE_FILE_SUFFIXES) await rm(`${path}${suffix}`, { force: true });
        await rm(path, { force: true });
        return { dropped: existed };
      } catch (error) {
        throw provisioningError(error, 'drop', name);
      }
    },
  });
}
