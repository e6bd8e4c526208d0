// Conformance cases of `RefreshTokenStore` (packages/auth/src/store.ts).
import type { RefreshFamilyRecord, RefreshTokenRecord, RefreshTokenStore } from '@tenantkit/auth';
import { describe, expect } from 'vitest';
import { buildRefreshFamilyRecord, buildRefreshTokenRecord } from './auth-record-builders.js';
import { dayMs, hourMs, minuteMs, sorted, storeTest, tamper, type AuthConformanceRun, type AuthSuiteContext } from './auth-suite-context.js';

const graceMs = 10_000;

interface CreatedFamily {
  readonly family: RefreshFamilyRecord;
  readonly first: RefreshTokenRecord;
}

async function createFamily(
  refreshTokens: RefreshTokenStore,
  run: AuthConformanceRun,
  familyOverrides: Partial<RefreshFamilyRecord> = {},
  tokenOverrides: Partial<RefreshTokenRecord> = {},
): Promise<CreatedFamily> {
  const family = buildRefreshFamilyRecord({ id: run.id('rtf'), userId: run.id('usr'), createdAt: run.t0, ...familyOverrides });
  const first = buildRefreshTokenRecord({ tokenHash: run.id('rth'), familyId: family.id, issuedAt: run.t0, ...tokenOverrides });
  expect(await refreshTokens.createFamily(family, first)).toBe('created');
  return { family, first };
}

function successorOf(run: AuthConformanceRun, token: RefreshTokenRecord, issuedAt: number): RefreshTokenRecord {
  return buildRefreshTokenRecord({ tokenHash: run.id('rth'), familyId: token.familyId, generation: token.generation + 1, issuedAt });
}

/** Rotates `token` at `now` to a fresh successor; resolves the outcome and the successor offered. */
async function rotateOnce(
  refreshTokens: RefreshTokenStore,
  run: AuthConformanceRun,
  token: RefreshTokenRecord,
  now: number,
): Promise<{ outcome: Awaited<ReturnType<RefreshTokenStore['rotate']>>; next: RefreshTokenRecord; successorSealed: string }> {
  const next = successorOf(run, token, now);
  const successorSealed = `sealed:${next.tokenHash}`;
  const outcome = await refreshTokens.rotate({ presentedHash: token.tokenHash, next, successorSealed, now, graceMs });
  return { outcome, next, successorSealed };
}

/** Registers the refresh-token cases. */
export function describeRefreshTokenStoreCases(context: AuthSuiteContext): void {
  const test = (name: string, body: (refreshTokens: RefreshTokenStore, run: AuthConformanceRun) => Promise<void>) =>
    storeTest(context, 'refreshTokens', name, body);

  describe('refreshTokens', () => {
    describe('createFamily / findFamily', () => {
      test("createFamily returns 'created'; findFamily returns the family field for field", async (refreshTokens, run) => {
        const { family } = await createFamily(refreshTokens, run, { tenantId: 'tnt_acme', sessionId: run.id('ses'), expiresAt: run.t0 + 7 * dayMs });
        expect(await refreshTokens.findFamily(family.id)).toEqual(family);
      });

      test("a taken family id → 'id-taken'; neither the family nor its first token is written", async (refreshTokens, run) => {
        const { family } = await createFamily(refreshTokens, run);
        const duplicate = buildRefreshFamilyRecord({ id: family.id, userId: run.id('usr'), createdAt: run.t0 + 1 });
        const duplicateFirst = buildRefreshTokenRecord({ tokenHash: run.id('rth'), familyId: family.id, issuedAt: run.t0 + 1 });
        expect(await refreshTokens.createFamily(duplicate, duplicateFirst)).toBe('id-taken');
        expect(await refreshTokens.findFamily(family.id)).toEqual(family);
        const { outcome } = await rotateOnce(refreshTokens, run, duplicateFirst, run.t0 + minuteMs);
        expect(outcome).toEqual({ outcome: 'invalid' });
      });

      test('unknown family → null', async (refreshTokens, run) => {
        expect(await refreshTokens.findFamily(run.id('rtf'))).toBeNull();
      });
    });

    describe('rotate', () => {
      test("'rotated': the presented token is marked and the next one is stored and current", async (refreshTokens, run) => {
        const { family, first } = await createFamily(refreshTokens, run);
        const now = run.t0 + minuteMs;
        const { outcome, next, successorSealed } = await rotateOnce(refreshTokens, run, first, now);
        expect(outcome).toEqual({ outcome: 'rotated', family });
        // Marked: presenting it again inside the grace window returns what the first refresh stored.
        expect((await rotateOnce(refreshTokens, run, first, now + graceMs - 1)).outcome).toEqual({ outcome: 'grace', family, successorSealed });
        // Inserted: the successor is current and rotates in turn.
        expect((await rotateOnce(refreshTokens, run, next, now + minuteMs)).outcome).toEqual({ outcome: 'rotated', family });
        expect(await refreshTokens.findFamily(family.id)).toEqual(family);
      });

      test("20 concurrent rotations of one token → exactly one 'rotated'; the others 'grace' with the winner's successorSealed", async (refreshTokens, run) => {
        const { family, first } = await createFamily(refreshTokens, run);
        const now = run.t0 + minuteMs;
        const attempts = Array.from({ length: 20 }, () => {
          const next = successorOf(run, first, now);
          return { next, successorSealed: `sealed:${next.tokenHash}` };
        });
        const outcomes = await Promise.all(
          attempts.map(({ next, successorSealed }) => refreshTokens.rotate({ presentedHash: first.tokenHash, next, successorSealed, now, graceMs })),
        );
        const winners = outcomes.flatMap((outcome, index) => (outcome.outcome === 'rotated' ? [index] : []));
        expect(winners).toHaveLength(1);
        const winner = attempts[winners[0]!]!;
        for (const [index, outcome] of outcomes.entries()) {
          if (index === winners[0]) continue;
          expect(outcome, `attempt ${index}`).toEqual({ outcome: 'grace', family, successorSealed: winner.successorSealed });
        }
        // Only the winner's successor was stored.
        for (const [index, attempt] of attempts.entries()) {
          if (attempt === winner) continue;
          expect((await rotateOnce(refreshTokens, run, attempt.next, now + 1)).outcome, `loser ${index}'s successor`).toEqual({ outcome: 'invalid' });
        }
        expect((await rotateOnce(refreshTokens, run, winner.next, now + 1)).outcome).toEqual({ outcome: 'rotated', family });
      });

      test("a rotated token presented after graceMs → 'reused', the family is revoked (reason 'reuse') and its descendant is then 'invalid'", async (refreshTokens, run) => {
        const { family, first } = await createFamily(refreshTokens, run);
        const rotatedAt = run.t0 + minuteMs;
        const { next } = await rotateOnce(refreshTokens, run, first, rotatedAt);
        const reuseAt = rotatedAt + graceMs + 1;
        const reused = await rotateOnce(refreshTokens, run, first, reuseAt);
        expect(reused.outcome).toMatchObject({ outcome: 'reused', family: { id: family.id, userId: family.userId } });
        const revoked = { ...family, revokedAt: reuseAt, revokedReason: 'reuse' };
        expect(await refreshTokens.findFamily(family.id)).toEqual(revoked);
        // The never-used successor dies with its family; nothing of the reuse attempt was stored.
        expect((await rotateOnce(refreshTokens, run, next, reuseAt + 1)).outcome).toEqual({ outcome: 'invalid' });
        expect((await rotateOnce(refreshTokens, run, reused.next, reuseAt + 1)).outcome).toEqual({ outcome: 'invalid' });
        // Presented once more, the token of the revoked family is just invalid.
        expect((await rotateOnce(refreshTokens, run, first, reuseAt + 2)).outcome).toEqual({ outcome: 'invalid' });
        expect(await refreshTokens.findFamily(family.id)).toEqual(revoked);
      });

      test('an expired token (now = expiresAt) → invalid and nothing written; a millisecond earlier it rotates', async (refreshTokens, run) => {
        const expiresAt = run.t0 + hourMs;
        const { first } = await createFamily(refreshTokens, run, {}, { expiresAt });
        const expired = await rotateOnce(refreshTokens, run, first, expiresAt);
        expect(expired.outcome).toEqual({ outcome: 'invalid' });
        expect((await rotateOnce(refreshTokens, run, expired.next, expiresAt + 1)).outcome).toEqual({ outcome: 'invalid' });
        expect((await rotateOnce(refreshTokens, run, first, expiresAt + minuteMs)).outcome).toEqual({ outcome: 'invalid' });
        const live = await createFamily(refreshTokens, run, {}, { expiresAt });
        expect((await rotateOnce(refreshTokens, run, live.first, expiresAt - 1)).outcome).toEqual({ outcome: 'rotated', family: live.family });
      });

      test('an expired family (now = family.expiresAt) → invalid, even with a live token; a millisecond earlier it rotates', async (refreshTokens, run) => {
        const expiresAt = run.t0 + hourMs;
        const { first } = await createFamily(refreshTokens, run, { expiresAt }, { expiresAt: run.t0 + dayMs });
        const expired = await rotateOnce(refreshTokens, run, first, expiresAt);
        expect(expired.outcome).toEqual({ outcome: 'invalid' });
        expect((await rotateOnce(refreshTokens, run, expired.next, expiresAt + 1)).outcome).toEqual({ outcome: 'invalid' });
        const live = await createFamily(refreshTokens, run, { expiresAt }, { expiresAt: run.t0 + dayMs });
        expect((await rotateOnce(refreshTokens, run, live.first, expiresAt - 1)).outcome).toEqual({ outcome: 'rotated', family: live.family });
      });

      test('a revoked family → invalid', async (refreshTokens, run) => {
        const { family, first } = await createFamily(refreshTokens, run);
        expect(await refreshTokens.revokeFamily(family.id, 'logout', run.t0 + 1)).toBe(true);
        const attempt = await rotateOnce(refreshTokens, run, first, run.t0 + minuteMs);
        expect(attempt.outcome).toEqual({ outcome: 'invalid' });
        expect((await rotateOnce(refreshTokens, run, attempt.next, run.t0 + minuteMs + 1)).outcome).toEqual({ outcome: 'invalid' });
        expect(await refreshTokens.findFamily(family.id)).toEqual({ ...family, revokedAt: run.t0 + 1, revokedReason: 'logout' });
      });

      test('an unknown token → invalid', async (refreshTokens, run) => {
        await createFamily(refreshTokens, run);
        const unknown = buildRefreshTokenRecord({ tokenHash: run.id('rth'), familyId: run.id('rtf'), issuedAt: run.t0 });
        expect((await rotateOnce(refreshTokens, run, unknown, run.t0 + minuteMs)).outcome).toEqual({ outcome: 'invalid' });
      });

      test('a chain of rotations keeps one current token; every earlier one is grace, then reuse', async (refreshTokens, run) => {
        const { family, first } = await createFamily(refreshTokens, run);
        let current = first;
        const chain: RefreshTokenRecord[] = [first];
        for (let step = 1; step <= 3; step += 1) {
          const { outcome, next } = await rotateOnce(refreshTokens, run, current, run.t0 + step * minuteMs);
          expect(outcome, `rotation ${step}`).toEqual({ outcome: 'rotated', family });
          current = next;
          chain.push(next);
        }
        // The second token, rotated at +2min, comes back much later.
        const reuseAt = run.t0 + hourMs;
        expect((await rotateOnce(refreshTokens, run, chain[1]!, reuseAt)).outcome).toMatchObject({ outcome: 'reused', family: { id: family.id } });
        expect((await rotateOnce(refreshTokens, run, current, reuseAt + 1)).outcome).toEqual({ outcome: 'invalid' });
      });
    });

    describe('revokeFamily / revokeByUser', () => {
      test('revokeFamily is idempotent: the first reason and time stay; unknown → false', async (refreshTokens, run) => {
        const { family } = await createFamily(refreshTokens, run);
        expect(await refreshTokens.revokeFamily(family.id, 'logout', run.t0 + 1)).toBe(true);
        expect(await refreshTokens.revokeFamily(family.id, 'admin', run.t0 + 2)).toBe(false);
        expect(await refreshTokens.findFamily(family.id)).toEqual({ ...family, revokedAt: run.t0 + 1, revokedReason: 'logout' });
        expect(await refreshTokens.revokeFamily(run.id('rtf'), 'logout', run.t0)).toBe(false);
      });

      test('revokeByUser with sessionId revokes only that session’s live families; without it, every live one; returns the ids', async (refreshTokens, run) => {
        const userId = run.id('usr');
        const sessionA = run.id('ses');
        const sessionB = run.id('ses');
        const a1 = (await createFamily(refreshTokens, run, { userId, sessionId: sessionA })).family;
        const a2 = (await createFamily(refreshTokens, run, { userId, sessionId: sessionA })).family;
        const b1 = (await createFamily(refreshTokens, run, { userId, sessionId: sessionB })).family;
        const noSession = (await createFamily(refreshTokens, run, { userId, sessionId: null })).family;
        const alreadyRevoked = (await createFamily(refreshTokens, run, { userId, sessionId: sessionA })).family;
        expect(await refreshTokens.revokeFamily(alreadyRevoked.id, 'logout', run.t0 + 1)).toBe(true);
        const otherUser = (await createFamily(refreshTokens, run, { sessionId: sessionA })).family;

        const bySession = await refreshTokens.revokeByUser(userId, 'user-revoked', run.t0 + 2, { sessionId: sessionA });
        expect(sorted(bySession)).toEqual(sorted([a1.id, a2.id]));
        expect(await refreshTokens.findFamily(a1.id)).toEqual({ ...a1, revokedAt: run.t0 + 2, revokedReason: 'user-revoked' });
        expect(await refreshTokens.findFamily(b1.id)).toEqual(b1);
        expect(await refreshTokens.findFamily(otherUser.id)).toEqual(otherUser);

        const all = await refreshTokens.revokeByUser(userId, 'password-reset', run.t0 + 3);
        expect(sorted(all)).toEqual(sorted([b1.id, noSession.id]));
        expect(await refreshTokens.findFamily(b1.id)).toEqual({ ...b1, revokedAt: run.t0 + 3, revokedReason: 'password-reset' });
        expect(await refreshTokens.findFamily(a2.id)).toEqual({ ...a2, revokedAt: run.t0 + 2, revokedReason: 'user-revoked' });
        expect(await refreshTokens.findFamily(alreadyRevoked.id)).toEqual({ ...alreadyRevoked, revokedAt: run.t0 + 1, revokedReason: 'logout' });
        expect(await refreshTokens.findFamily(otherUser.id)).toEqual(otherUser);

        expect(await refreshTokens.revokeByUser(userId, 'admin', run.t0 + 4)).toEqual([]);
        expect(await refreshTokens.revokeByUser(run.id('usr'), 'admin', run.t0 + 4)).toEqual([]);
      });

      test('revokeByUser makes the tokens of the revoked families invalid', async (refreshTokens, run) => {
        const userId = run.id('usr');
        const { first } = await createFamily(refreshTokens, run, { userId });
        expect(await refreshTokens.revokeByUser(userId, 'password-reset', run.t0 + 1)).toHaveLength(1);
        expect((await rotateOnce(refreshTokens, run, first, run.t0 + minuteMs)).outcome).toEqual({ outcome: 'invalid' });
      });
    });

    describe('copies', () => {
      test('mutating a returned family or the records passed to createFamily changes nothing stored', async (refreshTokens, run) => {
        const family = buildRefreshFamilyRecord({ id: run.id('rtf'), userId: run.id('usr'), createdAt: run.t0 });
        const first = buildRefreshTokenRecord({ tokenHash: run.id('rth'), familyId: family.id, issuedAt: run.t0, expiresAt: run.t0 + hourMs });
        const pristineFamily = structuredClone(family);
        const pristineFirst = structuredClone(first);
        expect(await refreshTokens.createFamily(family, first)).toBe('created');
        tamper(family, (passed) => {
          passed.revokedAt = run.t0;
          passed.expiresAt = run.t0 + 1;
        });
        tamper(first, (passed) => {
          passed.expiresAt = run.t0 + 1;
        });
        tamper(await refreshTokens.findFamily(family.id), (found) => {
          found.revokedReason = 'tampered';
          found.revokedAt = run.t0;
        });
        const { outcome } = await rotateOnce(refreshTokens, run, pristineFirst, run.t0 + minuteMs);
        expect(outcome).toEqual({ outcome: 'rotated', family: pristineFamily });
        if (outcome.outcome === 'rotated') tamper(outcome.family, (returned) => void (returned.revokedAt = run.t0));
        expect(await refreshTokens.findFamily(family.id)).toEqual(pristineFamily);
      });
    });
  });
}
