import { TenantContextError } from '../../errors.js';
import { assertTenantId } from '../../identifiers.js';

/**
 * What a tenant database may be called: lower-case ASCII letters, digits and `_`, starting with
 * a letter or `_`. Lower case because MySQL/MariaDB with `lower_case_table_names` set, and SQLite
 * files on case-insensitive file systems (macOS, Windows), would fold `Acme` and `acme` into one
 * database; and no character that needs more than plain quoting on any engine.
 */
const DATABASE_NAME_PATTERN = /^[a-z_][a-z0-9_]*$/;
const PREFIX_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;

/**
 * Options of {@link tenantDatabaseName}.
 *
 * @example
 * ```ts
 * const options: TenantDatabaseNameOptions = { prefix: 'acme_tenant_', maxBytes: 63 };
 * ```
 */
export interface TenantDatabaseNameOptions {
  /**
   * Put before every encoded tenant id, so tenant databases are recognisable and never collide
   * with the application's own: 1-32 characters of `a-z 0-9 _`, starting with a letter.
   * Default `'tenant_'`.
   */
  prefix?: string;
  /**
   * The longest name the engine keeps intact: PostgreSQL truncates identifiers past 63 bytes
   * (silently, so two long names could meet), MySQL/MariaDB refuse database names past 64.
   * Default 63, which is safe on both.
   */
  maxBytes?: number;
}

/**
 * The default prefix of tenant database names.
 *
 * @example
 * ```ts
 * tenantDatabaseName('acme').startsWith(defaultTenantDatabasePrefix); // true
 * ```
 */
export const defaultTenantDatabasePrefix = 'tenant_';

/**
 * Throws `CONFIGURATION_INVALID` unless `prefix` can start tenant database names.
 *
 * @example
 * ```ts
 * assertTenantDatabasePrefix('acme_tenant_');
 * ```
 */
export function assertTenantDatabasePrefix(prefix: unknown): asserts prefix is string {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      'A tenant database prefix must be 1-32 characters of a-z, 0-9 and "_", starting with a letter',
    );
  }
}

/**
 * Throws `CONFIGURATION_INVALID` unless `name` is a usable tenant database name of at most
 * `maxBytes` bytes: lower-case `a-z 0-9 _`, starting with a letter or `_`.
 *
 * @example
 * ```ts
 * assertTenantDatabaseName(customName(tenantId), 63);
 * ```
 */
export function assertTenantDatabaseName(name: unknown, maxBytes: number): asserts name is string {
  if (typeof name !== 'string' || !DATABASE_NAME_PATTERN.test(name)) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      'A tenant database name must be lower-case a-z, 0-9 and "_", starting with a letter or "_"',
    );
  }
  // ASCII only (the pattern), so characters are bytes.
  if (name.length > maxBytes) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `The tenant database name "${name}" is ${name.length} bytes; this engine keeps at most ${maxBytes}`,
      { details: { maxBytes, length: name.length } },
    );
  }
}

/**
 * The database name of a tenant: `prefix` followed by the tenant id, encoded so that the
 * mapping is deterministic and **injective** (two tenant ids never share a database) while the
 * name stays lower-case: `a-z` and `0-9` stand for themselves, `_` becomes `__`, `-` becomes
 * `_0` and an upper-case letter becomes `_` and its lower-case form (`Acme-1` → `_acme_01`).
 * Every escape is two characters starting with `_`, so a name decodes in exactly one way.
 *
 * Typical ids fit easily: a UUID with its hyphens takes 40 characters, `tnt_` plus a 26-character
 * lower-case ULID takes 31. A name longer than `maxBytes` is refused rather than truncated or
 * hashed, because a truncated name is no longer injective.
 *
 * @throws `TENANT_IDENTIFIER_INVALID` for an invalid tenant id; `CONFIGURATION_INVALID` for a bad
 *   prefix, or when the name would exceed `maxBytes` (pass a shorter prefix, or a custom
 *   `databaseName` to the router).
 *
 * @example
 * ```ts
 * tenantDatabaseName('acme');                    // 'tenant_acme'
 * tenantDatabaseName('Acme-1');                  // 'tenant__acme_01'
 * tenantDatabaseName('tnt_42', { prefix: 'db_' }); // 'db_tnt__42'
 * ```
 */
export function tenantDatabaseName(tenantId: string, options: TenantDatabaseNameOptions = {}): string {
  assertTenantId(tenantId);
  const prefix = options.prefix ?? defaultTenantDatabasePrefix;
  assertTenantDatabasePrefix(prefix);
  const maxBytes = options.maxBytes ?? 63;
  assertMaxBytes(maxBytes);
  let encoded = prefix;
  for (const character of tenantId) {
    if (character === '_') encoded += '__';
    else if (character === '-') encoded += '_0';
    else if (character >= 'A' && character <= 'Z') encoded += `_${character.toLowerCase()}`;
    else encoded += character;
  }
  assertTenantDatabaseName(encoded, maxBytes);
  return encoded;
}

/**
 * Throws `CONFIGURATION_INVALID` unless `value` is a usable name length limit (1-255 bytes).
 *
 * @example
 * ```ts
 * assertMaxBytes(63);
 * ```
 */
export function assertMaxBytes(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 255) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'maxBytes must be an integer from 1 to 255');
  }
}
