import type { AccountRecord, ApiKeyRecord, OneTimeTokenRecord, RefreshFamilyRecord, RefreshTokenRecord, SessionRecord } from '@tenantkit/auth';

const dayMs = 86_400_000;
const hourMs = 3_600_000;

/**
 * An account with a password and no flags set; every time defaults to `createdAt`.
 *
 * @example
 * ```ts
 * const account = buildAccountRecord({ id: 'usr_1', email: 'alice@example.com', createdAt: Date.now() });
 * await stores.accounts.create(account);
 * ```
 */
export function buildAccountRecord(overrides: Partial<AccountRecord> & Pick<AccountRecord, 'id' | 'email' | 'createdAt'>): AccountRecord {
  return {
    passwordHash: `$scrypt$ln=15,r=8,p=1$${overrides.id}$initial`,
    passwordHistory: [],
    passwordChangedAt: overrides.createdAt,
    emailVerifiedAt: null,
    disabledAt: null,
    updatedAt: overrides.createdAt,
    ...overrides,
  };
}

/**
 * A live session: idle expiry one day after `createdAt`, absolute expiry thirty days after it.
 *
 * @example
 * ```ts
 * const session = buildSessionRecord({ id: 'ses_1', tokenHash: 'hash-1', userId: 'usr_1', createdAt: Date.now() });
 * await stores.sessions.create(session);
 * ```
 */
export function buildSessionRecord(
  overrides: Partial<SessionRecord> & Pick<SessionRecord, 'id' | 'tokenHash' | 'userId' | 'createdAt'>,
): SessionRecord {
  return {
    tenantId: null,
    amr: ['pwd'],
    device: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0', ip: '203.0.113.7', label: 'Firefox on Linux' },
    lastSeenAt: overrides.createdAt,
    expiresAt: overrides.createdAt + dayMs,
    absoluteExpiresAt: overrides.createdAt + 30 * dayMs,
    ...overrides,
  };
}

/**
 * A live refresh-token family ending thirty days after `createdAt`.
 *
 * @example
 * ```ts
 * const family = buildRefreshFamilyRecord({ id: 'rtf_1', userId: 'usr_1', createdAt: Date.now() });
 * ```
 */
export function buildRefreshFamilyRecord(
  overrides: Partial<RefreshFamilyRecord> & Pick<RefreshFamilyRecord, 'id' | 'userId' | 'createdAt'>,
): RefreshFamilyRecord {
  return {
    tenantId: null,
    sessionId: null,
    expiresAt: overrides.createdAt + 30 * dayMs,
    revokedAt: null,
    revokedReason: null,
    ...overrides,
  };
}

/**
 * A current (not rotated) refresh token of generation 0, expiring fourteen days after `issuedAt`.
 *
 * @example
 * ```ts
 * const first = buildRefreshTokenRecord({ tokenHash: 'hash-0', familyId: 'rtf_1', issuedAt: Date.now() });
 * await stores.refreshTokens.createFamily(family, first);
 * ```
 */
export function buildRefreshTokenRecord(
  overrides: Partial<RefreshTokenRecord> & Pick<RefreshTokenRecord, 'tokenHash' | 'familyId' | 'issuedAt'>,
): RefreshTokenRecord {
  return {
    generation: 0,
    expiresAt: overrides.issuedAt + 14 * dayMs,
    rotatedAt: null,
    successorSealed: null,
    ...overrides,
  };
}

/**
 * A password-reset token for `subject`, expiring one hour after `createdAt`.
 *
 * @example
 * ```ts
 * const token = buildOneTimeTokenRecord({ tokenHash: 'hash-1', subject: 'usr_1', createdAt: Date.now() });
 * await stores.oneTimeTokens.issue(token);
 * ```
 */
export function buildOneTimeTokenRecord(
  overrides: Partial<OneTimeTokenRecord> & Pick<OneTimeTokenRecord, 'tokenHash' | 'subject' | 'createdAt'>,
): OneTimeTokenRecord {
  return {
    purpose: 'password-reset',
    tenantId: null,
    data: {},
    expiresAt: overrides.createdAt + hourMs,
    ...overrides,
  };
}

/**
 * A live API key without expiry, created by a user.
 *
 * @example
 * ```ts
 * const key = buildApiKeyRecord({ id: 'key_1', tenantId: 'tnt_acme', createdAt: Date.now() });
 * await stores.apiKeys.create(key);
 * ```
 */
export function buildApiKeyRecord(overrides: Partial<ApiKeyRecord> & Pick<ApiKeyRecord, 'id' | 'tenantId' | 'createdAt'>): ApiKeyRecord {
  return {
    name: `Key ${overrides.id}`,
    secretHash: `hmac-of-${overrides.id}`,
    hashKeyId: 'v1',
    scopes: ['projects:read'],
    createdBy: 'usr_creator',
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...overrides,
  };
}
