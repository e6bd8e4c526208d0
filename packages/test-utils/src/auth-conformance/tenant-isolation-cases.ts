// Tenant isolation of the tenant-owned auth records (API keys, invitations): the shared leak kit
// over both, and a model-based property where tenants also aim at each other's records.
import type { ApiKeyStore, AuthStores, OneTimeTokenStore } from '@tenantkit/auth';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runLeakKit } from '../leak-kit.js';
import { buildApiKeyRecord, buildOneTimeTokenRecord } from './auth-record-builders.js';
import { dayMs, sorted, storeTest, type AuthSuiteContext } from './auth-suite-context.js';
import { authApiKeyLeakKitTarget, authInvitationLeakKitTarget } from './tenant-owned-leak-kit-targets.js';

type IsolationKind = 'createKey' | 'revokeKey' | 'findKey' | 'listKeys' | 'deleteKeys' | 'issueInvite' | 'voidInvite' | 'consumeInvite';

interface IsolationOperation {
  readonly kind: IsolationKind;
  /** Which key (of all created so far, every tenant's) a key operation aims at. */
  readonly pick: number;
  /** Which of the shared invitation emails. */
  readonly email: number;
}

interface ModelKey {
  readonly id: string;
  readonly tenantId: string;
  readonly sequence: number;
  revoked: boolean;
}

const keyKinds: readonly IsolationKind[] = ['createKey', 'createKey', 'revokeKey', 'revokeKey', 'findKey', 'listKeys', 'deleteKeys'];
const inviteKinds: readonly IsolationKind[] = ['issueInvite', 'issueInvite', 'voidInvite', 'consumeInvite'];
const emailCount = 3;

/** Registers the isolation cases. */
export function describeTenantIsolationCases(context: AuthSuiteContext): void {
  const { tuning } = context;
  const covers = (key: keyof AuthStores) => context.required.size === 0 || context.required.has(key);
  if (!covers('apiKeys') && !covers('oneTimeTokens')) return;

  describe('tenant isolation', () => {
    if (covers('apiKeys')) {
      storeTest(
        context,
        'apiKeys',
        'leak kit: random operations on the API keys of three tenants never show or change another tenant’s key',
        async (apiKeys, run) => {
          const tenants = [`tnt_${run.tag}_a`, `tnt_${run.tag}_ab`, `tnt_${run.tag}_b`];
          const report = await runLeakKit(authApiKeyLeakKitTarget(apiKeys, tenants, { now: run.t0 }), { tenants, operations: tuning.leakKitOperations });
          expect(report.operations).toBeGreaterThanOrEqual(tuning.leakKitOperations);
        },
        tuning.propertyTimeoutMs,
      );
    }

    if (covers('oneTimeTokens')) {
      storeTest(
        context,
        'oneTimeTokens',
        'leak kit: random operations on invitations of three tenants for shared emails never show or void another tenant’s invitation',
        async (oneTimeTokens, run) => {
          const tenants = [`tnt_${run.tag}_a`, `tnt_${run.tag}_ab`, `tnt_${run.tag}_b`];
          const report = await runLeakKit(authInvitationLeakKitTarget(oneTimeTokens, tenants, { now: run.t0 }), {
            tenants,
            operations: tuning.leakKitOperations,
          });
          expect(report.operations).toBeGreaterThanOrEqual(tuning.leakKitOperations);
        },
        tuning.propertyTimeoutMs,
      );
    }

    {
      it(
        'property: three tenants revoking, listing, deleting and voiding at random, also aiming at each other’s records, touch only their own',
        async ({ skip }) => {
          const { stores, t0, tag } = context.current();
          const apiKeys = stores.apiKeys;
          const oneTimeTokens = stores.oneTimeTokens;
          for (const key of ['apiKeys', 'oneTimeTokens'] as const) {
            if (stores[key] === undefined && context.required.has(key)) throw new Error(`The factory returned no "${key}" store, but "${key}" is listed in options.only`);
          }
          if (apiKeys === undefined && oneTimeTokens === undefined) skip('the factory returns neither "apiKeys" nor "oneTimeTokens"');
          const kinds = [...(apiKeys === undefined ? [] : keyKinds), ...(oneTimeTokens === undefined ? [] : inviteKinds)];
          const operation: fc.Arbitrary<IsolationOperation> = fc.record({
            kind: fc.constantFrom(...kinds),
            pick: fc.nat({ max: 1000 }),
            email: fc.nat({ max: emailCount - 1 }),
          });
          let runNumber = 0;
          await fc.assert(
            fc.asyncProperty(fc.array(fc.tuple(operation, operation, operation), { minLength: 1, maxLength: 25 }), async (steps) => {
              runNumber += 1;
              await checkIsolationRun({ apiKeys, oneTimeTokens, t0, prefix: `${tag}_${runNumber}`, steps });
            }),
            { numRuns: tuning.isolationRuns, endOnFailure: true },
          );
        },
        tuning.propertyTimeoutMs,
      );
    }
  });
}

interface IsolationRunInput {
  readonly apiKeys: ApiKeyStore | undefined;
  readonly oneTimeTokens: OneTimeTokenStore | undefined;
  readonly t0: number;
  readonly prefix: string;
  readonly steps: readonly (readonly IsolationOperation[])[];
}

/** One random run: fresh tenants (one id a prefix of another), every answer checked against a model. */
async function checkIsolationRun({ apiKeys, oneTimeTokens, t0, prefix, steps }: IsolationRunInput): Promise<void> {
  const tenants = [`tnt_${prefix}_a`, `tnt_${prefix}_ab`, `tnt_${prefix}_b`];
  const emails = Array.from({ length: emailCount }, (_, index) => `invitee${index}.${prefix}@example.com`);
  const keys: ModelKey[] = [];
  const invites = new Map<string, Map<string, string>>(tenants.map((tenant) => [tenant, new Map()]));
  let sequence = 0;

  const expectedKeysOf = (tenantId: string) =>
    keys.filter((key) => key.tenantId === tenantId).sort((a, b) => b.sequence - a.sequence);

  const apply = async (tenantId: string, op: IsolationOperation, label: string): Promise<void> => {
    const email = emails[op.email]!;
    const tenantInvites = invites.get(tenantId)!;
    switch (op.kind) {
      case 'createKey': {
        sequence += 1;
        const key = buildApiKeyRecord({ id: `key_${prefix}_${sequence}`, tenantId, name: `${tenantId} key ${sequence}`, createdAt: t0 + sequence });
        expect(await apiKeys!.create(key), label).toBe('created');
        keys.push({ id: key.id, tenantId, sequence, revoked: false });
        return;
      }
      case 'revokeKey': {
        const target = keys[op.pick % Math.max(1, keys.length)];
        if (target === undefined) return;
        const mayRevoke = target.tenantId === tenantId && !target.revoked;
        // Marked before the await: the owner's other operations of this step cannot see it anyway.
        if (mayRevoke) target.revoked = true;
        expect(await apiKeys!.revoke(tenantId, target.id, t0 + dayMs), `${label} on ${target.id} of ${target.tenantId}`).toBe(mayRevoke);
        return;
      }
      case 'findKey': {
        const target = keys[op.pick % Math.max(1, keys.length)];
        if (target === undefined) return;
        const found = await apiKeys!.findById(target.id);
        // Another tenant may delete or revoke it in this very step; the owner cannot.
        if (found !== null) expect(found, label).toMatchObject({ id: target.id, tenantId: target.tenantId });
        if (target.tenantId === tenantId) {
          expect(found, label).not.toBeNull();
          expect(found!.revokedAt !== null, `${label}: revoked`).toBe(target.revoked);
        }
        return;
      }
      case 'listKeys': {
        const listed = await apiKeys!.listByTenant(tenantId);
        const expected = expectedKeysOf(tenantId);
        expect(
          listed.map((key) => [key.id, key.tenantId, key.revokedAt !== null]),
          label,
        ).toEqual(expected.map((key) => [key.id, tenantId, key.revoked]));
        return;
      }
      case 'deleteKeys': {
        const owned = keys.filter((key) => key.tenantId === tenantId);
        for (const key of owned) keys.splice(keys.indexOf(key), 1);
        expect(await apiKeys!.deleteByTenant(tenantId), label).toBe(owned.length);
        return;
      }
      case 'issueInvite': {
        sequence += 1;
        const token = buildOneTimeTokenRecord({
          tokenHash: `ott_${prefix}_${sequence}`,
          purpose: 'invitation',
          subject: email,
          tenantId,
          data: { tenantId },
          createdAt: t0,
          expiresAt: t0 + dayMs,
        });
        const hadOne = tenantInvites.has(email);
        tenantInvites.set(email, token.tokenHash);
        expect(await oneTimeTokens!.issue(token), label).toBe(hadOne ? 1 : 0);
        return;
      }
      case 'voidInvite': {
        const hadOne = tenantInvites.delete(email);
        expect(await oneTimeTokens!.voidFor('invitation', email, tenantId), label).toBe(hadOne ? 1 : 0);
        return;
      }
      case 'consumeInvite': {
        const hash = tenantInvites.get(email);
        if (hash === undefined) return;
        tenantInvites.delete(email);
        expect(await oneTimeTokens!.consume(hash, 'invitation', t0 + 1), label).toMatchObject({ subject: email, tenantId, data: { tenantId } });
        return;
      }
    }
  };

  for (const [index, step] of steps.entries()) {
    await Promise.all(step.map((op, tenant) => apply(tenants[tenant]!, op, `step ${index}: ${op.kind} by ${tenants[tenant]!}`)));
  }

  // Read-back: every tenant holds exactly its model, and nothing more.
  for (const tenantId of tenants) {
    if (apiKeys !== undefined) {
      const listed = await apiKeys.listByTenant(tenantId);
      expect(sorted(listed.map((key) => key.id)), `final keys of ${tenantId}`).toEqual(sorted(expectedKeysOf(tenantId).map((key) => key.id)));
      expect(await apiKeys.deleteByTenant(tenantId), `final delete of ${tenantId}`).toBe(expectedKeysOf(tenantId).length);
    }
    if (oneTimeTokens !== undefined) {
      for (const [email, hash] of invites.get(tenantId)!) {
        expect(await oneTimeTokens.consume(hash, 'invitation', t0 + 1), `final invitation of ${tenantId} for ${email}`).toMatchObject({
          subject: email,
          tenantId,
        });
      }
      for (const email of emails) expect(await oneTimeTokens.voidFor('invitation', email, tenantId), `leftover invitations of ${tenantId}`).toBe(0);
    }
  }
}
