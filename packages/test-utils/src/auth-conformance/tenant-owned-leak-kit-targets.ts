import { randomBytes } from 'node:crypto';
import type { ApiKeyRecord, ApiKeyStore, OneTimeTokenStore } from '@tenantkit/auth';
import { requireTenantId } from '@tenantkit/tenant-context';
import type { LeakKitRecord, LeakKitTarget } from '../leak-kit.js';
import { buildApiKeyRecord, buildOneTimeTokenRecord } from './auth-record-builders.js';

/**
 * Options of {@link authApiKeyLeakKitTarget} and {@link authInvitationLeakKitTarget}.
 *
 * @example
 * ```ts
 * const options: AuthLeakKitTargetOptions = { now: Date.now() };
 * ```
 */
export interface AuthLeakKitTargetOptions {
  /** The time records are stamped with and read at; default `Date.now()` when the target is made. */
  readonly now?: number;
}

class LeakKitTargetError extends Error {
  override name = 'LeakKitTargetError';
}

/**
 * A leak-kit target over the API keys of the tenant in scope. A leak-kit record is a live key
 * (`name` = record id, `scopes[0]` = value); an update revokes the key and creates its
 * replacement. Update and delete play a hostile tenant: they call `revoke(tenant, keyId)` with
 * **every** key id ever created under that record id, in every tenant (key ids travel in
 * presented keys, so anyone may know them), and count the revocations that succeeded — a store
 * that revokes a foreign tenant's key reports too many or loses the other tenant's record.
 * Reads go through `listByTenant` (and `findById` must agree on the owner). `reset()` deletes
 * the keys of `tenants`, which must be the tenants passed to `runLeakKit`.
 *
 * @example
 * ```ts
 * const tenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b'];
 * await runLeakKit(authApiKeyLeakKitTarget(stores.apiKeys, tenants), { tenants, operations: 10_000 });
 * ```
 */
export function authApiKeyLeakKitTarget(store: ApiKeyStore, tenants: readonly string[], options: AuthLeakKitTargetOptions = {}): LeakKitTarget {
  const now = options.now ?? Date.now();
  const tag = randomBytes(4).toString('hex');
  let sequence = 0;
  /** Every key id ever created per record id, across tenants: what a hostile tenant may try. */
  const keyIdsByRecord = new Map<string, Set<string>>();

  const liveKeys = async (tenantId: string): Promise<ApiKeyRecord[]> => {
    const keys = await store.listByTenant(tenantId);
    return keys.filter((key) => key.revokedAt === null);
  };
  const toRecord = (key: ApiKeyRecord): LeakKitRecord => ({ id: key.name, value: key.scopes[0] ?? '' });
  const createKey = async (tenantId: string, record: LeakKitRecord): Promise<void> => {
    sequence += 1;
    const key = buildApiKeyRecord({ id: `key_${tag}_${sequence}`, tenantId, name: record.id, scopes: [record.value], createdAt: now + sequence });
    const outcome = await store.create(key);
    if (outcome !== 'created') throw new LeakKitTargetError(`create(${key.id}) returned '${outcome}'`);
    const ids = keyIdsByRecord.get(record.id) ?? new Set<string>();
    ids.add(key.id);
    keyIdsByRecord.set(record.id, ids);
  };
  const revokeEveryKnownKey = async (tenantId: string, recordId: string): Promise<number> => {
    let revoked = 0;
    for (const keyId of [...(keyIdsByRecord.get(recordId) ?? [])]) {
      if (await store.revoke(tenantId, keyId, now)) revoked += 1;
    }
    return revoked;
  };

  return {
    async reset() {
      for (const tenantId of tenants) await store.deleteByTenant(tenantId);
      keyIdsByRecord.clear();
    },
    async insert(record) {
      await createKey(requireTenantId(), record);
    },
    async get(id) {
      const tenantId = requireTenantId();
      const matching = (await liveKeys(tenantId)).filter((key) => key.name === id);
      if (matching.length > 1) throw new LeakKitTargetError(`tenant ${tenantId} holds ${matching.length} live keys named ${id}`);
      const [key] = matching;
      if (key === undefined) return undefined;
      const byId = await store.findById(key.id);
      if (byId === null || byId.tenantId !== key.tenantId || byId.scopes[0] !== key.scopes[0]) {
        throw new LeakKitTargetError(`findById(${key.id}) disagrees with listByTenant(${tenantId}): ${JSON.stringify(byId)}`);
      }
      return toRecord(key);
    },
    async list() {
      return (await liveKeys(requireTenantId())).map(toRecord);
    },
    async update(id, value) {
      const tenantId = requireTenantId();
      const revoked = await revokeEveryKnownKey(tenantId, id);
      if (revoked > 0) await createKey(tenantId, { id, value });
      return revoked;
    },
    async remove(id) {
      return revokeEveryKnownKey(requireTenantId(), id);
    },
    async count() {
      return (await liveKeys(requireTenantId())).length;
    },
  };
}

/**
 * A leak-kit target over the invitations of the tenant in scope. A leak-kit record is a live
 * invitation token (`subject` = `<record id>.<tag>@leak.example`, shared by every tenant, `data.value`
 * = value); the target plays the mailer and remembers the token hash it issued per tenant. A
 * read consumes the token and issues it again (which must void nothing), an update reissues it
 * (which must void exactly the tenant's own token), a delete is `voidFor('invitation', subject,
 * tenant)`. A store that voids or returns another tenant's invitation for the same email
 * reports wrong counts or loses, or shows, the other tenant's record. `reset()` voids every
 * subject the target issued, in each of `tenants`.
 *
 * @example
 * ```ts
 * const tenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b'];
 * await runLeakKit(authInvitationLeakKitTarget(stores.oneTimeTokens, tenants), { tenants, operations: 10_000 });
 * ```
 */
export function authInvitationLeakKitTarget(
  store: OneTimeTokenStore,
  tenants: readonly string[],
  options: AuthLeakKitTargetOptions = {},
): LeakKitTarget {
  const now = options.now ?? Date.now();
  const tag = randomBytes(4).toString('hex');
  let sequence = 0;
  /** The hash of each tenant's current invitation, per record id. */
  const hashes = new Map<string, Map<string, string>>(tenants.map((tenant) => [tenant, new Map()]));
  const subjects = new Set<string>();

  const subjectOf = (recordId: string): string => `${recordId}.${tag}@leak.example`;
  const hashesOf = (tenantId: string): Map<string, string> => {
    const map = hashes.get(tenantId);
    if (map === undefined) throw new LeakKitTargetError(`tenant ${tenantId} is not one of the target's tenants`);
    return map;
  };
  /** Issues a new invitation; resolves its hash and how many earlier ones it voided. */
  const issue = async (tenantId: string, record: LeakKitRecord): Promise<{ hash: string; voided: number }> => {
    sequence += 1;
    const hash = `ott_${tag}_${sequence}`;
    const subject = subjectOf(record.id);
    subjects.add(subject);
    const voided = await store.issue(
      buildOneTimeTokenRecord({
        tokenHash: hash,
        purpose: 'invitation',
        subject,
        tenantId,
        data: { value: record.value, roles: ['viewer'] },
        createdAt: now,
        expiresAt: now + 86_400_000,
      }),
    );
    return { hash, voided };
  };
  const read = async (tenantId: string, id: string): Promise<LeakKitRecord | undefined> => {
    const hash = hashesOf(tenantId).get(id);
    if (hash === undefined) return undefined;
    const taken = await store.consume(hash, 'invitation', now);
    if (taken === null) {
      hashesOf(tenantId).delete(id);
      return undefined;
    }
    if (taken.subject !== subjectOf(id) || taken.tenantId !== tenantId || taken.purpose !== 'invitation') {
      throw new LeakKitTargetError(`consume(${hash}) in tenant ${tenantId} returned another invitation: ${JSON.stringify(taken)}`);
    }
    const value = String(taken.data.value);
    // Put it back: a fresh token with the same content; there is nothing else to void.
    const again = await issue(tenantId, { id, value });
    if (again.voided !== 0) throw new LeakKitTargetError(`reissuing ${id} in tenant ${tenantId} voided ${again.voided} invitations`);
    hashesOf(tenantId).set(id, again.hash);
    return { id, value };
  };

  return {
    async reset() {
      for (const subject of subjects) {
        for (const tenantId of tenants) await store.voidFor('invitation', subject, tenantId);
      }
      subjects.clear();
      for (const map of hashes.values()) map.clear();
    },
    async insert(record) {
      const tenantId = requireTenantId();
      const { hash, voided } = await issue(tenantId, record);
      if (voided !== 0) throw new LeakKitTargetError(`inserting ${record.id} in tenant ${tenantId} voided ${voided} invitations`);
      hashesOf(tenantId).set(record.id, hash);
    },
    async get(id) {
      return read(requireTenantId(), id);
    },
    async list() {
      const tenantId = requireTenantId();
      const records: LeakKitRecord[] = [];
      for (const id of [...hashesOf(tenantId).keys()]) {
        const record = await read(tenantId, id);
        if (record !== undefined) records.push(record);
      }
      return records;
    },
    async update(id, value) {
      const tenantId = requireTenantId();
      const { hash, voided } = await issue(tenantId, { id, value });
      if (voided === 0) {
        // Nothing to update: take back the token just issued.
        if ((await store.consume(hash, 'invitation', now)) === null) throw new LeakKitTargetError(`the invitation ${hash} just issued was gone`);
        return 0;
      }
      hashesOf(tenantId).set(id, hash);
      return voided;
    },
    async remove(id) {
      const tenantId = requireTenantId();
      hashesOf(tenantId).delete(id);
      return store.voidFor('invitation', subjectOf(id), tenantId);
    },
  };
}
