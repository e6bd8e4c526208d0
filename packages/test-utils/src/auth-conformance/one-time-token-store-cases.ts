// Conformance cases of `OneTimeTokenStore` (packages/auth/src/store.ts).
import type { OneTimeTokenRecord, OneTimeTokenStore } from '@tenantkit/auth';
import { describe, expect } from 'vitest';
import { buildOneTimeTokenRecord } from './auth-record-builders.js';
import { hourMs, minuteMs, storeTest, tamper, type AuthConformanceRun, type AuthSuiteContext } from './auth-suite-context.js';

function newToken(run: AuthConformanceRun, overrides: Partial<OneTimeTokenRecord> = {}): OneTimeTokenRecord {
  return buildOneTimeTokenRecord({ tokenHash: run.id('ott'), subject: run.id('usr'), createdAt: run.t0, ...overrides });
}

/** Registers the one-time token cases. */
export function describeOneTimeTokenStoreCases(context: AuthSuiteContext): void {
  const test = (name: string, body: (oneTimeTokens: OneTimeTokenStore, run: AuthConformanceRun) => Promise<void>) =>
    storeTest(context, 'oneTimeTokens', name, body);

  describe('oneTimeTokens', () => {
    describe('issue / consume', () => {
      test('issue returns 0 for a first token; consume returns it field for field, then null (single use)', async (oneTimeTokens, run) => {
        const token = newToken(run, {
          purpose: 'invitation',
          subject: run.email(),
          tenantId: 'tnt_acme',
          data: { roles: ['editor', 'viewer'], invitedBy: 'usr_1', note: 'Grüß Gott 🚀', nested: { level: 2, flag: true, none: null } },
        });
        expect(await oneTimeTokens.issue(token)).toBe(0);
        expect(await oneTimeTokens.consume(token.tokenHash, 'invitation', run.t0 + minuteMs)).toEqual(token);
        expect(await oneTimeTokens.consume(token.tokenHash, 'invitation', run.t0 + minuteMs)).toBeNull();
      });

      test('an unknown token → null', async (oneTimeTokens, run) => {
        expect(await oneTimeTokens.consume(run.id('ott'), 'password-reset', run.t0)).toBeNull();
      });

      test('reissue voids the earlier token of the same purpose, subject and tenant (tenantId null) and returns the count', async (oneTimeTokens, run) => {
        const subject = run.id('usr');
        const first = newToken(run, { subject });
        const second = newToken(run, { subject, createdAt: run.t0 + 1 });
        const third = newToken(run, { subject, createdAt: run.t0 + 2 });
        expect(await oneTimeTokens.issue(first)).toBe(0);
        expect(await oneTimeTokens.issue(second)).toBe(1);
        expect(await oneTimeTokens.issue(third)).toBe(1);
        expect(await oneTimeTokens.consume(first.tokenHash, 'password-reset', run.t0 + minuteMs)).toBeNull();
        expect(await oneTimeTokens.consume(second.tokenHash, 'password-reset', run.t0 + minuteMs)).toBeNull();
        expect(await oneTimeTokens.consume(third.tokenHash, 'password-reset', run.t0 + minuteMs)).toEqual(third);
      });

      test('reissue voids the same tenant’s invitation only: other tenants, purposes and subjects keep theirs', async (oneTimeTokens, run) => {
        const email = run.email();
        const acme = newToken(run, { purpose: 'invitation', subject: email, tenantId: 'tnt_acme' });
        const globex = newToken(run, { purpose: 'invitation', subject: email, tenantId: 'tnt_globex' });
        const otherEmail = newToken(run, { purpose: 'invitation', subject: run.email(), tenantId: 'tnt_acme' });
        const reset = newToken(run, { purpose: 'password-reset', subject: email });
        const verification = newToken(run, { purpose: 'email-verification', subject: email });
        for (const token of [acme, globex, otherEmail, reset, verification]) expect(await oneTimeTokens.issue(token)).toBe(0);

        const reissued = newToken(run, { purpose: 'invitation', subject: email, tenantId: 'tnt_acme', createdAt: run.t0 + 1 });
        expect(await oneTimeTokens.issue(reissued)).toBe(1);
        const now = run.t0 + minuteMs;
        expect(await oneTimeTokens.consume(acme.tokenHash, 'invitation', now)).toBeNull();
        expect(await oneTimeTokens.consume(globex.tokenHash, 'invitation', now)).toEqual(globex);
        expect(await oneTimeTokens.consume(otherEmail.tokenHash, 'invitation', now)).toEqual(otherEmail);
        expect(await oneTimeTokens.consume(reset.tokenHash, 'password-reset', now)).toEqual(reset);
        expect(await oneTimeTokens.consume(verification.tokenHash, 'email-verification', now)).toEqual(verification);
        expect(await oneTimeTokens.consume(reissued.tokenHash, 'invitation', now)).toEqual(reissued);
      });

      test('10 concurrent consumes of one token → exactly one gets the record', async (oneTimeTokens, run) => {
        const token = newToken(run);
        await oneTimeTokens.issue(token);
        const results = await Promise.all(
          Array.from({ length: 10 }, () => oneTimeTokens.consume(token.tokenHash, 'password-reset', run.t0 + minuteMs)),
        );
        expect(results.filter((result) => result !== null)).toEqual([token]);
      });

      test('the wrong purpose → null, and the token stays consumable with the right purpose', async (oneTimeTokens, run) => {
        const token = newToken(run, { purpose: 'email-verification' });
        await oneTimeTokens.issue(token);
        expect(await oneTimeTokens.consume(token.tokenHash, 'password-reset', run.t0 + minuteMs)).toBeNull();
        expect(await oneTimeTokens.consume(token.tokenHash, 'invitation', run.t0 + minuteMs)).toBeNull();
        expect(await oneTimeTokens.consume(token.tokenHash, 'email-verification', run.t0 + minuteMs)).toEqual(token);
      });

      test('an expired token (now = expiresAt) → null; a millisecond earlier it is consumable', async (oneTimeTokens, run) => {
        const expired = newToken(run, { expiresAt: run.t0 + hourMs });
        const live = newToken(run, { expiresAt: run.t0 + hourMs });
        await oneTimeTokens.issue(expired);
        await oneTimeTokens.issue(live);
        expect(await oneTimeTokens.consume(expired.tokenHash, 'password-reset', run.t0 + hourMs)).toBeNull();
        expect(await oneTimeTokens.consume(expired.tokenHash, 'password-reset', run.t0 + 2 * hourMs)).toBeNull();
        expect(await oneTimeTokens.consume(live.tokenHash, 'password-reset', run.t0 + hourMs - 1)).toEqual(live);
      });
    });

    describe('voidFor', () => {
      test('deletes every token of the purpose for the subject, in every tenant when no tenantId is given', async (oneTimeTokens, run) => {
        const email = run.email();
        const acme = newToken(run, { purpose: 'invitation', subject: email, tenantId: 'tnt_acme' });
        const globex = newToken(run, { purpose: 'invitation', subject: email, tenantId: 'tnt_globex' });
        const reset = newToken(run, { purpose: 'password-reset', subject: email });
        const otherSubject = newToken(run, { purpose: 'invitation', subject: run.email(), tenantId: 'tnt_acme' });
        for (const token of [acme, globex, reset, otherSubject]) await oneTimeTokens.issue(token);
        expect(await oneTimeTokens.voidFor('invitation', email)).toBe(2);
        const now = run.t0 + minuteMs;
        expect(await oneTimeTokens.consume(acme.tokenHash, 'invitation', now)).toBeNull();
        expect(await oneTimeTokens.consume(globex.tokenHash, 'invitation', now)).toBeNull();
        expect(await oneTimeTokens.consume(reset.tokenHash, 'password-reset', now)).toEqual(reset);
        expect(await oneTimeTokens.consume(otherSubject.tokenHash, 'invitation', now)).toEqual(otherSubject);
        expect(await oneTimeTokens.voidFor('invitation', email)).toBe(0);
      });

      test('with a tenantId, deletes only that tenant’s tokens', async (oneTimeTokens, run) => {
        const email = run.email();
        const acme = newToken(run, { purpose: 'invitation', subject: email, tenantId: 'tnt_acme' });
        const globex = newToken(run, { purpose: 'invitation', subject: email, tenantId: 'tnt_globex' });
        for (const token of [acme, globex]) await oneTimeTokens.issue(token);
        expect(await oneTimeTokens.voidFor('invitation', email, 'tnt_acme')).toBe(1);
        expect(await oneTimeTokens.voidFor('invitation', email, 'tnt_acme')).toBe(0);
        expect(await oneTimeTokens.voidFor('invitation', email, 'tnt_other')).toBe(0);
        expect(await oneTimeTokens.consume(acme.tokenHash, 'invitation', run.t0 + minuteMs)).toBeNull();
        expect(await oneTimeTokens.consume(globex.tokenHash, 'invitation', run.t0 + minuteMs)).toEqual(globex);
      });

      test('with tenantId null, deletes only the tokens without a tenant', async (oneTimeTokens, run) => {
        const subject = run.id('usr');
        const global = newToken(run, { purpose: 'email-verification', subject, tenantId: null });
        const scoped = newToken(run, { purpose: 'email-verification', subject, tenantId: 'tnt_acme' });
        for (const token of [global, scoped]) await oneTimeTokens.issue(token);
        expect(await oneTimeTokens.voidFor('email-verification', subject, null)).toBe(1);
        expect(await oneTimeTokens.consume(global.tokenHash, 'email-verification', run.t0 + minuteMs)).toBeNull();
        expect(await oneTimeTokens.consume(scoped.tokenHash, 'email-verification', run.t0 + minuteMs)).toEqual(scoped);
      });

      test('nothing to void → 0', async (oneTimeTokens, run) => {
        expect(await oneTimeTokens.voidFor('password-reset', run.id('usr'))).toBe(0);
      });
    });

    describe('copies', () => {
      test('mutating the record passed to issue changes nothing stored', async (oneTimeTokens, run) => {
        const input = newToken(run, { purpose: 'invitation', subject: run.email(), tenantId: 'tnt_acme', data: { roles: ['viewer'] } });
        const pristine = structuredClone(input);
        await oneTimeTokens.issue(input);
        tamper(input, (passed) => {
          passed.expiresAt = run.t0;
          passed.purpose = 'password-reset';
          ((passed.data as { roles: string[] }).roles).push('owner');
        });
        expect(await oneTimeTokens.consume(pristine.tokenHash, 'invitation', run.t0 + minuteMs)).toEqual(pristine);
      });
    });
  });
}
