import { AuthError } from '../../errors.js';
import type { OneTimeTokenPurpose, OneTimeTokenRecord, OneTimeTokenStore } from '../../store.js';

function assertString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new AuthError('VALIDATION_FAILED', `The ${field} must be a string`, { details: { field } });
  }
}

function copyOf(token: OneTimeTokenRecord): OneTimeTokenRecord {
  return { ...token, data: structuredClone(token.data) };
}

/** The key of the tokens one issue voids: purpose, subject and tenant (JSON keeps the parts apart whatever they contain). */
function ownerKey(purpose: OneTimeTokenPurpose, subject: string, tenantId: string | null): string {
  return JSON.stringify([purpose, subject, tenantId]);
}

/**
 * The reference {@link OneTimeTokenStore}: one process, in memory. `issue` voids the earlier
 * tokens of the same purpose, subject and tenant in the same synchronous step; `consume` takes a
 * token at most once, however many calls race for it. An expired token is deleted when it is
 * presented, voided or reissued, and every subject keeps at most one token per purpose and
 * tenant, so the store stays bounded by its subjects.
 *
 * @example
 * ```ts
 * const oneTimeTokens = memoryOneTimeTokenStore();
 * await oneTimeTokens.issue({ tokenHash, purpose: 'password-reset', subject: 'usr_1', tenantId: null, data: {}, createdAt: now, expiresAt: now + 3_600_000 });
 * await oneTimeTokens.consume(tokenHash, 'password-reset', now); // the record, then null
 * ```
 */
export function memoryOneTimeTokenStore(): OneTimeTokenStore {
  const byHash = new Map<string, OneTimeTokenRecord>();
  const hashesByOwner = new Map<string, Set<string>>();

  function remove(token: OneTimeTokenRecord): void {
    byHash.delete(token.tokenHash);
    const key = ownerKey(token.purpose, token.subject, token.tenantId);
    const hashes = hashesByOwner.get(key);
    hashes?.delete(token.tokenHash);
    if (hashes?.size === 0) hashesByOwner.delete(key);
  }

  function removeOwned(key: string): number {
    const hashes = hashesByOwner.get(key);
    if (hashes === undefined) return 0;
    let removed = 0;
    for (const hash of [...hashes]) {
      const token = byHash.get(hash);
      if (token !== undefined) {
        remove(token);
        removed += 1;
      }
    }
    hashesByOwner.delete(key);
    return removed;
  }

  return {
    async issue(token) {
      assertString(token.tokenHash, 'tokenHash');
      assertString(token.purpose, 'purpose');
      assertString(token.subject, 'subject');
      if (token.tenantId !== null) assertString(token.tenantId, 'tenantId');
      const copy = copyOf(token);
      const key = ownerKey(copy.purpose, copy.subject, copy.tenantId);
      const voided = removeOwned(key);
      // A hash already stored under another owner is replaced, never shared.
      const existing = byHash.get(copy.tokenHash);
      if (existing !== undefined) remove(existing);
      byHash.set(copy.tokenHash, copy);
      hashesByOwner.set(key, new Set([copy.tokenHash]));
      return voided;
    },

    async consume(tokenHash, purpose, now) {
      assertString(tokenHash, 'tokenHash');
      assertString(purpose, 'purpose');
      const token = byHash.get(tokenHash);
      if (token === undefined) return null;
      if (token.expiresAt <= now) {
        remove(token);
        return null;
      }
      if (token.purpose !== purpose) return null;
      remove(token);
      return copyOf(token);
    },

    async voidFor(purpose, subject, tenantId) {
      assertString(purpose, 'purpose');
      assertString(subject, 'subject');
      if (tenantId !== undefined) return removeOwned(ownerKey(purpose, subject, tenantId));
      let removed = 0;
      for (const token of [...byHash.values()]) {
        if (token.purpose === purpose && token.subject === subject) {
          remove(token);
          removed += 1;
        }
      }
      return removed;
    },
  };
}
