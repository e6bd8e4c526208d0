import type { AuthUser } from '../auth.js';
import type { AccountRecord } from '../store.js';

/**
 * The app-facing view of an account: no password material.
 *
 * @example
 * ```ts
 * const user = toAuthUser(await stores.accounts.findById('usr_1'));
 * ```
 */
export function toAuthUser(account: AccountRecord): AuthUser {
  return {
    id: account.id,
    email: account.email,
    emailVerified: account.emailVerifiedAt !== null,
    disabled: account.disabledAt !== null,
    createdAt: account.createdAt,
  };
}
