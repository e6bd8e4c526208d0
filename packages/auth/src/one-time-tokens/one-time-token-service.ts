import type { OneTimeTokenPurpose, OneTimeTokenRecord } from '../store.js';

/**
 * A freshly issued one-time token: the secret and the link, shown once (send them, never log).
 *
 * @example
 * ```ts
 * const { token, link, expiresAt } = await oneTimeTokens.issue('password-reset', 'usr_1');
 * ```
 */
export interface IssuedOneTimeToken {
  readonly token: string;
  /** Built from the configured base URL only, never from request headers. */
  readonly link: string;
  readonly expiresAt: number;
  readonly record: OneTimeTokenRecord;
}

/**
 * Reset, verification and invitation tokens: 256-bit, stored hashed, expiring (reset: 1 hour by
 * default), single use (atomic), voided on reissue.
 *
 * @example
 * ```ts
 * const oneTimeTokens = createOneTimeTokenService({ store: stores.oneTimeTokens, links: { baseUrl: 'https://app.example.com' } });
 * const issued = await oneTimeTokens.issue('email-verification', 'usr_1');
 * const record = await oneTimeTokens.consume(issued.token, 'email-verification');
 * ```
 */
export interface OneTimeTokenService {
  /**
   * Issues a token, voiding earlier ones for the same purpose, subject and tenant.
   * @throws `VALIDATION_FAILED`, `CONFIGURATION_INVALID` (no base URL for the tenant)
   */
  issue(
    purpose: OneTimeTokenPurpose,
    subject: string,
    options?: { readonly tenantId?: string | null; readonly data?: Readonly<Record<string, unknown>>; readonly ttlSeconds?: number },
  ): Promise<IssuedOneTimeToken>;
  /** Takes the token for `purpose` (single use). @throws `ONE_TIME_TOKEN_INVALID` */
  consume(token: string, purpose: OneTimeTokenPurpose): Promise<OneTimeTokenRecord>;
  /** Voids every token of `purpose` for `subject`. @returns how many. */
  voidFor(purpose: OneTimeTokenPurpose, subject: string, tenantId?: string | null): Promise<number>;
}
