import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import {
  AuthError,
  createRefreshTokenService,
  hashSecret,
  memoryRefreshTokenStore,
  type IssuedAccessToken,
  type MintAccessToken,
  type RefreshFamilyRecord,
  type RefreshTokenServiceOptions,
  type RefreshTokenStore,
} from '../../src/index.js';
import { recordStoreCalls, rejectionOf } from '../sessions/record-store-calls.js';

const START = Date.UTC(2026, 0, 1);
const SECOND = 1000;
const DAY = 86_400 * SECOND;
const OWNER = { userId: 'usr_alice', tenantId: 'tnt_acme', sessionId: 'ses_1' } as const;

function setup(overrides: Partial<RefreshTokenServiceOptions> = {}, wrapStore: (store: RefreshTokenStore) => RefreshTokenStore = (store) => store) {
  const clock = createManualClock(START);
  const memoryStore = memoryRefreshTokenStore();
  const { store, calls } = recordStoreCalls(wrapStore(memoryStore));
  const reused: RefreshFamilyRecord[] = [];
  const minted: RefreshFamilyRecord[] = [];
  let serial = 0;
  // Stands in for the access token service: a distinct token per call, claims with the
  // optional keys present but undefined (as the real claims are).
  const mint: MintAccessToken = async (family) => {
    minted.push(family);
    serial += 1;
    const iat = Math.floor(clock.now() / 1000);
    return {
      token: `access-${serial}`,
      claims: {
        sub: family.userId, tid: family.tenantId, sid: family.sessionId, jti: `jti_${serial}`, iat, iatMs: clock.now(),
        exp: iat + 900, iss: 'https://auth.example.com', aud: 'api', scope: undefined, roles: undefined, amr: ['pwd'],
      },
      expiresAt: (iat + 900) * 1000,
    } satisfies IssuedAccessToken;
  };
  const refresh = createRefreshTokenService({
    store,
    clock,
    onReuse: (family) => void reused.push(family),
    ...overrides,
  });
  const rotations = () => calls.filter((call) => call.method === 'rotate').length;
  return { clock, memoryStore, store, calls, refresh, mint, minted, reused, rotations };
}

describe('createRefreshTokenService options', () => {
  const store = memoryRefreshTokenStore();
  it.each([
    ['no options', undefined],
    ['no store', {}],
    ['a store without rotate', { store: { createFamily() {}, findFamily() {}, revokeFamily() {}, revokeByUser() {} } }],
    ['a grace window above 60 s', { store, graceSeconds: 61 }],
    ['a negative grace window', { store, graceSeconds: -1 }],
    ['a fractional ttl', { store, ttlSeconds: 1.5 }],
    ['a token ttl above the family ttl', { store, ttlSeconds: 100, familyTtlSeconds: 99 }],
    ['onReuse that is not a function', { store, onReuse: 'audit' }],
    ['a clock without now()', { store, clock: {} }],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, options) => {
    expect(() => createRefreshTokenService(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('defaults to 14-day tokens in 90-day families', async () => {
    const { refresh, mint } = setup();
    const pair = await refresh.startFamily(OWNER, mint);
    expect(pair.refreshExpiresAt).toBe(START + 14 * DAY);
    expect(pair.family.expiresAt).toBe(START + 90 * DAY);
  });
});

describe('refresh token service: startFamily', () => {
  it('opens a family for the sign-in and mints its first access token', async () => {
    const { refresh, mint, minted, memoryStore } = setup();
    const pair = await refresh.startFamily(OWNER, mint);
    expect(pair.family).toEqual({
      id: expect.stringMatching(/^rtf_[A-Za-z0-9_-]{43}$/),
      ...OWNER,
      createdAt: START,
      expiresAt: START + 90 * DAY,
      revokedAt: null,
      revokedReason: null,
    });
    expect(minted).toEqual([pair.family]);
    expect(pair.accessToken.token).toBe('access-1');
    expect(pair.refreshToken).toMatch(/^[A-Za-z0-9_-]{22}\.0\.[A-Za-z0-9_-]{43}$/);
    expect(await memoryStore.findFamily(pair.family.id)).toEqual(pair.family);
  });

  it('writes nothing when mint throws, and passes its error through', async () => {
    const { refresh, calls } = setup();
    const refusal = new AuthError('ACCOUNT_DISABLED', 'disabled');
    expect(await rejectionOf(refresh.startFamily(OWNER, async () => Promise.reject(refusal)))).toBe(refusal);
    expect(calls).toEqual([]);
  });

  it('refuses an invalid owner with VALIDATION_FAILED', async () => {
    const { refresh, mint, calls } = setup();
    for (const owner of [{ ...OWNER, userId: '' }, { userId: 'usr_1', tenantId: 'tnt_acme' }, { ...OWNER, extra: 1 }]) {
      expect(await rejectionOf(refresh.startFamily(owner as never, mint))).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(calls).toEqual([]);
  });
});

describe('refresh token service: rotate', () => {
  it('checklist: refresh rotates on every use', async () => {
    const { refresh, mint, clock } = setup({ graceSeconds: 10 });
    const first = await refresh.startFamily(OWNER, mint);
    const seen = new Set([first.refreshToken]);
    let current = first;
    for (let use = 1; use <= 3; use += 1) {
      clock.advance(60 * SECOND);
      const next = await refresh.rotate(current.refreshToken, mint);
      expect(seen.has(next.refreshToken)).toBe(false);
      expect(next.refreshToken.split('.')[1]).toBe(String(use));
      expect(next.accessToken.token).not.toBe(current.accessToken.token);
      expect(next.family.id).toBe(first.family.id);
      expect(next.refreshExpiresAt).toBe(clock.now() + 14 * DAY);
      seen.add(next.refreshToken);
      current = next;
    }
  });

  it('checklist: refresh reuse of a rotated token after the grace window revokes the whole family and emits the security event', async () => {
    const { refresh, mint, clock, reused, memoryStore } = setup({ graceSeconds: 10 });
    const first = await refresh.startFamily(OWNER, mint);
    const second = await refresh.rotate(first.refreshToken, mint);
    clock.advance(10 * SECOND); // the grace window is over

    // The attacker (or the victim) presents the rotated token again.
    expect(await rejectionOf(refresh.rotate(first.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
    expect(reused).toEqual([
      { ...first.family, revokedAt: clock.now(), revokedReason: 'reuse' },
    ]);
    expect(await memoryStore.findFamily(first.family.id)).toMatchObject({ revokedAt: clock.now(), revokedReason: 'reuse' });

    // The current, never-used descendant dies with the family.
    expect(await rejectionOf(refresh.rotate(second.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    // The family stays revoked; the event is not repeated.
    expect(await rejectionOf(refresh.rotate(first.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    expect(reused).toHaveLength(1);
  });

  it('checklist: refresh parallel refresh inside the grace window returns the same pair', async () => {
    const { refresh, mint, calls, rotations, memoryStore } = setup({ graceSeconds: 10 });
    const first = await refresh.startFamily(OWNER, mint);
    const pairs = await Promise.all(Array.from({ length: 5 }, () => refresh.rotate(first.refreshToken, mint)));

    // One rotation was written; the four others were answered from the sealed successor.
    expect(rotations()).toBe(5);
    expect(calls.filter((call) => call.method === 'createFamily')).toHaveLength(1);
    const [winner, ...others] = pairs;
    for (const pair of others) {
      expect(pair.refreshToken).toBe(winner!.refreshToken);
      expect(pair.accessToken.token).toBe(winner!.accessToken.token);
      // Exactly the same access token, optional claims included.
      expect(pair.accessToken).toStrictEqual(winner!.accessToken);
      expect(pair.refreshExpiresAt).toBe(winner!.refreshExpiresAt);
    }
    // The shared pair is the live one: it rotates on.
    const third = await refresh.rotate(winner!.refreshToken, mint);
    expect(third.family.id).toBe(first.family.id);
    expect(await memoryStore.findFamily(first.family.id)).toMatchObject({ revokedAt: null });
  });

  it('makes exactly one store write for five parallel refreshes with one token', async () => {
    let rotated = 0;
    let grace = 0;
    const { refresh, mint } = setup({}, (store) => ({
      ...store,
      rotate: async (input) => {
        const outcome = await store.rotate(input);
        if (outcome.outcome === 'rotated') rotated += 1;
        if (outcome.outcome === 'grace') grace += 1;
        return outcome;
      },
    }));
    const first = await refresh.startFamily(OWNER, mint);
    await Promise.all(Array.from({ length: 5 }, () => refresh.rotate(first.refreshToken, mint)));
    expect({ rotated, grace }).toEqual({ rotated: 1, grace: 4 });
  });

  it('hands out the same pair to a retry inside the grace window, and treats it as reuse at the window end', async () => {
    const { refresh, mint, clock, reused } = setup({ graceSeconds: 10 });
    const first = await refresh.startFamily(OWNER, mint);
    const second = await refresh.rotate(first.refreshToken, mint);
    clock.advance(10 * SECOND - 1);
    const retried = await refresh.rotate(first.refreshToken, mint);
    expect(retried).toStrictEqual(second);
    clock.advance(1);
    expect(await rejectionOf(refresh.rotate(first.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
    expect(reused).toHaveLength(1);
  });

  it('with graceSeconds 0, counts any second presentation as reuse', async () => {
    const { refresh, mint, reused } = setup({ graceSeconds: 0 });
    const first = await refresh.startFamily(OWNER, mint);
    await refresh.rotate(first.refreshToken, mint);
    expect(await rejectionOf(refresh.rotate(first.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
    expect(reused).toHaveLength(1);
  });

  it('awaits an async onReuse and keeps what it throws as the cause', async () => {
    const failure = new Error('audit log down');
    let finished = false;
    const { refresh, mint, clock } = setup({
      onReuse: async () => {
        await Promise.resolve();
        finished = true;
        throw failure;
      },
    });
    const first = await refresh.startFamily(OWNER, mint);
    await refresh.rotate(first.refreshToken, mint);
    clock.advance(60 * SECOND);
    const error = await rejectionOf(refresh.rotate(first.refreshToken, mint));
    expect(error).toMatchObject({ code: 'REFRESH_TOKEN_REUSED', cause: failure });
    expect(finished).toBe(true);
  });

  it('refuses a grace answer whose sealed pair does not open with REFRESH_TOKEN_INVALID', async () => {
    for (const sealed of [null, 'v1.AAAA', 'garbage']) {
      const { refresh, mint } = setup({}, (store) => ({
        ...store,
        rotate: async (input) => {
          const outcome = await store.rotate(input);
          return outcome.outcome === 'grace' ? { ...outcome, successorSealed: sealed } : outcome;
        },
      }));
      const first = await refresh.startFamily(OWNER, mint);
      await refresh.rotate(first.refreshToken, mint);
      expect(await rejectionOf(refresh.rotate(first.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    }
  });

  it('writes nothing when mint throws, and passes its error through', async () => {
    const { refresh, mint, rotations } = setup();
    const first = await refresh.startFamily(OWNER, mint);
    const refusal = new AuthError('MEMBERSHIP_INACTIVE', 'suspended');
    expect(await rejectionOf(refresh.rotate(first.refreshToken, async () => Promise.reject(refusal)))).toBe(refusal);
    expect(rotations()).toBe(0);
    // The token was not used up.
    expect((await refresh.rotate(first.refreshToken, mint)).refreshToken.split('.')[1]).toBe('1');
  });

  it.each([
    ['a number', 42],
    ['undefined', undefined],
    ['an empty string', ''],
    ['a session-style secret', 'a'.repeat(43)],
    ['a token without its generation', `${'a'.repeat(22)}..${'b'.repeat(43)}`],
    ['a generation with a leading zero', `${'a'.repeat(22)}.01.${'b'.repeat(43)}`],
    ['a secret one character short', `${'a'.repeat(22)}.0.${'b'.repeat(42)}`],
    ['characters outside base64url', `${'a'.repeat(22)}.0.${'b'.repeat(42)}=`],
    ['a huge value', 'a'.repeat(10_000)],
  ])('refuses %s with REFRESH_TOKEN_INVALID without asking the store', async (_label, presented) => {
    const { refresh, mint, calls, minted } = setup();
    expect(await rejectionOf(refresh.rotate(presented as never, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    expect(calls).toEqual([]);
    expect(minted).toEqual([]);
  });

  it('refuses a changed token (secret, generation or family part) with REFRESH_TOKEN_INVALID', async () => {
    const { refresh, mint, minted } = setup();
    const first = await refresh.startFamily(OWNER, mint);
    const [familyPart, , secret] = first.refreshToken.split('.') as [string, string, string];
    const flip = (value: string) => (value[0] === 'A' ? 'B' : 'A') + value.slice(1);
    for (const changed of [`${familyPart}.0.${flip(secret)}`, `${familyPart}.1.${secret}`, `${flip(familyPart)}.0.${secret}`]) {
      expect(await rejectionOf(refresh.rotate(changed, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    }
    // Minted for the sign-in and the two changes that keep a real family part; never for a
    // family part that names no family.
    expect(minted).toHaveLength(3);
    await refresh.rotate(first.refreshToken, mint);
  });

  it('checklist: refresh tokens stored hashed — no raw token reaches the store', async () => {
    const { refresh, mint, calls, clock } = setup();
    const first = await refresh.startFamily(OWNER, mint);
    const second = await refresh.rotate(first.refreshToken, mint);
    const graced = await refresh.rotate(first.refreshToken, mint);
    clock.advance(60 * SECOND);
    const third = await refresh.rotate(second.refreshToken, mint);
    await refresh.revokeByToken(third.refreshToken, 'logout');

    const tokens = [first.refreshToken, second.refreshToken, graced.refreshToken, third.refreshToken];
    const everything = calls.map((call) => call.json).join('\n');
    for (const token of tokens) {
      expect(everything).not.toContain(token);
      // Nor its rotating secret on its own.
      expect(everything).not.toContain(token.split('.')[2]);
    }
    expect(everything).toContain(hashSecret(first.refreshToken));
    expect(everything).toContain(hashSecret(third.refreshToken));
  });

  it('expires a token after its ttl', async () => {
    const { refresh, mint, clock } = setup({ ttlSeconds: 14 * 86_400 });
    const first = await refresh.startFamily(OWNER, mint);
    clock.advance(14 * DAY - 1);
    const second = await refresh.rotate(first.refreshToken, mint);
    clock.advance(14 * DAY);
    expect(await rejectionOf(refresh.rotate(second.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
  });

  it('ends the family at its absolute end, however often it rotates, and caps the last tokens by it', async () => {
    const { refresh, mint, clock, minted } = setup({ ttlSeconds: 14 * 86_400, familyTtlSeconds: 30 * 86_400 });
    const first = await refresh.startFamily(OWNER, mint);
    const familyEnd = first.family.expiresAt;
    let current = first;
    for (let day = 10; day <= 20; day += 10) {
      clock.set(START + day * DAY);
      current = await refresh.rotate(current.refreshToken, mint);
    }
    // Rotated on day 20: 14 days would end on day 34, the family ends on day 30.
    expect(current.refreshExpiresAt).toBe(familyEnd);
    clock.set(familyEnd - 1);
    current = await refresh.rotate(current.refreshToken, mint);
    expect(current.refreshExpiresAt).toBe(familyEnd);
    clock.set(familyEnd);
    const mintedBefore = minted.length;
    expect(await rejectionOf(refresh.rotate(current.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    expect(minted).toHaveLength(mintedBefore);
  });
});

describe('refresh token service: revocation', () => {
  it('revokeByToken revokes the family of any of its tokens; a token that is not one is a no-op', async () => {
    const { refresh, mint, memoryStore, clock } = setup();
    const first = await refresh.startFamily(OWNER, mint);
    const second = await refresh.rotate(first.refreshToken, mint);
    const other = await refresh.startFamily(OWNER, mint);

    expect(await refresh.revokeByToken('not a token', 'logout')).toBe(false);
    expect(await refresh.revokeByToken(`${'a'.repeat(22)}.0.${'b'.repeat(43)}`, 'logout')).toBe(false);
    expect(await refresh.revokeByToken(second.refreshToken, 'logout')).toBe(true);
    expect(await refresh.revokeByToken(second.refreshToken, 'logout')).toBe(false);
    expect(await memoryStore.findFamily(first.family.id)).toMatchObject({ revokedAt: clock.now(), revokedReason: 'logout' });
    expect(await rejectionOf(refresh.rotate(second.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    await refresh.rotate(other.refreshToken, mint);
    expect(await rejectionOf(refresh.revokeByToken(second.refreshToken, ''))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('revokeFamily revokes one family once, keeping its first reason', async () => {
    const { refresh, mint, memoryStore } = setup();
    const pair = await refresh.startFamily(OWNER, mint);
    expect(await refresh.revokeFamily(pair.family.id, 'admin')).toBe(true);
    expect(await refresh.revokeFamily(pair.family.id, 'logout')).toBe(false);
    expect(await refresh.revokeFamily('rtf_unknown', 'admin')).toBe(false);
    expect(await memoryStore.findFamily(pair.family.id)).toMatchObject({ revokedReason: 'admin' });
    expect(await rejectionOf(refresh.rotate(pair.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
  });

  it("revokeUser revokes the user's live families, or only those of one session", async () => {
    const { refresh, mint } = setup();
    const laptop = await refresh.startFamily(OWNER, mint);
    const phone = await refresh.startFamily({ ...OWNER, sessionId: 'ses_2' }, mint);
    const api = await refresh.startFamily({ ...OWNER, sessionId: null }, mint);
    const bob = await refresh.startFamily({ ...OWNER, userId: 'usr_bob' }, mint);

    expect(await refresh.revokeUser(OWNER.userId, 'session-ended', { sessionId: 'ses_2' })).toEqual([phone.family.id]);
    expect(await rejectionOf(refresh.rotate(phone.refreshToken, mint))).toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    await refresh.rotate(laptop.refreshToken, mint);

    expect([...(await refresh.revokeUser(OWNER.userId, 'password-reset'))].sort()).toEqual([laptop.family.id, api.family.id].sort());
    expect(await refresh.revokeUser(OWNER.userId, 'password-reset')).toEqual([]);
    await refresh.rotate(bob.refreshToken, mint);
    expect(await rejectionOf(refresh.revokeUser('', 'x'))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
