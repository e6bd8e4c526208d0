import { AuthError } from '../../errors.js';
import type { AccountRecord, AccountStore } from '../../store.js';

function assertString(value: unknown, field: string): asserts value is string {
  // Types say as much; the check is for untyped callers, where `{ $ne: null }` in place of an id
  // would be a match-anything query in a document store. The memory store fails the same way.
  if (typeof value !== 'string') {
    throw new AuthError('VALIDATION_FAILED', `The ${field} must be a string`, { details: { field } });
  }
}

function assertTime(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AuthError('VALIDATION_FAILED', `The ${field} must be a finite number of epoch milliseconds`, { details: { field } });
  }
}

function copyOf(account: AccountRecord): AccountRecord {
  return { ...account, passwordHistory: [...account.passwordHistory] };
}

/**
 * The reference {@link AccountStore}: one process, in memory, for tests and single-process
 * development. Every method is atomic (it runs to completion without yielding), e-mail
 * uniqueness and the password compare-and-sets included, and records go in and come out as
 * copies.
 *
 * @example
 * ```ts
 * const accounts = memoryAccountStore();
 * await accounts.create({ id: 'usr_1', email: 'alice@example.com', passwordHash: null, passwordHistory: [],
 *   passwordChangedAt: null, emailVerifiedAt: null, disabledAt: null, createdAt: 0, updatedAt: 0 }); // 'created'
 * await accounts.setPassword('usr_1', { passwordHash: phc, historyLimit: 4, now: Date.now(), expectedPasswordHash: null });
 * ```
 */
export function memoryAccountStore(): AccountStore {
  const byId = new Map<string, AccountRecord>();
  const idByEmail = new Map<string, string>();

  return {
    async create(account) {
      assertString(account.id, 'id');
      assertString(account.email, 'email');
      if (byId.has(account.id)) return 'id-taken';
      if (idByEmail.has(account.email)) return 'email-taken';
      byId.set(account.id, copyOf(account));
      idByEmail.set(account.email, account.id);
      return 'created';
    },

    async findById(id) {
      assertString(id, 'id');
      const account = byId.get(id);
      return account === undefined ? null : copyOf(account);
    },

    async findByEmail(email) {
      assertString(email, 'email');
      const id = idByEmail.get(email);
      const account = id === undefined ? undefined : byId.get(id);
      return account === undefined ? null : copyOf(account);
    },

    async setPassword(id, change) {
      assertString(id, 'id');
      assertString(change.passwordHash, 'passwordHash');
      assertTime(change.now, 'now');
      if (!Number.isSafeInteger(change.historyLimit) || change.historyLimit < 0) {
        throw new AuthError('VALIDATION_FAILED', 'The historyLimit must be a whole number >= 0', { details: { field: 'historyLimit' } });
      }
      const account = byId.get(id);
      if (account === undefined) return 'not-found';
      if (change.expectedPasswordHash !== undefined && account.passwordHash !== change.expectedPasswordHash) return 'conflict';
      const history = account.passwordHash === null ? account.passwordHistory : [account.passwordHash, ...account.passwordHistory];
      const updated: AccountRecord = {
        ...account,
        passwordHash: change.passwordHash,
        passwordHistory: history.slice(0, change.historyLimit),
        passwordChangedAt: change.now,
        updatedAt: change.now,
      };
      byId.set(id, updated);
      return copyOf(updated);
    },

    async rehashPassword(id, expectedPasswordHash, passwordHash, now) {
      assertString(id, 'id');
      assertString(expectedPasswordHash, 'expectedPasswordHash');
      assertString(passwordHash, 'passwordHash');
      assertTime(now, 'now');
      const account = byId.get(id);
      if (account === undefined || account.passwordHash !== expectedPasswordHash) return false;
      byId.set(id, { ...account, passwordHash, updatedAt: now });
      return true;
    },

    async update(id, patch, now) {
      assertString(id, 'id');
      assertTime(now, 'now');
      const account = byId.get(id);
      if (account === undefined) return null;
      const updated: AccountRecord = {
        ...account,
        ...(patch.emailVerifiedAt === undefined ? {} : { emailVerifiedAt: patch.emailVerifiedAt }),
        ...(patch.disabledAt === undefined ? {} : { disabledAt: patch.disabledAt }),
        updatedAt: now,
      };
      byId.set(id, updated);
      return copyOf(updated);
    },

    async delete(id) {
      assertString(id, 'id');
      const account = byId.get(id);
      if (account === undefined) return false;
      byId.delete(id);
      if (idByEmail.get(account.email) === id) idByEmail.delete(account.email);
      return true;
    },
  };
}
