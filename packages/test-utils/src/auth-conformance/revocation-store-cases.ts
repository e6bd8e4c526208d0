// Conformance cases of `RevocationStore` (packages/auth/src/store.ts).
import type { RevocationQuery, RevocationStore } from '@tenantkit/auth';
import { describe, expect } from 'vitest';
import { hourMs, minuteMs, storeTest, type AuthConformanceRun, type AuthSuiteContext } from './auth-suite-context.js';

function query(run: AuthConformanceRun, overrides: Partial<RevocationQuery> = {}): RevocationQuery {
  return { jti: run.id('jti'), sessionId: run.id('ses'), userId: run.id('usr'), tenantId: run.id('tnt'), ...overrides };
}

const nothingRevoked = { jtiRevoked: false, sessionRevoked: false, userEpoch: 0, tenantEpoch: 0 } as const;

/** Registers the revocation cases. */
export function describeRevocationStoreCases(context: AuthSuiteContext): void {
  const test = (name: string, body: (revocations: RevocationStore, run: AuthConformanceRun) => Promise<void>) =>
    storeTest(context, 'revocations', name, body);

  describe('revocations', () => {
    test('unknown jti, session, user and tenant → all false and zero', async (revocations, run) => {
      expect(await revocations.check(query(run), run.t0)).toEqual(nothingRevoked);
      expect(await revocations.check(query(run, { sessionId: null, tenantId: null }), run.t0)).toEqual(nothingRevoked);
    });

    test('revokeToken: revoked until `until`, not after it; other jtis unaffected', async (revocations, run) => {
      const revoked = query(run);
      const until = run.t0 + hourMs;
      await revocations.revokeToken(revoked.jti, until);
      expect(await revocations.check(revoked, run.t0)).toEqual({ ...nothingRevoked, jtiRevoked: true });
      expect(await revocations.check(revoked, until - 1)).toEqual({ ...nothingRevoked, jtiRevoked: true });
      expect(await revocations.check(revoked, until + 1)).toEqual(nothingRevoked);
      expect(await revocations.check({ ...revoked, jti: run.id('jti') }, run.t0)).toEqual(nothingRevoked);
    });

    test('revokeToken with an `until` already past → not revoked', async (revocations, run) => {
      const revoked = query(run);
      await revocations.revokeToken(revoked.jti, run.t0 - minuteMs);
      expect(await revocations.check(revoked, run.t0)).toEqual(nothingRevoked);
    });

    test('revokeSession: revoked until `until`, not after it; other sessions and a null sessionId unaffected', async (revocations, run) => {
      const revoked = query(run);
      const until = run.t0 + hourMs;
      await revocations.revokeSession(revoked.sessionId!, until);
      expect(await revocations.check(revoked, run.t0)).toEqual({ ...nothingRevoked, sessionRevoked: true });
      expect(await revocations.check(revoked, until - 1)).toEqual({ ...nothingRevoked, sessionRevoked: true });
      expect(await revocations.check(revoked, until + 1)).toEqual(nothingRevoked);
      expect(await revocations.check({ ...revoked, sessionId: run.id('ses') }, run.t0)).toEqual(nothingRevoked);
      expect(await revocations.check({ ...revoked, sessionId: null }, run.t0)).toEqual(nothingRevoked);
    });

    test('revokeSession with an `until` already past → not revoked', async (revocations, run) => {
      const revoked = query(run);
      await revocations.revokeSession(revoked.sessionId!, run.t0 - minuteMs);
      expect(await revocations.check(revoked, run.t0)).toEqual(nothingRevoked);
    });

    test('a jti and a session with the same id are separate entries', async (revocations, run) => {
      const shared = run.id('shared');
      await revocations.revokeToken(shared, run.t0 + hourMs);
      expect(await revocations.check(query(run, { jti: run.id('jti'), sessionId: shared }), run.t0)).toEqual(nothingRevoked);
      expect(await revocations.check(query(run, { jti: shared }), run.t0)).toMatchObject({ jtiRevoked: true, sessionRevoked: false });
    });

    test('raiseEpoch is monotonic: a lower value keeps the higher one; it returns the stored epoch', async (revocations, run) => {
      const userId = run.id('usr');
      expect(await revocations.raiseEpoch('user', userId, run.t0)).toBe(run.t0);
      expect(await revocations.raiseEpoch('user', userId, run.t0 - hourMs)).toBe(run.t0);
      expect(await revocations.raiseEpoch('user', userId, run.t0)).toBe(run.t0);
      expect(await revocations.raiseEpoch('user', userId, run.t0 + 5)).toBe(run.t0 + 5);
      expect(await revocations.check(query(run, { userId }), run.t0)).toEqual({ ...nothingRevoked, userEpoch: run.t0 + 5 });
    });

    test("tenant epochs are monotonic too and separate from a user's epoch with the same id", async (revocations, run) => {
      const id = run.id('both');
      expect(await revocations.raiseEpoch('tenant', id, run.t0 + 10)).toBe(run.t0 + 10);
      expect(await revocations.raiseEpoch('tenant', id, run.t0)).toBe(run.t0 + 10);
      expect(await revocations.check(query(run, { userId: id, tenantId: id }), run.t0)).toEqual({ ...nothingRevoked, tenantEpoch: run.t0 + 10 });
      expect(await revocations.raiseEpoch('user', id, run.t0)).toBe(run.t0);
      expect(await revocations.check(query(run, { userId: id, tenantId: id }), run.t0)).toEqual({
        ...nothingRevoked,
        userEpoch: run.t0,
        tenantEpoch: run.t0 + 10,
      });
      expect(await revocations.check(query(run, { userId: id, tenantId: null }), run.t0)).toEqual({ ...nothingRevoked, userEpoch: run.t0 });
      expect(await revocations.check(query(run), run.t0)).toEqual(nothingRevoked);
    });

    test('20 concurrent raises of one epoch leave the highest value', async (revocations, run) => {
      const userId = run.id('usr');
      const values = Array.from({ length: 20 }, (_, index) => run.t0 + ((index * 7) % 20) * 1000);
      const returned = await Promise.all(values.map((value) => revocations.raiseEpoch('user', userId, value)));
      for (const [index, value] of returned.entries()) expect(value, `raise ${index}`).toBeGreaterThanOrEqual(values[index]!);
      expect(await revocations.raiseEpoch('user', userId, run.t0)).toBe(Math.max(...values));
      expect((await revocations.check(query(run, { userId }), run.t0)).userEpoch).toBe(Math.max(...values));
    });

    test('check returns all four fields in one call', async (revocations, run) => {
      const all = query(run);
      await revocations.revokeToken(all.jti, run.t0 + hourMs);
      await revocations.revokeSession(all.sessionId!, run.t0 + hourMs);
      await revocations.raiseEpoch('user', all.userId, run.t0 - 2);
      await revocations.raiseEpoch('tenant', all.tenantId!, run.t0 - 1);
      expect(await revocations.check(all, run.t0)).toEqual({ jtiRevoked: true, sessionRevoked: true, userEpoch: run.t0 - 2, tenantEpoch: run.t0 - 1 });
    });
  });
}
