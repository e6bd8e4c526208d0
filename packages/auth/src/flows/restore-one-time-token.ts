import type { OneTimeTokenRecord } from '../store.js';
import type { AuthFlowContext } from './auth-flow-context.js';

/**
 * Runs the rest of a flow after its one-time token was consumed, and puts the token back when
 * that fails (a password the policy refuses, a store error), so the user can try again with the
 * same link instead of requesting a new one. The record goes back unchanged: same hash, same
 * expiry, still single use.
 *
 * Putting it back is an `issue`, which voids any *other* token of the same purpose and subject
 * issued in the milliseconds between; a newer link then stops working, which is the safe side.
 *
 * @example
 * ```ts
 * const record = await context.oneTimeTokens.consume(token, 'password-reset');
 * await restoreOneTimeTokenOnFailure(context, record, () => setNewPassword(record.subject));
 * ```
 */
export async function restoreOneTimeTokenOnFailure<Result>(
  context: AuthFlowContext,
  record: OneTimeTokenRecord,
  work: () => Promise<Result>,
): Promise<Result> {
  try {
    return await work();
  } catch (error) {
    try {
      await context.stores.oneTimeTokens.issue(record);
    } catch {
      // The original failure is what the caller must hear; the link is then spent.
    }
    throw error;
  }
}
