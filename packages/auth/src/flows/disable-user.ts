import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { flowIdSchema } from './flow-input-schemas.js';
import { parseFlowInput } from './parse-flow-input.js';
import { revokeUser } from './revoke-user.js';

const disableInputSchema = z.object({ userId: flowIdSchema, reason: z.string().trim().min(1).max(100) });

/**
 * Disables an account and ends every credential it has: `disabledAt` is set first (so no new
 * sign-in, refresh or invitation acceptance gets through: `ACCOUNT_DISABLED` after a correct
 * password), then {@link revokeUser} revokes access tokens, pending sign-ins and the API keys
 * the user created (user epoch), sessions and refresh families. Emits `account-disabled`, then
 * what `revokeUser` emits. Disabling a disabled account keeps its first `disabledAt` and revokes
 * again.
 *
 * Setting `disabledAt` through `stores.accounts.update` alone revokes nothing: sessions and
 * access tokens would live on until they expire.
 *
 * @throws `VALIDATION_FAILED`, `ACCOUNT_NOT_FOUND`
 * @example
 * ```ts
 * await disableUser(context, 'usr_1', 'offboarded');
 * ```
 */
export async function disableUser(context: AuthFlowContext, userId: string, reason = 'account-disabled'): Promise<void> {
  parseFlowInput(disableInputSchema, { userId, reason }, 'VALIDATION_FAILED', 'disableUser input');
  const account = await context.stores.accounts.findById(userId);
  if (account === null) throw new AuthError('ACCOUNT_NOT_FOUND', 'No such account');
  if (account.disabledAt === null) {
    const now = context.clock.now();
    if ((await context.stores.accounts.update(userId, { disabledAt: now }, now)) === null) {
      throw new AuthError('ACCOUNT_NOT_FOUND', 'No such account');
    }
  }
  context.emit('account-disabled', { userId, reason });
  await revokeUser(context, userId, reason);
}

/**
 * Enables a disabled account again: sign-in works from now on. Nothing revoked by the disable
 * comes back (sessions, tokens and the API keys created before it stay revoked). Emits
 * `account-enabled` when the account was disabled.
 *
 * @throws `VALIDATION_FAILED`, `ACCOUNT_NOT_FOUND`
 * @example
 * ```ts
 * await enableUser(context, 'usr_1');
 * ```
 */
export async function enableUser(context: AuthFlowContext, userId: string): Promise<void> {
  parseFlowInput(flowIdSchema, userId, 'VALIDATION_FAILED', 'user id');
  const account = await context.stores.accounts.findById(userId);
  if (account === null) throw new AuthError('ACCOUNT_NOT_FOUND', 'No such account');
  if (account.disabledAt === null) return;
  const now = context.clock.now();
  if ((await context.stores.accounts.update(userId, { disabledAt: null }, now)) === null) throw new AuthError('ACCOUNT_NOT_FOUND', 'No such account');
  context.emit('account-enabled', { userId });
}
