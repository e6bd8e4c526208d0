import { createId } from '@tenantkit/core';
import { AuthError } from '../errors.js';
import type { AccountRecord } from '../store.js';
import type { AuthFlowContext } from './auth-flow-context.js';

/**
 * Inserts a new account record (a fresh id on the unlikely id collision).
 * @throws `ACCOUNT_ALREADY_EXISTS`, `STORE_CONFLICT`
 * @example
 * ```ts
 * const account = await createAccount(context, { email, passwordHash, emailVerifiedAt: null, now });
 * ```
 */
export async function createAccount(
  context: AuthFlowContext,
  fields: { readonly email: string; readonly passwordHash: string | null; readonly emailVerifiedAt: number | null; readonly now: number },
): Promise<AccountRecord> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const account: AccountRecord = {
      id: createId('usr'),
      email: fields.email,
      passwordHash: fields.passwordHash,
      passwordHistory: [],
      passwordChangedAt: fields.passwordHash === null ? null : fields.now,
      emailVerifiedAt: fields.emailVerifiedAt,
      disabledAt: null,
      createdAt: fields.now,
      updatedAt: fields.now,
    };
    const outcome = await context.stores.accounts.create(account);
    if (outcome === 'created') return account;
    if (outcome === 'email-taken') throw new AuthError('ACCOUNT_ALREADY_EXISTS', 'An account with this email already exists');
  }
  throw new AuthError('STORE_CONFLICT', 'Could not find a free account id');
}
