import { AuthError } from '../errors.js';
import type { AccountRecord } from '../store.js';
import type { PasswordHasher } from './password-hasher.js';

/**
 * Whether `password` is one of the account's last `historySize` passwords, **the current one
 * included**: it is compared with `passwordHash` (when set) and then with the newest entries of
 * `passwordHistory`, `historySize` hashes in all. `historySize: 0` checks nothing (`false`);
 * `historySize: 1` refuses only the current password. Without a current hash (an invited account)
 * the `historySize` newest history entries are compared.
 *
 * To keep exactly that many, change the password with
 * `accounts.setPassword(id, { passwordHash, historyLimit: Math.max(historySize - 1, 0), now })`:
 * the store pushes the old current hash into the history, which then holds the `historySize - 1`
 * passwords before the new current one.
 *
 * Hashes are verified one after another (each is a full scrypt; in parallel they would take
 * `historySize` times the memory at once), stopping at the first match.
 *
 * @returns `true` when the password was used (refuse it with `PASSWORD_REUSED`).
 * @throws `VALIDATION_FAILED` when `historySize` is not a whole number from 0 to 24.
 * @example
 * ```ts
 * const rules = await policy.assert(newPassword, { tenantId, email: account.email });
 * if (await checkPasswordHistory(hasher, newPassword, account, rules.historySize)) {
 *   throw new AuthError('PASSWORD_REUSED', 'Choose a password you have not used recently');
 * }
 * ```
 */
export async function checkPasswordHistory(
  hasher: PasswordHasher,
  password: string,
  account: Pick<AccountRecord, 'passwordHash' | 'passwordHistory'>,
  historySize: number,
): Promise<boolean> {
  if (!Number.isInteger(historySize) || historySize < 0 || historySize > 24) {
    throw new AuthError('VALIDATION_FAILED', 'historySize must be a whole number from 0 to 24', { details: { field: 'historySize' } });
  }
  const candidates = [...(account.passwordHash === null ? [] : [account.passwordHash]), ...account.passwordHistory].slice(0, historySize);
  for (const phc of candidates) {
    if (await hasher.verify(password, phc)) return true;
  }
  return false;
}
