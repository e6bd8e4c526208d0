import { codedErrorFactory } from '@tenantkit/core';
import {
  createTables,
  dropTables,
  integerColumn as integer,
  keyColumn as key,
  textColumn as text,
  type SqlDialect,
  type TableDefinition,
} from '@tenantkit/core/kysely';
import type { Kysely } from 'kysely';
import { AuthError } from '../../errors.js';
import { authColumnLengths as lengths, authConstraintNames, authTableNames } from './schema.js';

/*
 * The tables as migration 0001 creates them, written once as data and rendered per dialect by
 * `createTables` of @tenantkit/core/kysely (byte-wise keys, `bigint` epoch milliseconds, JSON as
 * text, re-runnable `if not exists` statements):
 * - Ids, hashes and emails compare byte-wise: a token hash or an id differing in case is
 *   another one, and the (already normalized) email is unique exactly as given.
 * - API keys, the one tenant-owned table, have `tenant_id` leading their index; accounts,
 *   sessions, refresh families and revocations belong to users (who belong to many tenants),
 *   one-time tokens to a user or an invited email.
 * - `expires_at` of sessions and `revoked_until` of revocations are indexed for the sweeps
 *   that delete what has expired.
 * - Unique keys carry the atomicity the contract asks for where one statement cannot: the email
 *   of an account, the token hash of a session, one live one-time token per purpose, subject
 *   and tenant.
 */

function tableDefinitions(prefix: string): readonly TableDefinition[] {
  const tables = authTableNames(prefix);
  const names = authConstraintNames(prefix);
  const id = key(lengths.id);
  const tenantId = key(lengths.tenantId);
  const tokenHash = key(lengths.tokenHash);
  return [
    {
      name: tables.auth_accounts,
      columns: [
        { name: 'id', type: id },
        { name: 'email', type: key(lengths.email) },
        { name: 'password_hash', type: text, nullable: true },
        { name: 'password_history', type: text },
        { name: 'password_changed_at', type: integer, nullable: true },
        { name: 'email_verified_at', type: integer, nullable: true },
        { name: 'disabled_at', type: integer, nullable: true },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
      ],
      primaryKey: { name: names.accountsPrimaryKey, columns: ['id'] },
      uniqueKeys: [{ name: names.accountsEmailKey, columns: ['email'] }],
      indexes: [],
    },
    {
      name: tables.auth_sessions,
      columns: [
        { name: 'id', type: id },
        { name: 'token_hash', type: tokenHash },
        { name: 'user_id', type: id },
        { name: 'tenant_id', type: tenantId, nullable: true },
        { name: 'amr', type: text },
        { name: 'user_agent', type: text, nullable: true },
        { name: 'ip', type: text, nullable: true },
        { name: 'device_label', type: text, nullable: true },
        { name: 'created_at', type: integer },
        { name: 'last_seen_at', type: integer },
        { name: 'expires_at', type: integer },
        { name: 'absolute_expires_at', type: integer },
      ],
      primaryKey: { name: names.sessionsPrimaryKey, columns: ['id'] },
      uniqueKeys: [{ name: names.sessionsTokenHashKey, columns: ['token_hash'] }],
      indexes: [
        { name: names.sessionsUserIndex, columns: ['user_id', 'created_at'] },
        { name: names.sessionsExpiryIndex, columns: ['expires_at'] },
      ],
    },
    {
      name: tables.auth_refresh_families,
      columns: [
        { name: 'id', type: id },
        { name: 'user_id', type: id },
        { name: 'tenant_id', type: tenantId, nullable: true },
        { name: 'session_id', type: id, nullable: true },
        { name: 'created_at', type: integer },
        { name: 'expires_at', type: integer },
        { name: 'revoked_at', type: integer, nullable: true },
        { name: 'revoked_reason', type: text, nullable: true },
      ],
      primaryKey: { name: names.familiesPrimaryKey, columns: ['id'] },
      uniqueKeys: [],
      indexes: [{ name: names.familiesUserIndex, columns: ['user_id', 'session_id'] }],
    },
    {
      name: tables.auth_refresh_tokens,
      columns: [
        { name: 'token_hash', type: tokenHash },
        { name: 'family_id', type: id },
        { name: 'generation', type: integer },
        { name: 'issued_at', type: integer },
        { name: 'expires_at', type: integer },
        { name: 'rotated_at', type: integer, nullable: true },
        { name: 'successor_sealed', type: text, nullable: true },
      ],
      primaryKey: { name: names.refreshTokensPrimaryKey, columns: ['token_hash'] },
      uniqueKeys: [],
      indexes: [{ name: names.refreshTokensFamilyIndex, columns: ['family_id', 'generation'] }],
    },
    {
      name: tables.auth_revocations,
      columns: [
        { name: 'kind', type: key(lengths.kind) },
        { name: 'subject_id', type: id },
        { name: 'revoked_until', type: integer },
      ],
      primaryKey: { name: names.revocationsPrimaryKey, columns: ['kind', 'subject_id'] },
      uniqueKeys: [],
      indexes: [{ name: names.revocationsUntilIndex, columns: ['revoked_until'] }],
    },
    {
      name: tables.auth_revocation_epochs,
      columns: [
        { name: 'kind', type: key(lengths.kind) },
        { name: 'subject_id', type: id },
        { name: 'epoch', type: integer },
      ],
      primaryKey: { name: names.epochsPrimaryKey, columns: ['kind', 'subject_id'] },
      uniqueKeys: [],
      indexes: [],
    },
    {
      name: tables.auth_one_time_tokens,
      columns: [
        { name: 'token_hash', type: tokenHash },
        { name: 'purpose', type: key(lengths.purpose) },
        { name: 'subject', type: key(lengths.email) },
        { name: 'tenant_id', type: tenantId },
        { name: 'data', type: text },
        { name: 'created_at', type: integer },
        { name: 'expires_at', type: integer },
      ],
      primaryKey: { name: names.oneTimeTokensPrimaryKey, columns: ['token_hash'] },
      uniqueKeys: [{ name: names.oneTimeTokensSubjectKey, columns: ['purpose', 'subject', 'tenant_id'] }],
      indexes: [],
    },
    {
      name: tables.auth_api_keys,
      columns: [
        { name: 'id', type: id },
        { name: 'tenant_id', type: tenantId },
        { name: 'name', type: text },
        { name: 'secret_hash', type: text },
        { name: 'hash_key_id', type: key(lengths.hashKeyId) },
        { name: 'scopes', type: text },
        { name: 'created_by', type: id, nullable: true },
        { name: 'created_at', type: integer },
        { name: 'expires_at', type: integer, nullable: true },
        { name: 'revoked_at', type: integer, nullable: true },
        { name: 'last_used_at', type: integer, nullable: true },
      ],
      primaryKey: { name: names.apiKeysPrimaryKey, columns: ['id'] },
      uniqueKeys: [],
      indexes: [{ name: names.apiKeysTenantIndex, columns: ['tenant_id', 'created_at'] }],
    },
  ];
}

/**
 * Creates every auth table and index that does not exist yet.
 *
 * @throws AuthError `CONFIGURATION_INVALID` on a MySQL server without a NO PAD binary
 *   collation, or on SQLite older than 3.35.0 (RETURNING).
 *
 * @example
 * ```ts
 * await createAuthTables(db, 'postgres', 'tenantkit_');
 * ```
 */
export async function createAuthTables(db: Kysely<any>, dialect: SqlDialect, prefix: string): Promise<void> {
  await createTables(db, dialect, tableDefinitions(prefix), {
    errors: codedErrorFactory(AuthError),
    subject: 'auth',
    requireSqliteReturning: true,
  });
}

/**
 * Drops every auth table (and with them their indexes and data).
 *
 * @example
 * ```ts
 * await dropAuthTables(db, 'tenantkit_');
 * ```
 */
export async function dropAuthTables(db: Kysely<any>, prefix: string): Promise<void> {
  await dropTables(db, tableDefinitions(prefix));
}
