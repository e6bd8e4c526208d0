import type { ColumnType, Selectable } from 'kysely';

/*
 * Integer columns are spelled out as `ColumnType<number | string | bigint, number, number>`
 * (rather than through an alias the docs would not show): `pg` returns `bigint` columns as
 * strings, mysql2 and PGlite as numbers, safe-integer modes as `bigint`. The stores convert
 * every one through `readSafeInteger`, never using it raw. Every time is epoch milliseconds.
 */

/**
 * Accounts, keyed by `id`, with a unique key on the normalized `email`. `password_history` is a
 * JSON array of PHC strings, newest first (it only ever changes together with
 * `password_hash`, under the same row lock).
 *
 * @example
 * ```ts
 * const column: keyof AuthAccountsTable = 'password_history';
 * ```
 */
export interface AuthAccountsTable {
  id: string;
  email: string;
  password_hash: string | null;
  password_history: string;
  password_changed_at: ColumnType<number | string | bigint | null, number | null, number | null>;
  email_verified_at: ColumnType<number | string | bigint | null, number | null, number | null>;
  disabled_at: ColumnType<number | string | bigint | null, number | null, number | null>;
  created_at: ColumnType<number | string | bigint, number, number>;
  updated_at: ColumnType<number | string | bigint, number, number>;
}

/**
 * Sessions, keyed by the public `id`, with a unique key on `token_hash` (the cookie secret's
 * hash) and an index on `(user_id, created_at)` for "your sessions". `amr` is a JSON array.
 *
 * @example
 * ```ts
 * const column: keyof AuthSessionsTable = 'absolute_expires_at';
 * ```
 */
export interface AuthSessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  tenant_id: string | null;
  amr: string;
  user_agent: string | null;
  ip: string | null;
  device_label: string | null;
  created_at: ColumnType<number | string | bigint, number, number>;
  last_seen_at: ColumnType<number | string | bigint, number, number>;
  expires_at: ColumnType<number | string | bigint, number, number>;
  absolute_expires_at: ColumnType<number | string | bigint, number, number>;
}

/**
 * Refresh-token families, keyed by `id`, indexed by `(user_id, session_id)`.
 *
 * @example
 * ```ts
 * const column: keyof AuthRefreshFamiliesTable = 'revoked_reason';
 * ```
 */
export interface AuthRefreshFamiliesTable {
  id: string;
  user_id: string;
  tenant_id: string | null;
  session_id: string | null;
  created_at: ColumnType<number | string | bigint, number, number>;
  expires_at: ColumnType<number | string | bigint, number, number>;
  revoked_at: ColumnType<number | string | bigint | null, number | null, number | null>;
  revoked_reason: string | null;
}

/**
 * Refresh tokens, keyed by `token_hash`, indexed by `(family_id, generation)`.
 * `successor_sealed` is opaque text the refresh service sealed.
 *
 * @example
 * ```ts
 * const column: keyof AuthRefreshTokensTable = 'rotated_at';
 * ```
 */
export interface AuthRefreshTokensTable {
  token_hash: string;
  family_id: string;
  generation: ColumnType<number | string | bigint, number, number>;
  issued_at: ColumnType<number | string | bigint, number, number>;
  expires_at: ColumnType<number | string | bigint, number, number>;
  rotated_at: ColumnType<number | string | bigint | null, number | null, number | null>;
  successor_sealed: string | null;
}

/**
 * Revoked access tokens (`kind` `'jti'`) and sessions (`kind` `'session'`), keyed by
 * `(kind, subject_id)`, each revoked until `revoked_until` (the credential's own end, after
 * which the entry means nothing).
 *
 * @example
 * ```ts
 * const column: keyof AuthRevocationsTable = 'revoked_until';
 * ```
 */
export interface AuthRevocationsTable {
  kind: string;
  subject_id: string;
  revoked_until: ColumnType<number | string | bigint, number, number>;
}

/**
 * Revocation epochs of users (`kind` `'user'`) and tenants (`kind` `'tenant'`), keyed by
 * `(kind, subject_id)`; `epoch` only moves forward.
 *
 * @example
 * ```ts
 * const column: keyof AuthRevocationEpochsTable = 'epoch';
 * ```
 */
export interface AuthRevocationEpochsTable {
  kind: string;
  subject_id: string;
  epoch: ColumnType<number | string | bigint, number, number>;
}

/**
 * One-time tokens (reset, verification, invitation), keyed by `token_hash`, with a unique key
 * on `(purpose, subject, tenant_id)`: a reissue replaces the earlier token, so at most one is
 * live per purpose, subject and tenant. `tenant_id` is {@link noTenantKey} (the empty string)
 * for a token of no tenant, so that the unique key holds for those too. `data` is JSON.
 *
 * @example
 * ```ts
 * const column: keyof AuthOneTimeTokensTable = 'purpose';
 * ```
 */
export interface AuthOneTimeTokensTable {
  token_hash: string;
  purpose: string;
  subject: string;
  tenant_id: string;
  data: string;
  created_at: ColumnType<number | string | bigint, number, number>;
  expires_at: ColumnType<number | string | bigint, number, number>;
}

/**
 * Tenant-owned API keys, keyed by `id` (the presented key carries it, without its tenant),
 * indexed by `(tenant_id, created_at)`. `scopes` is a JSON array; `secret_hash` a keyed hash.
 *
 * @example
 * ```ts
 * const column: keyof AuthApiKeysTable = 'last_used_at';
 * ```
 */
export interface AuthApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  secret_hash: string;
  hash_key_id: string;
  scopes: string;
  created_by: string | null;
  created_at: ColumnType<number | string | bigint, number, number>;
  expires_at: ColumnType<number | string | bigint | null, number | null, number | null>;
  revoked_at: ColumnType<number | string | bigint | null, number | null, number | null>;
  last_used_at: ColumnType<number | string | bigint | null, number | null, number | null>;
}

/**
 * The Kysely database type of the auth tables, by unprefixed name. Use it to query the tables
 * yourself (reporting, admin tools); the real names carry the table prefix.
 *
 * @example
 * ```ts
 * import type { AuthDatabase } from '@tenantkit/auth/kysely';
 *
 * const reporting = db as unknown as Kysely<AuthDatabase>;
 * ```
 */
export interface AuthDatabase {
  auth_accounts: AuthAccountsTable;
  auth_sessions: AuthSessionsTable;
  auth_refresh_families: AuthRefreshFamiliesTable;
  auth_refresh_tokens: AuthRefreshTokensTable;
  auth_revocations: AuthRevocationsTable;
  auth_revocation_epochs: AuthRevocationEpochsTable;
  auth_one_time_tokens: AuthOneTimeTokensTable;
  auth_api_keys: AuthApiKeysTable;
}

/**
 * A row of an auth table as selected.
 *
 * @example
 * ```ts
 * const row: AuthRow<'auth_revocation_epochs'> = { kind: 'user', subject_id: 'usr_1', epoch: '1767225600000' };
 * ```
 */
export type AuthRow<Table extends keyof AuthDatabase> = Selectable<AuthDatabase[Table]>;

/**
 * The real (prefixed) name of each table, typed as its unprefixed key so queries against
 * `Kysely<AuthDatabase>` keep their column types while naming the real table.
 *
 * @example
 * ```ts
 * authTableNames('app_').auth_accounts; // 'app_auth_accounts'
 * ```
 */
export type AuthTableNames = { readonly [Table in keyof AuthDatabase]: Table };

/**
 * The table prefix used when none is given (the same as the other tenantkit packages', so all
 * tenantkit tables sort together: `tenantkit_auth_accounts`, ...).
 *
 * @example
 * ```ts
 * defaultAuthTablePrefix; // 'tenantkit_'
 * ```
 */
export const defaultAuthTablePrefix = 'tenantkit_';

/**
 * What `tenant_id` of a one-time token holds for `tenantId: null`: the empty string, which is
 * no tenant id (the stores refuse `''` as one with `VALIDATION_FAILED`). A reserved value
 * rather than `NULL` lets the unique key `(purpose, subject, tenant_id)` hold for tokens of no
 * tenant (unique keys never make two `NULL`s collide).
 *
 * @example
 * ```ts
 * const column = token.tenantId ?? noTenantKey;
 * ```
 */
export const noTenantKey = '';

/**
 * The real table names for a prefix.
 *
 * @example
 * ```ts
 * authTableNames('tenantkit_').auth_sessions; // 'tenantkit_auth_sessions'
 * ```
 */
export function authTableNames(prefix: string): AuthTableNames {
  // The one place a real name is typed as its unprefixed key; see AuthTableNames.
  return Object.freeze({
    auth_accounts: `${prefix}auth_accounts` as 'auth_accounts',
    auth_sessions: `${prefix}auth_sessions` as 'auth_sessions',
    auth_refresh_families: `${prefix}auth_refresh_families` as 'auth_refresh_families',
    auth_refresh_tokens: `${prefix}auth_refresh_tokens` as 'auth_refresh_tokens',
    auth_revocations: `${prefix}auth_revocations` as 'auth_revocations',
    auth_revocation_epochs: `${prefix}auth_revocation_epochs` as 'auth_revocation_epochs',
    auth_one_time_tokens: `${prefix}auth_one_time_tokens` as 'auth_one_time_tokens',
    auth_api_keys: `${prefix}auth_api_keys` as 'auth_api_keys',
  });
}

/**
 * Constraint and index names. They carry the prefix because Postgres and SQLite index names
 * share one namespace per schema; suffixes are short enough that a 31-character prefix still
 * fits Postgres' 63-character identifier limit. The account email key's name is what tells a
 * taken email from a taken id when an insert violates a unique key.
 *
 * @example
 * ```ts
 * authConstraintNames('tenantkit_').accountsEmailKey; // 'tenantkit_auth_accounts_email_key'
 * ```
 */
export function authConstraintNames(prefix: string) {
  return Object.freeze({
    accountsPrimaryKey: `${prefix}auth_accounts_pkey`,
    accountsEmailKey: `${prefix}auth_accounts_email_key`,
    sessionsPrimaryKey: `${prefix}auth_sessions_pkey`,
    sessionsTokenHashKey: `${prefix}auth_sessions_token_key`,
    sessionsUserIndex: `${prefix}auth_sessions_user_idx`,
    sessionsExpiryIndex: `${prefix}auth_sessions_expiry_idx`,
    familiesPrimaryKey: `${prefix}auth_rtf_pkey`,
    familiesUserIndex: `${prefix}auth_rtf_user_idx`,
    refreshTokensPrimaryKey: `${prefix}auth_rt_pkey`,
    refreshTokensFamilyIndex: `${prefix}auth_rt_family_idx`,
    revocationsPrimaryKey: `${prefix}auth_revocations_pkey`,
    revocationsUntilIndex: `${prefix}auth_revocations_until_idx`,
    epochsPrimaryKey: `${prefix}auth_epochs_pkey`,
    oneTimeTokensPrimaryKey: `${prefix}auth_ott_pkey`,
    oneTimeTokensSubjectKey: `${prefix}auth_ott_subject_key`,
    apiKeysPrimaryKey: `${prefix}auth_api_keys_pkey`,
    apiKeysTenantIndex: `${prefix}auth_api_keys_tenant_idx`,
  });
}

/**
 * The migration bookkeeping tables of `migrateAuthSchema`, apart from the application's own
 * and from the other tenantkit packages'.
 *
 * @example
 * ```ts
 * authMigrationTableNames('tenantkit_').migrationTable; // 'tenantkit_auth_migrations'
 * ```
 */
export function authMigrationTableNames(prefix: string): { migrationTable: string; migrationLockTable: string } {
  return { migrationTable: `${prefix}auth_migrations`, migrationLockTable: `${prefix}auth_migrations_lock` };
}

/**
 * The longest value each bounded column holds, in characters. The stores reject longer values
 * with `VALIDATION_FAILED` before they reach the database, because a MySQL server without
 * strict mode would otherwise truncate them silently, which could merge two keys. Free text
 * (password hashes, names, user agents, sealed successors, JSON) is unbounded.
 *
 * @example
 * ```ts
 * authColumnLengths.email; // 320
 * ```
 */
export const authColumnLengths = Object.freeze({
  id: 128,
  tenantId: 64,
  email: 320,
  tokenHash: 128,
  hashKeyId: 64,
  purpose: 32,
  kind: 16,
});
