import type { SessionDevice, SessionRecord } from '../store.js';

/**
 * A session and the secret the cookie carries. The secret is returned only here, once.
 *
 * @example
 * ```ts
 * const { session, token } = await sessions.create({ userId: 'usr_1', tenantId: 'tnt_acme', amr: ['pwd'] });
 * reply.setCookie('tk_session', token, { httpOnly: true, secure: true, sameSite: 'lax' });
 * ```
 */
export interface IssuedSession {
  readonly session: SessionRecord;
  readonly token: string;
}

/**
 * What a new session records.
 *
 * @example
 * ```ts
 * const input: CreateSessionInput = { userId: 'usr_1', tenantId: null, amr: ['pwd'], device: { userAgent: 'curl/8', ip: '203.0.113.7' } };
 * ```
 */
export interface CreateSessionInput {
  readonly userId: string;
  readonly tenantId: string | null;
  readonly amr: readonly string[];
  readonly device?: Partial<SessionDevice>;
}

/**
 * Server-side sessions: opaque cookie secrets stored hashed, sliding idle expiry under an
 * absolute cap, a new id and secret on every privilege change, tenant switches checked against
 * memberships, revocation that also kills the session's access tokens (by `sid`) everywhere.
 *
 * @example
 * ```ts
 * const sessions = createSessionService({ store: stores.sessions, revocation, memberships });
 * const { session, token } = await sessions.create({ userId: 'usr_1', tenantId: null, amr: ['pwd'] });
 * const switched = await sessions.switchTenant(token, 'tnt_acme'); // new id and secret
 * ```
 */
export interface SessionService {
  /** @throws `VALIDATION_FAILED` */
  create(input: CreateSessionInput): Promise<IssuedSession>;
  /**
   * Looks up the session a cookie secret belongs to and slides its idle expiry (written at most
   * once per `touchIntervalMs`, not on every request).
   * @throws `SESSION_INVALID` (unknown, malformed, expired, revoked)
   */
  validate(token: string): Promise<SessionRecord>;
  /**
   * Replaces the session by one with a new id and secret (privilege change: password change,
   * second factor, role change), optionally with new `amr`; the old id is revoked.
   * @throws `SESSION_INVALID`
   */
  rotate(token: string, changes?: { readonly amr?: readonly string[] }): Promise<IssuedSession>;
  /**
   * Switches the active tenant after checking the user's membership
   * (`memberships.requireActiveMembership`); rotates the session.
   * @throws `SESSION_INVALID`, `MEMBERSHIP_NOT_FOUND`, `MEMBERSHIP_INACTIVE`, `TENANT_SUSPENDED`, `TENANT_NOT_READY`
   */
  switchTenant(token: string, tenantId: string): Promise<IssuedSession>;
  /** The user's live sessions, newest first. */
  list(userId: string): Promise<readonly SessionRecord[]>;
  /**
   * Revokes one session of `userId` (and its tokens by `sid`, until the last of them has
   * expired). @returns whether it existed.
   */
  revoke(userId: string, sessionId: string): Promise<boolean>;
  /** Revokes every session of the user except `exceptId`. @returns the revoked ids. */
  revokeAll(userId: string, options?: { readonly exceptId?: string }): Promise<readonly string[]>;
}
