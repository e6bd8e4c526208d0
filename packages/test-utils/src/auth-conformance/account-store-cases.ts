// Conformance cases of `AccountStore` (packages/auth/src/store.ts).
import type { AccountRecord, AccountStore } from '@tenantkit/auth';
import { describe, expect } from 'vitest';
import { buildAccountRecord } from './auth-record-builders.js';
import { minuteMs, storeTest, tamper, type AuthConformanceRun, type AuthSuiteContext } from './auth-suite-context.js';

async function createAccount(accounts: AccountStore, run: AuthConformanceRun, overrides: Partial<AccountRecord> = {}): Promise<AccountRecord> {
  const account = buildAccountRecord({ id: run.id('usr'), email: run.email(), createdAt: run.t0, ...overrides });
  expect(await accounts.create(account)).toBe('created');
  return account;
}

function hashOf(run: AuthConformanceRun, label: string): string {
  return `$scrypt$ln=15,r=8,p=1$${run.tag}$${label}`;
}

/** Registers the account cases. */
export function describeAccountStoreCases(context: AuthSuiteContext): void {
  const test = (name: string, body: (accounts: AccountStore, run: AuthConformanceRun) => Promise<void>) =>
    storeTest(context, 'accounts', name, body);

  describe('accounts', () => {
    describe('create / find', () => {
      test("create returns 'created' and both lookups return the record field for field", async (accounts, run) => {
        const account = buildAccountRecord({
          id: run.id('usr'),
          email: run.email(),
          createdAt: run.t0,
          updatedAt: run.t0 + 1,
          passwordHistory: [hashOf(run, 'older'), hashOf(run, 'oldest')],
          passwordChangedAt: run.t0 - 7,
          emailVerifiedAt: run.t0 - 3,
          disabledAt: null,
        });
        expect(await accounts.create(account)).toBe('created');
        expect(await accounts.findById(account.id)).toEqual(account);
        expect(await accounts.findByEmail(account.email)).toEqual(account);
      });

      test('an account without a password (passwordHash null) round-trips', async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: null, passwordChangedAt: null });
        expect(await accounts.findById(account.id)).toEqual(account);
      });

      test('unknown id and unknown email → null', async (accounts, run) => {
        await createAccount(accounts, run);
        expect(await accounts.findById(run.id('usr'))).toBeNull();
        expect(await accounts.findByEmail(run.email())).toBeNull();
      });

      test("a second account with a taken email → 'email-taken' and nothing written", async (accounts, run) => {
        const first = await createAccount(accounts, run);
        const second = buildAccountRecord({ id: run.id('usr'), email: first.email, createdAt: run.t0 + 1 });
        expect(await accounts.create(second)).toBe('email-taken');
        expect(await accounts.findById(second.id)).toBeNull();
        expect(await accounts.findByEmail(first.email)).toEqual(first);
      });

      test("a second account with a taken id → 'id-taken' and nothing written", async (accounts, run) => {
        const first = await createAccount(accounts, run);
        const second = buildAccountRecord({ id: first.id, email: run.email(), createdAt: run.t0 + 1 });
        expect(await accounts.create(second)).toBe('id-taken');
        expect(await accounts.findByEmail(second.email)).toBeNull();
        expect(await accounts.findById(first.id)).toEqual(first);
      });

      test("20 concurrent creates with one email → exactly one 'created', the others 'email-taken'", async (accounts, run) => {
        const email = run.email();
        const candidates = Array.from({ length: 20 }, (_, index) =>
          buildAccountRecord({ id: run.id('usr'), email, createdAt: run.t0 + index }),
        );
        const outcomes = await Promise.all(candidates.map((candidate) => accounts.create(candidate)));
        expect(outcomes.filter((outcome) => outcome === 'created')).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome === 'email-taken')).toHaveLength(19);
        const winner = candidates[outcomes.indexOf('created')]!;
        expect(await accounts.findByEmail(email)).toEqual(winner);
        for (const [index, candidate] of candidates.entries()) {
          if (candidate !== winner) expect(await accounts.findById(candidate.id), `loser ${index}`).toBeNull();
        }
      });
    });

    describe('setPassword', () => {
      test('pushes the previous hash to the front of the history and sets passwordChangedAt and updatedAt', async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: hashOf(run, 'h0') });
        const now = run.t0 + minuteMs;
        const updated = await accounts.setPassword(account.id, { passwordHash: hashOf(run, 'h1'), historyLimit: 3, now });
        const expected: AccountRecord = {
          ...account,
          passwordHash: hashOf(run, 'h1'),
          passwordHistory: [hashOf(run, 'h0')],
          passwordChangedAt: now,
          updatedAt: now,
        };
        expect(updated).toEqual(expected);
        expect(await accounts.findById(account.id)).toEqual(expected);
      });

      test('history limit 3 keeps the three newest earlier hashes, newest first', async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: hashOf(run, 'h0') });
        const histories: (readonly string[])[] = [];
        for (let change = 1; change <= 5; change += 1) {
          const updated = await accounts.setPassword(account.id, {
            passwordHash: hashOf(run, `h${change}`),
            historyLimit: 3,
            now: run.t0 + change * minuteMs,
          });
          if (typeof updated === 'string') throw new Error(`setPassword returned '${updated}'`);
          histories.push(updated.passwordHistory);
        }
        expect(histories).toEqual([
          [hashOf(run, 'h0')],
          [hashOf(run, 'h1'), hashOf(run, 'h0')],
          [hashOf(run, 'h2'), hashOf(run, 'h1'), hashOf(run, 'h0')],
          [hashOf(run, 'h3'), hashOf(run, 'h2'), hashOf(run, 'h1')],
          [hashOf(run, 'h4'), hashOf(run, 'h3'), hashOf(run, 'h2')],
        ]);
        const stored = await accounts.findById(account.id);
        expect(stored?.passwordHash).toBe(hashOf(run, 'h5'));
        expect(stored?.passwordHistory).toEqual([hashOf(run, 'h4'), hashOf(run, 'h3'), hashOf(run, 'h2')]);
      });

      test('history limit 1 keeps only the previous hash', async (accounts, run) => {
        const account = await createAccount(accounts, run, {
          passwordHash: hashOf(run, 'h0'),
          passwordHistory: [hashOf(run, 'old1'), hashOf(run, 'old2')],
        });
        const updated = await accounts.setPassword(account.id, { passwordHash: hashOf(run, 'h1'), historyLimit: 1, now: run.t0 + minuteMs });
        expect(updated).toMatchObject({ passwordHash: hashOf(run, 'h1'), passwordHistory: [hashOf(run, 'h0')] });
        expect((await accounts.findById(account.id))?.passwordHistory).toEqual([hashOf(run, 'h0')]);
      });

      test('history limit 0 keeps no history, even one stored earlier', async (accounts, run) => {
        const account = await createAccount(accounts, run, {
          passwordHash: hashOf(run, 'h0'),
          passwordHistory: [hashOf(run, 'old1'), hashOf(run, 'old2')],
        });
        const updated = await accounts.setPassword(account.id, { passwordHash: hashOf(run, 'h1'), historyLimit: 0, now: run.t0 + minuteMs });
        expect(updated).toMatchObject({ passwordHash: hashOf(run, 'h1'), passwordHistory: [] });
        expect((await accounts.findById(account.id))?.passwordHistory).toEqual([]);
      });

      test('an account without a password pushes nothing to the history', async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: null, passwordChangedAt: null });
        const now = run.t0 + minuteMs;
        const updated = await accounts.setPassword(account.id, { passwordHash: hashOf(run, 'h1'), historyLimit: 3, now });
        expect(updated).toEqual({ ...account, passwordHash: hashOf(run, 'h1'), passwordHistory: [], passwordChangedAt: now, updatedAt: now });
      });

      test("unknown id → 'not-found' (with and without expectedPasswordHash)", async (accounts, run) => {
        const id = run.id('usr');
        expect(await accounts.setPassword(id, { passwordHash: hashOf(run, 'h1'), historyLimit: 3, now: run.t0 })).toBe('not-found');
        expect(
          await accounts.setPassword(id, { passwordHash: hashOf(run, 'h1'), historyLimit: 3, now: run.t0, expectedPasswordHash: null }),
        ).toBe('not-found');
        expect(await accounts.findById(id)).toBeNull();
      });

      test('compare-and-set: the expected hash matches → changed', async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: hashOf(run, 'h0') });
        const updated = await accounts.setPassword(account.id, {
          passwordHash: hashOf(run, 'h1'),
          historyLimit: 3,
          now: run.t0 + minuteMs,
          expectedPasswordHash: hashOf(run, 'h0'),
        });
        expect(updated).toMatchObject({ passwordHash: hashOf(run, 'h1'), passwordHistory: [hashOf(run, 'h0')] });
      });

      test("compare-and-set: the expected hash differs → 'conflict' and nothing written", async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: hashOf(run, 'h0') });
        for (const expectedPasswordHash of [hashOf(run, 'other'), null]) {
          const outcome = await accounts.setPassword(account.id, {
            passwordHash: hashOf(run, 'h1'),
            historyLimit: 3,
            now: run.t0 + minuteMs,
            expectedPasswordHash,
          });
          expect(outcome, `expected ${String(expectedPasswordHash)}`).toBe('conflict');
        }
        expect(await accounts.findById(account.id)).toEqual(account);
      });

      test('compare-and-set: expectedPasswordHash null on an account without a password → changed', async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: null, passwordChangedAt: null });
        const now = run.t0 + minuteMs;
        const updated = await accounts.setPassword(account.id, { passwordHash: hashOf(run, 'h1'), historyLimit: 3, now, expectedPasswordHash: null });
        expect(updated).toEqual({ ...account, passwordHash: hashOf(run, 'h1'), passwordChangedAt: now, updatedAt: now });
      });

      test("compare-and-set: a hash expected on an account without a password → 'conflict'", async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: null, passwordChangedAt: null });
        const outcome = await accounts.setPassword(account.id, {
          passwordHash: hashOf(run, 'h1'),
          historyLimit: 3,
          now: run.t0 + minuteMs,
          expectedPasswordHash: hashOf(run, 'h0'),
        });
        expect(outcome).toBe('conflict');
        expect(await accounts.findById(account.id)).toEqual(account);
      });

      test("compare-and-set: of 10 concurrent changes from one expected hash exactly one wins, the others get 'conflict'", async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: hashOf(run, 'h0') });
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            accounts.setPassword(account.id, {
              passwordHash: hashOf(run, `next${index}`),
              historyLimit: 3,
              now: run.t0 + minuteMs,
              expectedPasswordHash: hashOf(run, 'h0'),
            }),
          ),
        );
        const winners = outcomes.filter((outcome): outcome is AccountRecord => typeof outcome === 'object');
        expect(winners).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome === 'conflict')).toHaveLength(9);
        const stored = await accounts.findById(account.id);
        expect(stored?.passwordHash).toBe(winners[0]!.passwordHash);
        expect(stored?.passwordHistory).toEqual([hashOf(run, 'h0')]);
      });
    });

    describe('rehashPassword', () => {
      test('the expected hash matches → true; the hash is replaced, history and passwordChangedAt untouched', async (accounts, run) => {
        const account = await createAccount(accounts, run, {
          passwordHash: hashOf(run, 'weak'),
          passwordHistory: [hashOf(run, 'older')],
          passwordChangedAt: run.t0 - minuteMs,
        });
        expect(await accounts.rehashPassword(account.id, hashOf(run, 'weak'), hashOf(run, 'strong'), run.t0 + minuteMs)).toBe(true);
        const stored = await accounts.findById(account.id);
        expect(stored).toMatchObject({
          passwordHash: hashOf(run, 'strong'),
          passwordHistory: [hashOf(run, 'older')],
          passwordChangedAt: run.t0 - minuteMs,
          email: account.email,
          createdAt: account.createdAt,
        });
      });

      test('the expected hash differs (a concurrent change won) → false and nothing written', async (accounts, run) => {
        const account = await createAccount(accounts, run, { passwordHash: hashOf(run, 'changed') });
        expect(await accounts.rehashPassword(account.id, hashOf(run, 'weak'), hashOf(run, 'strong'), run.t0 + minuteMs)).toBe(false);
        expect(await accounts.findById(account.id)).toEqual(account);
      });

      test('unknown id → false', async (accounts, run) => {
        expect(await accounts.rehashPassword(run.id('usr'), hashOf(run, 'weak'), hashOf(run, 'strong'), run.t0)).toBe(false);
      });
    });

    describe('update', () => {
      test('sets emailVerifiedAt and updatedAt and leaves every other field alone', async (accounts, run) => {
        const account = await createAccount(accounts, run);
        const now = run.t0 + minuteMs;
        const expected: AccountRecord = { ...account, emailVerifiedAt: now - 5, updatedAt: now };
        expect(await accounts.update(account.id, { emailVerifiedAt: now - 5 }, now)).toEqual(expected);
        expect(await accounts.findById(account.id)).toEqual(expected);
      });

      test('sets disabledAt without touching emailVerifiedAt, and null clears it', async (accounts, run) => {
        const account = await createAccount(accounts, run, { emailVerifiedAt: run.t0 - 1 });
        const disabled = await accounts.update(account.id, { disabledAt: run.t0 + minuteMs }, run.t0 + minuteMs);
        expect(disabled).toEqual({ ...account, disabledAt: run.t0 + minuteMs, updatedAt: run.t0 + minuteMs });
        const enabled = await accounts.update(account.id, { disabledAt: null }, run.t0 + 2 * minuteMs);
        expect(enabled).toEqual({ ...account, disabledAt: null, updatedAt: run.t0 + 2 * minuteMs });
        expect(await accounts.findById(account.id)).toEqual(enabled);
      });

      test('both flags at once, then both cleared', async (accounts, run) => {
        const account = await createAccount(accounts, run);
        const now = run.t0 + minuteMs;
        expect(await accounts.update(account.id, { emailVerifiedAt: now, disabledAt: now }, now)).toMatchObject({ emailVerifiedAt: now, disabledAt: now });
        const cleared = await accounts.update(account.id, { emailVerifiedAt: null, disabledAt: null }, now + 1);
        expect(cleared).toEqual({ ...account, updatedAt: now + 1 });
      });

      test('unknown id → null', async (accounts, run) => {
        expect(await accounts.update(run.id('usr'), { emailVerifiedAt: run.t0 }, run.t0)).toBeNull();
      });
    });

    describe('delete', () => {
      test('deletes the account (true), then reports false; the email is free again', async (accounts, run) => {
        const account = await createAccount(accounts, run);
        expect(await accounts.delete(account.id)).toBe(true);
        expect(await accounts.findById(account.id)).toBeNull();
        expect(await accounts.findByEmail(account.email)).toBeNull();
        expect(await accounts.delete(account.id)).toBe(false);
        const again = buildAccountRecord({ id: run.id('usr'), email: account.email, createdAt: run.t0 + 1 });
        expect(await accounts.create(again)).toBe('created');
        expect(await accounts.findByEmail(account.email)).toEqual(again);
      });

      test('deletes only that account', async (accounts, run) => {
        const kept = await createAccount(accounts, run);
        const removed = await createAccount(accounts, run);
        expect(await accounts.delete(removed.id)).toBe(true);
        expect(await accounts.findById(kept.id)).toEqual(kept);
      });
    });

    describe('copies', () => {
      test('mutating a returned record or the record passed to create changes nothing stored', async (accounts, run) => {
        const input = buildAccountRecord({ id: run.id('usr'), email: run.email(), createdAt: run.t0, passwordHistory: [hashOf(run, 'older')] });
        const pristine = structuredClone(input);
        expect(await accounts.create(input)).toBe('created');
        tamper(input, (passed) => {
          passed.email = run.email();
          passed.passwordHash = hashOf(run, 'tampered');
          (passed.passwordHistory as string[]).push(hashOf(run, 'tampered'));
        });
        tamper(await accounts.findById(pristine.id), (found) => {
          found.disabledAt = run.t0;
          (found.passwordHistory as string[]).length = 0;
        });
        tamper(await accounts.findByEmail(pristine.email), (found) => {
          found.passwordHash = hashOf(run, 'tampered');
        });

        const updated = await accounts.update(pristine.id, { emailVerifiedAt: run.t0 + 1 }, run.t0 + 1);
        const afterUpdate = { ...pristine, emailVerifiedAt: run.t0 + 1, updatedAt: run.t0 + 1 };
        expect(updated).toEqual(afterUpdate);
        tamper(updated, (record) => {
          record.emailVerifiedAt = null;
        });
        const changed = await accounts.setPassword(pristine.id, { passwordHash: hashOf(run, 'h1'), historyLimit: 3, now: run.t0 + 2 });
        if (typeof changed === 'string') throw new Error(`setPassword returned '${changed}'`);
        tamper(changed, (record) => {
          (record.passwordHistory as string[]).push(hashOf(run, 'tampered'));
        });

        expect(await accounts.findById(pristine.id)).toEqual({
          ...afterUpdate,
          passwordHash: hashOf(run, 'h1'),
          passwordHistory: [pristine.passwordHash, hashOf(run, 'older')],
          passwordChangedAt: run.t0 + 2,
          updatedAt: run.t0 + 2,
        });
      });
    });
  });
}
