/**
 * What auth tells the rest of the app: security events for audit, and `*-requested` events
 * carrying the link the mailer sends (auth never sends mail itself). Links and tokens in events
 * are secrets: deliver them, never log them.
 *
 * @example
 * ```ts
 * auth.events.on('password-reset-requested', (event) => mailer.send('reset', event.email, { link: event.link }));
 * auth.events.on('refresh-token-reused', (event) => audit.record('security.refresh-reuse', event));
 * ```
 */
export interface AuthEventMap {
  'account-created': { readonly userId: string; readonly email: string; readonly tenantId: string | null };
  'login-succeeded': { readonly userId: string; readonly sessionId: string; readonly tenantId: string | null; readonly ip: string | null };
  /** `userId` is `null` when the email is unknown. */
  'login-failed': { readonly email: string; readonly userId: string | null; readonly ip: string | null; readonly reason: 'credentials' | 'throttled' | 'disabled' };
  'logout': { readonly userId: string; readonly sessionId: string | null };
  'refresh-token-reused': { readonly userId: string; readonly familyId: string; readonly tenantId: string | null; readonly sessionId: string | null };
  'password-changed': { readonly userId: string; readonly via: 'change' | 'reset' };
  'password-reset-requested': { readonly userId: string; readonly email: string; readonly link: string; readonly expiresAt: number };
  'email-verification-requested': { readonly userId: string; readonly email: string; readonly link: string; readonly expiresAt: number };
  'email-verified': { readonly userId: string };
  'invitation-created': { readonly tenantId: string; readonly email: string; readonly invitedBy: string; readonly link: string; readonly expiresAt: number };
  'invitation-accepted': { readonly tenantId: string; readonly userId: string };
  'session-revoked': { readonly userId: string; readonly sessionIds: readonly string[]; readonly reason: string };
  'user-tokens-revoked': { readonly userId: string; readonly reason: string };
  /** `auth.disableUser`: the account is disabled; `user-tokens-revoked` follows. */
  'account-disabled': { readonly userId: string; readonly reason: string };
  /** `auth.enableUser` of a disabled account. */
  'account-enabled': { readonly userId: string };
  'api-key-created': { readonly tenantId: string; readonly keyId: string; readonly createdBy: string };
  'api-key-revoked': { readonly tenantId: string; readonly keyId: string };
}

/**
 * The name of an {@link AuthEventMap} event.
 *
 * @example
 * ```ts
 * const type: AuthEventType = 'login-failed';
 * ```
 */
export type AuthEventType = keyof AuthEventMap;
