// Tests of the Redis auth stores beyond the shared conformance suite, run on a single node and
// on a Cluster: atomic paths under real concurrency from two connections, the key layout and
// TTLs, script-cache loss, driver failures, corrupt data and hostile ids.
import { createManualClock } from '@tenantkit/core';
import {
  buildOneTimeTokenRecord,
  buildRefreshFamilyRecord,
  buildRefreshTokenRecord,
  buildSessionRecord,
} from '@tenantkit/test-utils';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAuthStores } from '../../../src/adapters/redis.js';
import { createRedisAuthKeyspace } from '../../../src/adapters/redis/redis-auth-keyspace.js';
import type { RefreshRotateOutcome } from '../../../src/store.js';
import { scanKeys } from './redis-test-keys.js';

const code = (c: string) => expect.objectContaining({ code: c });
const hourMs = 3_600_000;
const dayMs = 24 * hourMs;

export interface RedisSpecificsTarget {
  /** Opens a second, independent connection (closed by the suite). */
  readonly connect: () => Redis | Cluster;
  /** The file's shared client. */
  readonly client: () => Redis | Cluster;
  readonly keyPrefix: string;
  /**
   * Whether the suite may SCRIPT FLUSH the target: only a server of the test file's own (the
   * local Cluster); the shared Redis is flushed by `redis-local-server.test.ts` on its own server.
   */
  readonly mayFlushScripts: boolean;
}

let sequence = 0;
const unique = (label: string) => `${label}_${process.pid}_${Date.now().toString(36)}_${++sequence}`;

async function flushScripts(client: Redis | Cluster): Promise<void> {
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  for (const node of nodes) await node.script('FLUSH');
}

export function describeRedisAuthStoreSpecifics(name: string, target: RedisSpecificsTarget): void {
  describe(`${name}: Redis specifics`, () => {
    let second: Redis | Cluster;
    const keyPrefix = target.keyPrefix;
    const keys = createRedisAuthKeyspace(keyPrefix);
    const storesOf = (client: Redis | Cluster) => redisAuthStores(client, { keyPrefix });

    beforeAll(async () => {
      second = target.connect();
      await second.ping();
    });

    afterAll(async () => {
      await second?.quit();
    });

    describe('atomic paths under concurrency from two connections', () => {
      it("20 concurrent refreshes of one token: exactly one 'rotated', the 19 others 'grace' with the winner's sealed successor", async () => {
        const [a, b] = [storesOf(target.client()), storesOf(second)];
        const now = Date.now();
        const family = buildRefreshFamilyRecord({ id: unique('rtf'), userId: unique('usr'), createdAt: now });
        const first = buildRefreshTokenRecord({ tokenHash: unique('rth'), familyId: family.id, issuedAt: now });
        expect(await a.refreshTokens.createFamily(family, first)).toBe('created');
        const attempts = Array.from({ length: 20 }, (_, index) => {
          const next = buildRefreshTokenRecord({ tokenHash: unique(`next${index}`), familyId: family.id, generation: 1, issuedAt: now + 1 });
          const stores = index % 2 === 0 ? a : b;
          return { next, sealed: `sealed:${next.tokenHash}`, outcome: stores.refreshTokens.rotate({ presentedHash: first.tokenHash, next, successorSealed: `sealed:${next.tokenHash}`, now: now + 1, graceMs: 10_000 }) };
        });
        const outcomes: RefreshRotateOutcome[] = await Promise.all(attempts.map((attempt) => attempt.outcome));
        const winners = outcomes.flatMap((outcome, index) => (outcome.outcome === 'rotated' ? [attempts[index]!] : []));
        expect(winners).toHaveLength(1);
        const winner = winners[0]!;
        const graces = outcomes.filter((outcome) => outcome.outcome === 'grace');
        expect(graces).toHaveLength(19);
        for (const grace of graces) expect(grace).toEqual({ outcome: 'grace', family, successorSealed: winner.sealed });
        // The winner's successor is current, from either connection; a loser's never existed.
        const loser = attempts.find((attempt) => attempt !== winner)!;
        const third = (presented: string) =>
          b.refreshTokens.rotate({
            presentedHash: presented,
            next: buildRefreshTokenRecord({ tokenHash: unique('gen2'), familyId: family.id, generation: 2, issuedAt: now + 2 }),
            successorSealed: 'sealed:gen2',
            now: now + 2,
            graceMs: 10_000,
          });
        expect(await third(loser.next.tokenHash)).toEqual({ outcome: 'invalid' });
        expect(await third(winner.next.tokenHash)).toEqual({ outcome: 'rotated', family });
        expect(await scanKeys(target.client(), keys.refreshTokenIndex(loser.next.tokenHash))).toEqual([]);
      });

      it("20 concurrent reuses after the grace window: every one 'reused' or 'invalid', the family revoked once with reason 'reuse'", async () => {
        const [a, b] = [storesOf(target.client()), storesOf(second)];
        const now = Date.now();
        const family = buildRefreshFamilyRecord({ id: unique('rtf'), userId: unique('usr'), createdAt: now });
        const first = buildRefreshTokenRecord({ tokenHash: unique('rth'), familyId: family.id, issuedAt: now });
        await a.refreshTokens.createFamily(family, first);
        const next = buildRefreshTokenRecord({ tokenHash: unique('rth'), familyId: family.id, generation: 1, issuedAt: now });
        expect((await a.refreshTokens.rotate({ presentedHash: first.tokenHash, next, successorSealed: 's', now, graceMs: 1_000 })).outcome).toBe('rotated');
        const later = now + 5_000;
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            (index % 2 === 0 ? a : b).refreshTokens.rotate({
              presentedHash: first.tokenHash,
              next: buildRefreshTokenRecord({ tokenHash: unique('late'), familyId: family.id, generation: 1, issuedAt: later }),
              successorSealed: 'late',
              now: later,
              graceMs: 1_000,
            }),
          ),
        );
        // The first script to run revokes; the family is then revoked, so the rest are invalid.
        expect(outcomes.filter((outcome) => outcome.outcome === 'reused')).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome.outcome === 'invalid')).toHaveLength(19);
        expect(await b.refreshTokens.findFamily(family.id)).toEqual({ ...family, revokedAt: later, revokedReason: 'reuse' });
      });

      it('20 concurrent consumes of one one-time token from two connections: exactly one gets the record', async () => {
        const [a, b] = [storesOf(target.client()), storesOf(second)];
        const now = Date.now();
        const token = buildOneTimeTokenRecord({ tokenHash: unique('ott'), subject: unique('usr'), createdAt: now });
        expect(await a.oneTimeTokens.issue(token)).toBe(0);
        const taken = await Promise.all(
          Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? a : b).oneTimeTokens.consume(token.tokenHash, 'password-reset', now + 1)),
        );
        expect(taken.filter((record) => record !== null)).toEqual([token]);
      });

      it('20 concurrent reissues for one subject: exactly one token survives and every other was voided once', async () => {
        const [a, b] = [storesOf(target.client()), storesOf(second)];
        const now = Date.now();
        const subject = unique('usr');
        const tokens = Array.from({ length: 20 }, (_, index) => buildOneTimeTokenRecord({ tokenHash: unique(`ott${index}`), subject, createdAt: now }));
        const voided = await Promise.all(tokens.map((token, index) => (index % 2 === 0 ? a : b).oneTimeTokens.issue(token)));
        expect(voided.reduce((sum, count) => sum + count, 0)).toBe(19);
        const survivors = await Promise.all(tokens.map((token) => a.oneTimeTokens.consume(token.tokenHash, 'password-reset', now + 1)));
        expect(survivors.filter((record) => record !== null)).toHaveLength(1);
      });

      it("20 concurrent session creates with one id by 20 users: exactly one 'created', the id resolves to it", async () => {
        const [a, b] = [storesOf(target.client()), storesOf(second)];
        const now = Date.now();
        const id = unique('ses');
        const candidates = Array.from({ length: 20 }, (_, index) => buildSessionRecord({ id, tokenHash: unique('sth'), userId: unique(`usr${index}`), createdAt: now }));
        const outcomes = await Promise.all(candidates.map((session, index) => (index % 2 === 0 ? a : b).sessions.create(session)));
        expect(outcomes.filter((outcome) => outcome === 'created')).toHaveLength(1);
        const winner = candidates[outcomes.indexOf('created')]!;
        expect(await b.sessions.findById(id, now)).toEqual(winner);
        for (const [index, candidate] of candidates.entries()) {
          if (candidate === winner) continue;
          expect(await a.sessions.findByTokenHash(candidate.tokenHash, now), `loser ${index}`).toBeNull();
          expect(await a.sessions.listByUser(candidate.userId, now)).toEqual([]);
        }
      });

      it("10 concurrent rotations of one session: exactly one 'rotated', the others 'not-found', and only the winner's id and token resolve", async () => {
        const [a, b] = [storesOf(target.client()), storesOf(second)];
        const now = Date.now();
        const session = buildSessionRecord({ id: unique('ses'), tokenHash: unique('sth'), userId: unique('usr'), createdAt: now });
        await a.sessions.create(session);
        const nexts = Array.from({ length: 10 }, (_, index) => ({ ...session, id: unique(`ses${index}`), tokenHash: unique(`sth${index}`) }));
        const outcomes = await Promise.all(nexts.map((next, index) => (index % 2 === 0 ? a : b).sessions.rotate(session.id, next, now + 1)));
        expect(outcomes.filter((outcome) => outcome === 'rotated')).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome === 'not-found')).toHaveLength(9);
        const winner = nexts[outcomes.indexOf('rotated')]!;
        expect(await a.sessions.listByUser(session.userId, now + 1)).toEqual([winner]);
        for (const next of nexts) {
          expect(await b.sessions.findById(next.id, now + 1)).toEqual(next === winner ? winner : null);
          expect(await b.sessions.findByTokenHash(next.tokenHash, now + 1)).toEqual(next === winner ? winner : null);
        }
        expect(await a.sessions.findById(session.id, now + 1)).toBeNull();
        expect(await a.sessions.findByTokenHash(session.tokenHash, now + 1)).toBeNull();
        // A loser's id was released: it can be used again.
        const loser = nexts.find((next) => next !== winner)!;
        expect(await a.sessions.create({ ...loser, tokenHash: unique('sth') })).toBe('created');
      });
    });

    describe('key layout and TTLs', () => {
      it("keeps a user's sessions and families under the user's hash tag, hostile ids percent-encoded", async () => {
        const stores = storesOf(target.client());
        const now = Date.now();
        const userId = `usr}:{${unique('x')} *`;
        const session = buildSessionRecord({ id: `ses:{1}_${unique('s')}`, tokenHash: unique('sth'), userId, createdAt: now });
        expect(await stores.sessions.create(session)).toBe('created');
        expect(await stores.sessions.findById(session.id, now)).toEqual(session);
        const family = buildRefreshFamilyRecord({ id: unique('rtf'), userId, createdAt: now });
        await stores.refreshTokens.createFamily(family, buildRefreshTokenRecord({ tokenHash: unique('rth'), familyId: family.id, issuedAt: now }));
        const tag = `{u:${encodeURIComponent(userId)}}`;
        const userKeys = (await scanKeys(target.client(), `${keyPrefix}${tag}`)).sort();
        expect(userKeys).toEqual(
          [keys.session(userId, session.id), keys.userFamilies(userId), keys.userSessions(userId)].sort(),
        );
        expect(userKeys.every((key) => key.indexOf('}') === key.indexOf(tag) + tag.length - 1)).toBe(true);
        expect(await stores.sessions.deleteByUser(userId)).toEqual([session.id]);
        expect(await stores.refreshTokens.revokeByUser(userId, 'admin', now)).toEqual([family.id]);
      });

      it('gives records a PX TTL from their own end and epochs none', async () => {
        const client = target.client();
        const clock = createManualClock(Date.now());
        const stores = redisAuthStores(client, { keyPrefix, clock });
        const now = clock.now();
        const session = buildSessionRecord({ id: unique('ses'), tokenHash: unique('sth'), userId: unique('usr'), createdAt: now, expiresAt: now + hourMs });
        await stores.sessions.create(session);
        const sessionTtl = await client.pttl(keys.session(session.userId, session.id));
        expect(sessionTtl).toBeGreaterThan(hourMs - 60_000);
        expect(sessionTtl).toBeLessThanOrEqual(hourMs);
        await stores.sessions.touch(session.id, { now: now + 1_000, expiresAt: now + 1_000 + 2 * hourMs });
        expect(await client.pttl(keys.session(session.userId, session.id))).toBeGreaterThan(hourMs);
        expect(await client.pttl(keys.userSessions(session.userId))).toBeGreaterThan(hourMs);

        await stores.revocations.revokeToken('jti-ttl', now + dayMs);
        expect(await client.pttl(keys.revokedJti('jti-ttl'))).toBeGreaterThan(dayMs - 60_000);
        // Already over by the store's clock: kept a minute, so a check at an earlier `now` still sees it.
        await stores.revocations.revokeSession('ses-ttl', now - 1);
        expect(await client.pttl(keys.revokedSession('ses-ttl'))).toBeLessThanOrEqual(60_000);
        expect((await stores.revocations.check({ jti: 'x', sessionId: 'ses-ttl', userId: 'u', tenantId: null }, now - 2)).sessionRevoked).toBe(true);
        expect(await stores.revocations.raiseEpoch('user', 'usr-ttl', now)).toBe(now);
        expect(await client.pttl(keys.epoch('user', 'usr-ttl'))).toBe(-1);
      });
    });

    describe('failures', () => {
      if (target.mayFlushScripts) {
        it('runs its scripts again after the script cache was flushed (EVAL on NOSCRIPT)', async () => {
          const stores = storesOf(target.client());
          const now = Date.now();
          const session = buildSessionRecord({ id: unique('ses'), tokenHash: unique('sth'), userId: unique('usr'), createdAt: now });
          await flushScripts(target.client());
          expect(await stores.sessions.create(session)).toBe('created');
          await flushScripts(target.client());
          expect(await stores.sessions.touch(session.id, { now, expiresAt: now + 2 * dayMs })).toMatchObject({ id: session.id });
        });
      }

      it('rejects with STORE_UNAVAILABLE when Redis cannot be reached', async () => {
        const { Redis: RedisClient } = await import('ioredis');
        const unreachable = new RedisClient({ host: '127.0.0.1', port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
        unreachable.on('error', () => undefined);
        try {
          const stores = redisAuthStores(unreachable, { keyPrefix });
          await expect(stores.sessions.findById('ses_1', Date.now())).rejects.toEqual(code('STORE_UNAVAILABLE'));
          await expect(stores.revocations.check({ jti: 'j', sessionId: null, userId: 'u', tenantId: null }, Date.now())).rejects.toEqual(code('STORE_UNAVAILABLE'));
          await expect(stores.oneTimeTokens.voidFor('password-reset', 'usr_1')).rejects.toEqual(code('STORE_UNAVAILABLE'));
        } finally {
          unreachable.disconnect();
        }
      });

      it('rejects with STORE_CONFLICT on a session hash it cannot have written', async () => {
        const client = target.client();
        const stores = storesOf(client);
        const now = Date.now();
        const session = buildSessionRecord({ id: unique('ses'), tokenHash: unique('sth'), userId: unique('usr'), createdAt: now });
        await stores.sessions.create(session);
        await client.hset(keys.session(session.userId, session.id), 'expiresAt', 'soon');
        await expect(stores.sessions.findById(session.id, now)).rejects.toEqual(code('STORE_CONFLICT'));
      });

      it('refuses bad options, a non-client and a client keyPrefix with braces (CONFIGURATION_INVALID)', () => {
        const client = target.client();
        expect(() => redisAuthStores(client, { keyPrefix: 'a{b}:' })).toThrow(code('CONFIGURATION_INVALID'));
        expect(() => redisAuthStores(client, { keyPrefix: 'a b' })).toThrow(code('CONFIGURATION_INVALID'));
        expect(() => redisAuthStores(client, { unknown: true } as never)).toThrow(code('CONFIGURATION_INVALID'));
        expect(() => redisAuthStores({} as never)).toThrow(code('CONFIGURATION_INVALID'));
        const braced = Object.assign(Object.create(client) as object, { options: { keyPrefix: '{app}:' } });
        expect(() => redisAuthStores(braced as never)).toThrow(code('CONFIGURATION_INVALID'));
      });

      it('refuses records it could not store exactly (VALIDATION_FAILED), writing nothing', async () => {
        const stores = storesOf(target.client());
        const now = Date.now();
        const userId = unique('usr');
        const lone = buildSessionRecord({ id: unique('ses'), tokenHash: unique('sth'), userId, createdAt: now, tenantId: '\ud800' });
        await expect(stores.sessions.create(lone)).rejects.toEqual(code('VALIDATION_FAILED'));
        await expect(stores.sessions.create({ ...lone, tenantId: null, expiresAt: Number.NaN })).rejects.toEqual(code('VALIDATION_FAILED'));
        await expect(stores.sessions.findById('', now)).rejects.toEqual(code('VALIDATION_FAILED'));
        expect(await stores.sessions.listByUser(userId, now)).toEqual([]);
      });
    });
  });
}
