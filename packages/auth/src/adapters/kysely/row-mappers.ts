import type { Insertable } from 'kysely';
import type { AccountRecord, ApiKeyRecord, OneTimeTokenRecord, RefreshFamilyRecord, RefreshTokenRecord, SessionRecord } from '../../store.js';
import { readNullableSafeInteger, readNullableText, readSafeInteger, readText, writeJson } from './column-values.js';
import { readJsonObjectColumn, readPurposeColumn, readStringArrayColumn } from './record-schemas.js';
import { noTenantKey, type AuthDatabase, type AuthRow } from './schema.js';

/**
 * An account from its row.
 *
 * @example
 * ```ts
 * const account = accountFromRow(row);
 * ```
 */
export function accountFromRow(row: AuthRow<'auth_accounts'>): AccountRecord {
  return {
    id: readText(row.id, 'id'),
    email: readText(row.email, 'email'),
    passwordHash: readNullableText(row.password_hash, 'password_hash'),
    passwordHistory: readStringArrayColumn(row.password_history, 'password_history'),
    passwordChangedAt: readNullableSafeInteger(row.password_changed_at, 'password_changed_at'),
    emailVerifiedAt: readNullableSafeInteger(row.email_verified_at, 'email_verified_at'),
    disabledAt: readNullableSafeInteger(row.disabled_at, 'disabled_at'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    updatedAt: readSafeInteger(row.updated_at, 'updated_at'),
  };
}

/**
 * The row of an account (validated by the caller first).
 *
 * @example
 * ```ts
 * await db.insertInto(tables.auth_accounts).values(accountToRow(account)).execute();
 * ```
 */
export function accountToRow(account: AccountRecord): Insertable<AuthDatabase['auth_accounts']> {
  return {
    id: account.id,
    email: account.email,
    password_hash: account.passwordHash,
    password_history: writeJson(account.passwordHistory, 'password history'),
    password_changed_at: account.passwordChangedAt,
    email_verified_at: account.emailVerifiedAt,
    disabled_at: account.disabledAt,
    created_at: account.createdAt,
    updated_at: account.updatedAt,
  };
}

/**
 * A session from its row.
 *
 * @example
 * ```ts
 * const session = sessionFromRow(row);
 * ```
 */
export function sessionFromRow(row: AuthRow<'auth_sessions'>): SessionRecord {
  return {
    id: readText(row.id, 'id'),
    tokenHash: readText(row.token_hash, 'token_hash'),
    userId: readText(row.user_id, 'user_id'),
    tenantId: readNullableText(row.tenant_id, 'tenant_id'),
    amr: readStringArrayColumn(row.amr, 'amr'),
    device: {
      userAgent: readNullableText(row.user_agent, 'user_agent'),
      ip: readNullableText(row.ip, 'ip'),
      label: readNullableText(row.device_label, 'device_label'),
    },
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    lastSeenAt: readSafeInteger(row.last_seen_at, 'last_seen_at'),
    expiresAt: readSafeInteger(row.expires_at, 'expires_at'),
    absoluteExpiresAt: readSafeInteger(row.absolute_expires_at, 'absolute_expires_at'),
  };
}

/**
 * The row of a session (validated by the caller first).
 *
 * @example
 * ```ts
 * await db.insertInto(tables.auth_sessions).values(sessionToRow(session)).execute();
 * ```
 */
export function sessionToRow(session: SessionRecord): Insertable<AuthDatabase['auth_sessions']> {
  return {
    id: session.id,
    token_hash: session.tokenHash,
    user_id: session.userId,
    tenant_id: session.tenantId,
    amr: writeJson(session.amr, 'session amr'),
    user_agent: session.device.userAgent,
    ip: session.device.ip,
    device_label: session.device.label,
    created_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
    expires_at: session.expiresAt,
    absolute_expires_at: session.absoluteExpiresAt,
  };
}

/**
 * A refresh-token family from its row.
 *
 * @example
 * ```ts
 * const family = refreshFamilyFromRow(row);
 * ```
 */
export function refreshFamilyFromRow(row: AuthRow<'auth_refresh_families'>): RefreshFamilyRecord {
  return {
    id: readText(row.id, 'id'),
    userId: readText(row.user_id, 'user_id'),
    tenantId: readNullableText(row.tenant_id, 'tenant_id'),
    sessionId: readNullableText(row.session_id, 'session_id'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    expiresAt: readSafeInteger(row.expires_at, 'expires_at'),
    revokedAt: readNullableSafeInteger(row.revoked_at, 'revoked_at'),
    revokedReason: readNullableText(row.revoked_reason, 'revoked_reason'),
  };
}

/**
 * The row of a refresh-token family (validated by the caller first).
 *
 * @example
 * ```ts
 * await trx.insertInto(tables.auth_refresh_families).values(refreshFamilyToRow(family)).execute();
 * ```
 */
export function refreshFamilyToRow(family: RefreshFamilyRecord): Insertable<AuthDatabase['auth_refresh_families']> {
  return {
    id: family.id,
    user_id: family.userId,
    tenant_id: family.tenantId,
    session_id: family.sessionId,
    created_at: family.createdAt,
    expires_at: family.expiresAt,
    revoked_at: family.revokedAt,
    revoked_reason: family.revokedReason,
  };
}

/**
 * A refresh token from its row.
 *
 * @example
 * ```ts
 * const token = refreshTokenFromRow(row);
 * ```
 */
export function refreshTokenFromRow(row: AuthRow<'auth_refresh_tokens'>): RefreshTokenRecord {
  return {
    tokenHash: readText(row.token_hash, 'token_hash'),
    familyId: readText(row.family_id, 'family_id'),
    generation: readSafeInteger(row.generation, 'generation'),
    issuedAt: readSafeInteger(row.issued_at, 'issued_at'),
    expiresAt: readSafeInteger(row.expires_at, 'expires_at'),
    rotatedAt: readNullableSafeInteger(row.rotated_at, 'rotated_at'),
    successorSealed: readNullableText(row.successor_sealed, 'successor_sealed'),
  };
}

/**
 * The row of a refresh token (validated by the caller first).
 *
 * @example
 * ```ts
 * await trx.insertInto(tables.auth_refresh_tokens).values(refreshTokenToRow(token)).execute();
 * ```
 */
export function refreshTokenToRow(token: RefreshTokenRecord): Insertable<AuthDatabase['auth_refresh_tokens']> {
  return {
    token_hash: token.tokenHash,
    family_id: token.familyId,
    generation: token.generation,
    issued_at: token.issuedAt,
    expires_at: token.expiresAt,
    rotated_at: token.rotatedAt,
    successor_sealed: token.successorSealed,
  };
}

/**
 * A one-time token from its row; the no-tenant marker `''` becomes `tenantId: null`.
 *
 * @example
 * ```ts
 * const token = oneTimeTokenFromRow(row);
 * ```
 */
export function oneTimeTokenFromRow(row: AuthRow<'auth_one_time_tokens'>): OneTimeTokenRecord {
  const tenantId = readText(row.tenant_id, 'tenant_id');
  return {
    tokenHash: readText(row.token_hash, 'token_hash'),
    purpose: readPurposeColumn(readText(row.purpose, 'purpose'), 'purpose'),
    subject: readText(row.subject, 'subject'),
    tenantId: tenantId === noTenantKey ? null : tenantId,
    data: readJsonObjectColumn(row.data, 'data'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    expiresAt: readSafeInteger(row.expires_at, 'expires_at'),
  };
}

/**
 * The row of a one-time token (validated by the caller first).
 *
 * @example
 * ```ts
 * await trx.insertInto(tables.auth_one_time_tokens).values(oneTimeTokenToRow(token)).execute();
 * ```
 */
export function oneTimeTokenToRow(token: OneTimeTokenRecord): Insertable<AuthDatabase['auth_one_time_tokens']> {
  return {
    token_hash: token.tokenHash,
    purpose: token.purpose,
    subject: token.subject,
    tenant_id: token.tenantId ?? noTenantKey,
    data: writeJson(token.data, 'one-time token data'),
    created_at: token.createdAt,
    expires_at: token.expiresAt,
  };
}

/**
 * An API key from its row.
 *
 * @example
 * ```ts
 * const key = apiKeyFromRow(row);
 * ```
 */
export function apiKeyFromRow(row: AuthRow<'auth_api_keys'>): ApiKeyRecord {
  return {
    id: readText(row.id, 'id'),
    tenantId: readText(row.tenant_id, 'tenant_id'),
    name: readText(row.name, 'name'),
    secretHash: readText(row.secret_hash, 'secret_hash'),
    hashKeyId: readText(row.hash_key_id, 'hash_key_id'),
    scopes: readStringArrayColumn(row.scopes, 'scopes'),
    createdBy: readNullableText(row.created_by, 'created_by'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    expiresAt: readNullableSafeInteger(row.expires_at, 'expires_at'),
    revokedAt: readNullableSafeInteger(row.revoked_at, 'revoked_at'),
    lastUsedAt: readNullableSafeInteger(row.last_used_at, 'last_used_at'),
  };
}

/**
 * The row of an API key (validated by the caller first).
 *
 * @example
 * ```ts
 * await db.insertInto(tables.auth_api_keys).values(apiKeyToRow(key)).execute();
 * ```
 */
export function apiKeyToRow(key: ApiKeyRecord): Insertable<AuthDatabase['auth_api_keys']> {
  return {
    id: key.id,
    tenant_id: key.tenantId,
    name: key.name,
    secret_hash: key.secretHash,
    hash_key_id: key.hashKeyId,
    scopes: writeJson(key.scopes, 'API key scopes'),
    created_by: key.createdBy,
    created_at: key.createdAt,
    expires_at: key.expiresAt,
    revoked_at: key.revokedAt,
    last_used_at: key.lastUsedAt,
  };
}
