import type { RevocationEvent } from '../store.js';

/**
 * What a revocation check looks at. `issuedAtMs` has millisecond precision (access tokens carry
 * it in the private `iat_ms` claim next to the standard whole-second `iat`), so a token issued
 * right after `revokeUser()` in the same second is not caught by the epoch.
 *
 * @example
 * ```ts
 * const subject: RevocationSubject = { jti: 'jti_1', sid: 'ses_1', sub: 'usr_1', tid: 'tnt_acme', issuedAtMs: 1767225600123 };
 * ```
 */
export interface RevocationSubject {
  readonly jti: string;
  readonly sid: string | null;
  readonly sub: string;
  readonly tid: string | null;
  readonly issuedAtMs: number;
}

/**
 * Revocation by jti (until exp), by session, and by per-user and per-tenant epochs that revoke
 * everything issued before them. Revoking writes the store, then publishes a
 * {@link RevocationEvent}; every process applies the event to its in-memory view at once, and
 * re-reads the store for any subject it has not checked within `maxStalenessMs` (the backstop for a
 * lost message).
 *
 * @example
 * ```ts
 * const revocation = createRevocationService({ store: stores.revocations, channel });
 * await revocation.revokeUser('usr_1'); // every token of usr_1 issued until now fails, in every process
 * ```
 */
export interface RevocationService {
  revokeToken(jti: string, untilMs: number): Promise<void>;
  revokeSession(sessionId: string, untilMs: number): Promise<void>;
  /** Raises the user's epoch to now + 1 ms: every token issued to them at or before now is revoked. */
  revokeUser(userId: string): Promise<void>;
  /** Raises the tenant's epoch to now + 1 ms: every token of the tenant issued at or before now is revoked. */
  revokeTenant(tenantId: string): Promise<void>;
  /** Publishes an event that is not itself a store write (API key revoked, signing key retired). */
  announce(event: RevocationEvent): Promise<void>;
  /**
   * Whether the subject is revoked. Answers synchronously from memory when the view is fresh
   * for it (the hot path), otherwise with one store round trip.
   * @throws `STORE_UNAVAILABLE` when it must ask the store and the store fails (fail closed).
   */
  isRevoked(subject: RevocationSubject): boolean | Promise<boolean>;
  /** Listens to every event this process receives. @returns unsubscribe. */
  onEvent(listener: (event: RevocationEvent) => void): () => void;
  close(): Promise<void>;
}
