// Conformance cases of `SessionStore` (packages/auth/src/store.ts).
import type { SessionRecord, SessionStore } from '@tenantkit/auth';
import { describe, expect } from 'vitest';
import { buildSessionRecord } from './auth-record-builders.js';
import { dayMs, hourMs, minuteMs, sorted, storeTest, tamper, type AuthConformanceRun, type AuthSuiteContext } from './auth-suite-context.js';

function newSession(run: AuthConformanceRun, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return buildSessionRecord({ id: run.id('ses'), tokenHash: run.id('sth'), userId: run.id('usr'), createdAt: run.t0, ...overrides });
}

async function createSession(sessions: SessionStore, run: AuthConformanceRun, overrides: Partial<SessionRecord> = {}): Promise<SessionRecord> {
  const session = newSession(run, overrides);
  expect(await sessions.create(session)).toBe('created');
  return session;
}

/** Registers the session cases. */
export function describeSessionStoreCases(context: AuthSuiteContext): void {
  const test = (name: string, body: (sessions: SessionStore, run: AuthConformanceRun) => Promise<void>) =>
    storeTest(context, 'sessions', name, body);

  describe('sessions', () => {
    describe('create / find', () => {
      test("create returns 'created'; findById and findByTokenHash return the record field for field", async (sessions, run) => {
        const session = await createSession(sessions, run, {
          tenantId: 'tnt_acme',
          amr: ['pwd', 'otp', 'hwk'],
          device: { userAgent: 'curl/8.5 — ünïcödé 🚀', ip: '2001:db8::1', label: null },
          lastSeenAt: run.t0 + 5,
          expiresAt: run.t0 + hourMs,
          absoluteExpiresAt: run.t0 + dayMs,
        });
        expect(await sessions.findById(session.id, run.t0)).toEqual(session);
        expect(await sessions.findByTokenHash(session.tokenHash, run.t0)).toEqual(session);
      });

      test('device fields may all be null', async (sessions, run) => {
        const session = await createSession(sessions, run, { device: { userAgent: null, ip: null, label: null }, amr: [] });
        expect(await sessions.findById(session.id, run.t0)).toEqual(session);
      });

      test("a taken id → 'id-taken' and nothing written", async (sessions, run) => {
        const first = await createSession(sessions, run);
        const second = newSession(run, { id: first.id, userId: run.id('usr') });
        expect(await sessions.create(second)).toBe('id-taken');
        expect(await sessions.findById(first.id, run.t0)).toEqual(first);
        expect(await sessions.findByTokenHash(second.tokenHash, run.t0)).toBeNull();
        expect(await sessions.listByUser(second.userId, run.t0)).toEqual([]);
      });

      test('unknown id and unknown token hash → null', async (sessions, run) => {
        await createSession(sessions, run);
        expect(await sessions.findById(run.id('ses'), run.t0)).toBeNull();
        expect(await sessions.findByTokenHash(run.id('sth'), run.t0)).toBeNull();
      });

      test('a session expired at now (now = expiresAt) is absent for both lookups; a millisecond earlier it is found', async (sessions, run) => {
        const session = await createSession(sessions, run, { expiresAt: run.t0 + hourMs });
        const justBefore = run.t0 + hourMs - 1;
        expect(await sessions.findById(session.id, justBefore)).toEqual(session);
        expect(await sessions.findByTokenHash(session.tokenHash, justBefore)).toEqual(session);
        for (const now of [run.t0 + hourMs, run.t0 + 2 * hourMs]) {
          expect(await sessions.findById(session.id, now), `findById at +${now - run.t0}ms`).toBeNull();
          expect(await sessions.findByTokenHash(session.tokenHash, now), `findByTokenHash at +${now - run.t0}ms`).toBeNull();
        }
      });
    });

    describe('touch', () => {
      test('slides: lastSeenAt = now and expiresAt = the new expiry, stored', async (sessions, run) => {
        const session = await createSession(sessions, run, { expiresAt: run.t0 + hourMs, absoluteExpiresAt: run.t0 + dayMs });
        const now = run.t0 + 30 * minuteMs;
        const expected = { ...session, lastSeenAt: now, expiresAt: now + hourMs };
        expect(await sessions.touch(session.id, { now, expiresAt: now + hourMs })).toEqual(expected);
        expect(await sessions.findById(session.id, now)).toEqual(expected);
        // Past the original idle expiry, the slid session is still live.
        expect(await sessions.findByTokenHash(session.tokenHash, run.t0 + hourMs + minuteMs)).toEqual(expected);
      });

      test('never moves expiresAt backwards (lastSeenAt still moves)', async (sessions, run) => {
        const session = await createSession(sessions, run, { expiresAt: run.t0 + 2 * hourMs, absoluteExpiresAt: run.t0 + dayMs });
        const now = run.t0 + 10 * minuteMs;
        const touched = await sessions.touch(session.id, { now, expiresAt: run.t0 + hourMs });
        expect(touched).toEqual({ ...session, lastSeenAt: now, expiresAt: run.t0 + 2 * hourMs });
        expect((await sessions.findById(session.id, now))?.expiresAt).toBe(run.t0 + 2 * hourMs);
      });

      test('never moves expiresAt past absoluteExpiresAt', async (sessions, run) => {
        const session = await createSession(sessions, run, { expiresAt: run.t0 + hourMs, absoluteExpiresAt: run.t0 + 2 * hourMs });
        const now = run.t0 + 30 * minuteMs;
        const touched = await sessions.touch(session.id, { now, expiresAt: run.t0 + dayMs });
        expect(touched).toEqual({ ...session, lastSeenAt: now, expiresAt: run.t0 + 2 * hourMs });
        expect(await sessions.findById(session.id, run.t0 + 2 * hourMs)).toBeNull();
      });

      test('an expired session (now = expiresAt) → null and it is not revived', async (sessions, run) => {
        const session = await createSession(sessions, run, { expiresAt: run.t0 + hourMs });
        const now = run.t0 + hourMs;
        expect(await sessions.touch(session.id, { now, expiresAt: now + hourMs })).toBeNull();
        // The store may delete it lazily; it must not have slid it.
        expect(await sessions.findById(session.id, now)).toBeNull();
        expect(await sessions.findByTokenHash(session.tokenHash, now + minuteMs)).toBeNull();
      });

      test('unknown id → null', async (sessions, run) => {
        expect(await sessions.touch(run.id('ses'), { now: run.t0, expiresAt: run.t0 + hourMs })).toBeNull();
        expect(await sessions.findById(run.id('ses'), run.t0)).toBeNull();
      });
    });

    describe('rotate', () => {
      test("'rotated': the old id and token hash are no longer found, the new ones are", async (sessions, run) => {
        const session = await createSession(sessions, run, { tenantId: 'tnt_acme' });
        const next: SessionRecord = { ...session, id: run.id('ses'), tokenHash: run.id('sth'), tenantId: 'tnt_globex', amr: ['pwd', 'otp'] };
        const now = run.t0 + minuteMs;
        expect(await sessions.rotate(session.id, next, now)).toBe('rotated');
        expect(await sessions.findById(session.id, now)).toBeNull();
        expect(await sessions.findByTokenHash(session.tokenHash, now)).toBeNull();
        expect(await sessions.findById(next.id, now)).toEqual(next);
        expect(await sessions.findByTokenHash(next.tokenHash, now)).toEqual(next);
        expect(await sessions.listByUser(session.userId, now)).toEqual([next]);
      });

      test("unknown id → 'not-found' and nothing written", async (sessions, run) => {
        const next = newSession(run);
        expect(await sessions.rotate(run.id('ses'), next, run.t0)).toBe('not-found');
        expect(await sessions.findById(next.id, run.t0)).toBeNull();
        expect(await sessions.findByTokenHash(next.tokenHash, run.t0)).toBeNull();
      });

      test("an expired session (now = expiresAt) → 'not-found' and nothing written", async (sessions, run) => {
        const session = await createSession(sessions, run, { expiresAt: run.t0 + hourMs });
        const next: SessionRecord = { ...session, id: run.id('ses'), tokenHash: run.id('sth'), expiresAt: run.t0 + 3 * hourMs };
        const now = run.t0 + hourMs;
        expect(await sessions.rotate(session.id, next, now)).toBe('not-found');
        expect(await sessions.findById(next.id, now)).toBeNull();
        expect(await sessions.findByTokenHash(next.tokenHash, now)).toBeNull();
      });

      test("next.id taken by another session → 'id-taken' and nothing written", async (sessions, run) => {
        const session = await createSession(sessions, run);
        const other = await createSession(sessions, run);
        const next: SessionRecord = { ...session, id: other.id, tokenHash: run.id('sth') };
        expect(await sessions.rotate(session.id, next, run.t0 + minuteMs)).toBe('id-taken');
        expect(await sessions.findById(session.id, run.t0 + minuteMs)).toEqual(session);
        expect(await sessions.findByTokenHash(session.tokenHash, run.t0 + minuteMs)).toEqual(session);
        expect(await sessions.findById(other.id, run.t0 + minuteMs)).toEqual(other);
        expect(await sessions.findByTokenHash(next.tokenHash, run.t0 + minuteMs)).toBeNull();
      });
    });

    describe('listByUser', () => {
      test('lists the live sessions of the user, newest createdAt first, without expired ones or other users', async (sessions, run) => {
        const userId = run.id('usr');
        const middle = await createSession(sessions, run, { userId, createdAt: run.t0 - 2 * minuteMs });
        const newest = await createSession(sessions, run, { userId, createdAt: run.t0 - minuteMs });
        const oldest = await createSession(sessions, run, { userId, createdAt: run.t0 - 3 * minuteMs });
        await createSession(sessions, run, { userId, createdAt: run.t0 - 4 * minuteMs, expiresAt: run.t0 + minuteMs });
        await createSession(sessions, run, { createdAt: run.t0 });
        expect(await sessions.listByUser(userId, run.t0 + 2 * minuteMs)).toEqual([newest, middle, oldest]);
      });

      test('unknown user → []', async (sessions, run) => {
        await createSession(sessions, run);
        expect(await sessions.listByUser(run.id('usr'), run.t0)).toEqual([]);
      });
    });

    describe('delete / deleteByUser', () => {
      test('delete removes the session (true), then reports false', async (sessions, run) => {
        const session = await createSession(sessions, run);
        const kept = await createSession(sessions, run, { userId: session.userId, createdAt: run.t0 - 1 });
        expect(await sessions.delete(session.id)).toBe(true);
        expect(await sessions.findById(session.id, run.t0)).toBeNull();
        expect(await sessions.findByTokenHash(session.tokenHash, run.t0)).toBeNull();
        expect(await sessions.delete(session.id)).toBe(false);
        expect(await sessions.listByUser(session.userId, run.t0)).toEqual([kept]);
      });

      test('deleteByUser with exceptId deletes every other session of the user and returns their ids', async (sessions, run) => {
        const userId = run.id('usr');
        const first = await createSession(sessions, run, { userId, createdAt: run.t0 - 3 });
        const current = await createSession(sessions, run, { userId, createdAt: run.t0 - 2 });
        const third = await createSession(sessions, run, { userId, createdAt: run.t0 - 1 });
        const otherUser = await createSession(sessions, run);
        expect(sorted(await sessions.deleteByUser(userId, { exceptId: current.id }))).toEqual(sorted([first.id, third.id]));
        expect(await sessions.listByUser(userId, run.t0)).toEqual([current]);
        expect(await sessions.findByTokenHash(first.tokenHash, run.t0)).toBeNull();
        expect(await sessions.findById(otherUser.id, run.t0)).toEqual(otherUser);
      });

      test('deleteByUser without options deletes all of them; an unknown user → []', async (sessions, run) => {
        const userId = run.id('usr');
        const one = await createSession(sessions, run, { userId, createdAt: run.t0 - 2 });
        const two = await createSession(sessions, run, { userId, createdAt: run.t0 - 1 });
        const otherUser = await createSession(sessions, run);
        expect(sorted(await sessions.deleteByUser(userId))).toEqual(sorted([one.id, two.id]));
        expect(await sessions.listByUser(userId, run.t0)).toEqual([]);
        expect(await sessions.deleteByUser(userId)).toEqual([]);
        expect(await sessions.deleteByUser(run.id('usr'))).toEqual([]);
        expect(await sessions.listByUser(otherUser.userId, run.t0)).toEqual([otherUser]);
      });
    });

    describe('copies', () => {
      test('mutating a returned record or the record passed to create changes nothing stored', async (sessions, run) => {
        const input = newSession(run);
        const pristine = structuredClone(input);
        expect(await sessions.create(input)).toBe('created');
        tamper(input, (passed) => {
          passed.userId = run.id('usr');
          (passed.amr as string[]).push('tampered');
          (passed.device as { label: string | null }).label = 'tampered';
        });
        tamper(await sessions.findById(pristine.id, run.t0), (found) => {
          found.expiresAt = run.t0 + 365 * dayMs;
          (found.amr as string[]).length = 0;
        });
        tamper(await sessions.findByTokenHash(pristine.tokenHash, run.t0), (found) => {
          (found.device as { ip: string | null }).ip = '198.51.100.1';
        });
        const touched = await sessions.touch(pristine.id, { now: run.t0 + 1, expiresAt: pristine.expiresAt + 1 });
        tamper(touched, (record) => {
          record.absoluteExpiresAt = run.t0 + 365 * dayMs;
        });
        const [listed] = await sessions.listByUser(pristine.userId, run.t0 + 1);
        tamper(listed, (record) => {
          record.tenantId = 'tnt_tampered';
        });
        expect(await sessions.findById(pristine.id, run.t0 + 1)).toEqual({ ...pristine, lastSeenAt: run.t0 + 1, expiresAt: pristine.expiresAt + 1 });
      });
    });
  });
}
