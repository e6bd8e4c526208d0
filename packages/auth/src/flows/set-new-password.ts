import { AuthError } from '../errors.js';
import type { AccountRecord } from '../store.js';
import { checkPasswordHistory } from '../passwords/check-password-history.js';
import type { AuthFlowContext } from './auth-flow-context.js';

/**
 * The shared core of reset, change and invitation-with-existing-password: the policy of the
 * tenant (context words from the email), the history of the last `historySize` passwords, then a
 * compare-and-set write that keeps the `historySize - 1` hashes before the new one. Writes nothing on failure.
 *
 * @throws `PASSWORD_POLICY_VIOLATION`, `PASSWORD_REUSED`, `STORE_CONFLICT` (the password changed concurrently), `ACCOUNT_NOT_FOUND`
 * @example
 * ```ts
 * const updated = await setNewPassword(context, account, newPassword, tenantId);
 * ```
 */
export async function setNewPassword(
  context: AuthFlowContext,
  account: AccountRecord,
  password: string,
  tenantId: string | null,
): Promise<AccountRecord> {
  const rules = await context.policy.assert(password, { tenantId, email: account.email });
  if (await checkPasswordHistory(context.hasher, password, account, rules.historySize)) {
    throw new AuthError('PASSWORD_REUSED', `Choose a password you have not used recently (the last ${rules.historySize} are refused)`, {
      details: { historySize: rules.historySize },
    });
  }
  const passwordHash = await context.hasher.hash(password);
  const updated = await context.stores.accounts.setPassword(account.id, {
    passwordHash,
    // The current hash counts as one of the `historySize` (see checkPasswordHistory).
    historyLimit: Math.max(rules.historySize - 1, 0),
    now: context.clock.now(),
    expectedPasswordHash: account.passwordHash,
  });
  if (updated === 'not-found') throw new AuthError('ACCOUNT_NOT_FOUND', 'The account no longer exists');
  if (updated === 'conflict') throw new AuthError('STORE_CONFLICT', 'The password was changed at the same time; try again');
  return updated;
}
