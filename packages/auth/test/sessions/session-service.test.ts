import { createManualClock } from '@tenantkit/core';
import { createMembershipService, createTenantRegistry, memoryMembershipStore, memoryTenantStore } from '@tenantkit/tenant-context';
import { describe, expect, it } from 'vitest';
import {
  createSessionService,
  hashSecret,
  memorySessionStore,
  type RevocationService,
  type SessionServiceOptions,
} from '../../src/index.js';
import { memoryRevocationStore } from '../../src/adapters/memory/memory-revocation-store.js';
import { createRevocationService } from '../../src/revocation/create-revocation-service.js';
import { recordStoreCalls, rejectionOf } from './record-store-calls.js';

const START = Date.UTC(2026, 0, 1);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 86_400 * SECOND;
/** The default revocationRetentionSeconds: a 900 s access token plus 30 s of clock tolerance. */
const RETENTION = 930 * SECOND;
const ALICE = 'usr_alice';
const BOB = 'usr_bob';

async function setup(overrides: Partial<SessionServiceOptions> = {}) {
  const clock = createManualClock(START);
  const memoryStore = memorySessionStore({ clock });
  const { store, calls } = recordStoreCalls(memoryStore);
  const realRevocation = createRevocationService({ store: memoryRevocationStore({ clock }), clock });
  const revokedSessions: { readonly id: string; readonly until: number }[] = [];
  // The real revocation service, with its session revocations recorded.
  const revocation: RevocationService = {
    revokeToken: (jti, until) => realRevocation.revokeToken(jti, until),
    revokeSession: async (id, until) => {
      revokedSessions.push({ id, until });
      await realRevocation.revokeSession(id, until);
    },
    revokeUser: (userId) => realRevocation.revokeUser(userId),
    revokeTenant: (tenantId) => realRevocation.revokeTenant(tenantId),
    announce: (event) => realRevocation.announce(event),
    isRevoked: (subject) => realRevocation.isRevoked(subject),
    onEvent: (listener) => realRevocation.onEvent(listener),
    close: () => realRevocation.close(),
  };

  const registry = createTenantRegistry({ store: memoryTenantStore(), clock });
  const memberships = createMembershipService({ store: memoryMembershipStore(), registry, clock });
  for (const slug of ['acme', 'globex', 'initech']) {
    await registry.createTenant({ id: `tnt_${slug}`, slug, name: slug, status: 'active' });
  }
  await memberships.addMember('tnt_acme', ALICE, { status: 'active' });
  await memberships.addMember('tnt_initech', ALICE, { status: 'invited' });

  const sessions = createSessionService({ store, revocation, memberships, clock, ...overrides });
  /** Whether an access token carrying `sid` (issued now) is refused. */
  const sidRevoked = async (sid: string) =>
    realRevocation.isRevoked({ jti: `jti_${sid}`, sid, sub: ALICE, tid: null, issuedAtMs: clock.now() });
  return { clock, memoryStore, store, calls, sessions, revokedSessions, sidRevoked, memberships };
}

describe('createSessionService options', () => {
  const clock = createManualClock(START);
  const store = memorySessionStore({ clock });
  const revocation = createRevocationService({ store: memoryRevocationStore({ clock }), clock });

  it.each([
    ['no options', undefined],
    ['no store', { revocation }],
    ['a store without methods', { store: {}, revocation }],
    ['no revocation', { store }],
    ['a revocation service without revokeSession', { store, revocation: {} }],
    ['memberships without requireActiveMembership', { store, revocation, memberships: {} }],
    ['a fractional idle timeout', { store, revocation, idleTimeoutSeconds: 1.5 }],
    ['an idle timeout above the absolute one', { store, revocation, idleTimeoutSeconds: 3_600, absoluteTimeoutSeconds: 600 }],
    ['a touch interval as long as the idle timeout', { store, revocation, idleTimeoutSeconds: 600, touchIntervalSeconds: 600 }],
    ['a negative touch interval', { store, revocation, touchIntervalSeconds: -1 }],
    ['a clock without now()', { store, revocation, clock: {} }],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, options) => {
    expect(() => createSessionService(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('defaults to a 7-day idle timeout under a 30-day absolute one', async () => {
    const { sessions } = await setup();
    const { session } = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    expect(session.expiresAt).toBe(START + 7 * DAY);
    expect(session.absoluteExpiresAt).toBe(START + 30 * DAY);
  });
});

describe('session service: create', () => {
  it('issues a 256-bit base64url secret and records the session with its device', async () => {
    const { sessions, clock } = await setup({ idleTimeoutSeconds: 3_600, absoluteTimeoutSeconds: 86_400 });
    const { session, token } = await sessions.create({
      userId: ALICE,
      tenantId: 'tnt_acme',
      amr: ['pwd', 'otp'],
      device: { userAgent: 'x'.repeat(2_000), ip: '203.0.113.7' },
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session).toEqual({
      id: expect.stringMatching(/^ses_[0-9a-z]{20}$/),
      tokenHash: hashSecret(token),
      userId: ALICE,
      tenantId: 'tnt_acme',
      amr: ['pwd', 'otp'],
      // Device facts are informational: overlong ones are cut, missing ones are null.
      device: { userAgent: 'x'.repeat(512), ip: '203.0.113.7', label: null },
      createdAt: clock.now(),
      lastSeenAt: clock.now(),
      expiresAt: clock.now() + 3_600 * SECOND,
      absoluteExpiresAt: clock.now() + 86_400 * SECOND,
    });
    expect(await sessions.validate(token)).toEqual(session);
  });

  it.each([
    ['an empty user id', { userId: '', tenantId: null, amr: [] }],
    ['a missing tenant', { userId: ALICE, amr: [] }],
    ['amr that is not a list', { userId: ALICE, tenantId: null, amr: 'pwd' }],
    ['an unknown field', { userId: ALICE, tenantId: null, amr: [], admin: true }],
    ['a device ip that is not a string', { userId: ALICE, tenantId: null, amr: [], device: { ip: 7 } }],
  ])('refuses %s with VALIDATION_FAILED and writes nothing', async (_label, input) => {
    const { sessions, calls } = await setup();
    expect(await rejectionOf(sessions.create(input as never))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(calls).toEqual([]);
  });

  it('checklist: session id changes on login — every sign-in gets a new session id and secret', async () => {
    const { sessions } = await setup();
    const first = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    const second = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    expect(second.session.id).not.toBe(first.session.id);
    expect(second.token).not.toBe(first.token);
    expect(second.session.tokenHash).not.toBe(first.session.tokenHash);
    expect((await sessions.list(ALICE)).map((s) => s.id).sort()).toEqual([first.session.id, second.session.id].sort());
  });

  it('checklist: tokens hashed at rest — the store never sees a session secret', async () => {
    const { sessions, memoryStore, calls, clock } = await setup();
    const issued = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    await sessions.validate(issued.token);
    clock.advance(5 * MINUTE);
    await sessions.validate(issued.token);
    const rotated = await sessions.rotate(issued.token, { amr: ['pwd', 'otp'] });
    const switched = await sessions.switchTenant(rotated.token, 'tnt_acme');
    const secrets = [issued.token, rotated.token, switched.token];

    // What is stored: only hashes of the secrets.
    const stored = await memoryStore.listByUser(ALICE, clock.now());
    expect(stored).toHaveLength(1);
    expect(stored[0]!.tokenHash).toBe(hashSecret(switched.token));
    const storedJson = JSON.stringify(stored);
    // What ever crossed the store boundary, in any call.
    expect(calls.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(storedJson).not.toContain(secret);
      for (const call of calls) expect(call.json).not.toContain(secret);
    }
  });
});

describe('session service: validate and sliding expiry', () => {
  it.each([
    ['a number', 42],
    ['undefined', undefined],
    ['an empty string', ''],
    ['a value one character short', 'a'.repeat(42)],
    ['a value one character long', 'a'.repeat(44)],
    ['a value with characters outside base64url', `${'a'.repeat(42)}=`],
    ['a value with a dot', `${'a'.repeat(42)}.`],
  ])('refuses %s with SESSION_INVALID without asking the store', async (_label, token) => {
    const { sessions, calls } = await setup();
    expect(await rejectionOf(sessions.validate(token as never))).toMatchObject({ code: 'SESSION_INVALID' });
    expect(await rejectionOf(sessions.rotate(token as never))).toMatchObject({ code: 'SESSION_INVALID' });
    expect(await rejectionOf(sessions.switchTenant(token as never, 'tnt_acme'))).toMatchObject({ code: 'SESSION_INVALID' });
    expect(calls).toEqual([]);
  });

  it('refuses a well-formed secret that belongs to no session with SESSION_INVALID', async () => {
    const { sessions } = await setup();
    await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    expect(await rejectionOf(sessions.validate('A'.repeat(43)))).toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('writes the sliding expiry at most once per touch interval, not on every request', async () => {
    const { sessions, calls, clock } = await setup({ idleTimeoutSeconds: 3_600, touchIntervalSeconds: 60 });
    const { token, session } = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    const touches = () => calls.filter((call) => call.method === 'touch').length;

    clock.advance(30 * SECOND);
    expect(await sessions.validate(token)).toEqual(session);
    clock.advance(29 * SECOND);
    await sessions.validate(token);
    expect(touches()).toBe(0);

    clock.advance(SECOND); // 60 s since the last write
    const touched = await sessions.validate(token);
    expect(touches()).toBe(1);
    expect(touched).toMatchObject({ lastSeenAt: clock.now(), expiresAt: clock.now() + 3_600 * SECOND });

    clock.advance(59 * SECOND);
    await sessions.validate(token);
    expect(touches()).toBe(1);
  });

  it('expires an idle session, keeps a used one alive, and never slides past the absolute end', async () => {
    const { sessions, clock } = await setup({ idleTimeoutSeconds: 3_600, absoluteTimeoutSeconds: 4 * 3_600, touchIntervalSeconds: 60 });
    const idle = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    const used = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });

    // Used every 50 minutes: the idle one dies after an hour, the used one lives on.
    for (let step = 0; step < 4; step += 1) {
      clock.advance(50 * MINUTE);
      const session = await sessions.validate(used.token);
      expect(session.expiresAt).toBe(Math.min(clock.now() + 3_600 * SECOND, used.session.absoluteExpiresAt));
    }
    expect(await rejectionOf(sessions.validate(idle.token))).toMatchObject({ code: 'SESSION_INVALID' });

    // 3 h 20 min in: the idle expiry is capped by the absolute end (4 h).
    expect((await sessions.validate(used.token)).expiresAt).toBe(used.session.absoluteExpiresAt);
    clock.set(used.session.absoluteExpiresAt - 1);
    await sessions.validate(used.token);
    clock.set(used.session.absoluteExpiresAt);
    expect(await rejectionOf(sessions.validate(used.token))).toMatchObject({ code: 'SESSION_INVALID' });
  });
});

describe('session service: rotate and switchTenant', () => {
  it('checklist: session id changes on privilege change — rotate issues a new id and secret and revokes the old sid', async () => {
    const { sessions, clock, revokedSessions, sidRevoked } = await setup();
    const before = await sessions.create({ userId: ALICE, tenantId: 'tnt_acme', amr: ['pwd'], device: { label: 'Laptop' } });
    clock.advance(10 * MINUTE);

    const after = await sessions.rotate(before.token, { amr: ['pwd', 'otp'] });
    expect(after.session.id).not.toBe(before.session.id);
    expect(after.token).not.toBe(before.token);
    expect(after.session).toMatchObject({
      userId: ALICE,
      tenantId: 'tnt_acme',
      amr: ['pwd', 'otp'],
      device: before.session.device,
      // Same sign-in: its start and absolute end stay.
      createdAt: before.session.createdAt,
      absoluteExpiresAt: before.session.absoluteExpiresAt,
      lastSeenAt: clock.now(),
    });

    expect(await rejectionOf(sessions.validate(before.token))).toMatchObject({ code: 'SESSION_INVALID' });
    expect(await sessions.validate(after.token)).toEqual(after.session);
    expect(revokedSessions).toEqual([{ id: before.session.id, until: before.session.absoluteExpiresAt + RETENTION }]);
    // Access tokens carrying the old sid stop working; those of the new one do not.
    expect(await sidRevoked(before.session.id)).toBe(true);
    expect(await sidRevoked(after.session.id)).toBe(false);

    // Without changes the amr stays.
    const again = await sessions.rotate(after.token);
    expect(again.session.amr).toEqual(['pwd', 'otp']);
  });

  it('lets exactly one of two concurrent rotations of one session win', async () => {
    const { sessions } = await setup();
    const { token } = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    const results = await Promise.allSettled([sessions.rotate(token), sessions.rotate(token)]);
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((result) => result.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toMatchObject({ code: 'SESSION_INVALID' });
    expect(await sessions.list(ALICE)).toHaveLength(1);
  });

  it('refuses to rotate an expired or revoked session with SESSION_INVALID', async () => {
    const { sessions, clock } = await setup({ idleTimeoutSeconds: 3_600 });
    const expired = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    const revoked = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    await sessions.revoke(ALICE, revoked.session.id);
    expect(await rejectionOf(sessions.rotate(revoked.token))).toMatchObject({ code: 'SESSION_INVALID' });
    clock.advance(3_600 * SECOND);
    expect(await rejectionOf(sessions.rotate(expired.token))).toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('refuses invalid rotation changes with VALIDATION_FAILED', async () => {
    const { sessions } = await setup();
    const { token } = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    expect(await rejectionOf(sessions.rotate(token, { amr: 'otp' } as never))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await rejectionOf(sessions.rotate(token, { tenantId: 'tnt_acme' } as never))).toMatchObject({ code: 'VALIDATION_FAILED' });
    await sessions.validate(token);
  });

  it('checklist: session id changes on privilege change — switchTenant to a tenant of an active membership', async () => {
    const { sessions, revokedSessions, sidRevoked } = await setup();
    const before = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });

    const after = await sessions.switchTenant(before.token, 'tnt_acme');
    expect(after.session.id).not.toBe(before.session.id);
    expect(after.token).not.toBe(before.token);
    expect(after.session).toMatchObject({ userId: ALICE, tenantId: 'tnt_acme', amr: ['pwd'], absoluteExpiresAt: before.session.absoluteExpiresAt });
    expect(await sessions.validate(after.token)).toEqual(after.session);
    expect(await rejectionOf(sessions.validate(before.token))).toMatchObject({ code: 'SESSION_INVALID' });
    expect(revokedSessions).toEqual([{ id: before.session.id, until: before.session.absoluteExpiresAt + RETENTION }]);
    expect(await sidRevoked(before.session.id)).toBe(true);
  });

  it.each([
    ['a tenant the user is not a member of', 'tnt_globex', 'MEMBERSHIP_NOT_FOUND'],
    ['a tenant that does not exist', 'tnt_nowhere', 'MEMBERSHIP_NOT_FOUND'],
    ['a tenant the user is only invited to', 'tnt_initech', 'MEMBERSHIP_INACTIVE'],
  ])('checklist: switching tenant refused without membership — %s', async (_label, tenantId, code) => {
    const { sessions, revokedSessions, calls } = await setup();
    const before = await sessions.create({ userId: ALICE, tenantId: 'tnt_acme', amr: ['pwd'] });

    expect(await rejectionOf(sessions.switchTenant(before.token, tenantId))).toMatchObject({ code });
    // Nothing changed: same session, same tenant, nothing revoked.
    expect(await sessions.validate(before.token)).toEqual(before.session);
    expect(revokedSessions).toEqual([]);
    expect(calls.filter((call) => call.method === 'rotate')).toEqual([]);
  });

  it('checklist: switching tenant refused without membership — a membership suspended after sign-in', async () => {
    const { sessions, memberships } = await setup();
    const { token } = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    await memberships.setMemberStatus('tnt_acme', ALICE, 'suspended');
    expect(await rejectionOf(sessions.switchTenant(token, 'tnt_acme'))).toMatchObject({ code: 'MEMBERSHIP_INACTIVE' });
    expect((await sessions.validate(token)).tenantId).toBeNull();
  });

  it('refuses switchTenant with CONFIGURATION_INVALID when no memberships option was given', async () => {
    const clock = createManualClock(START);
    const store = memorySessionStore({ clock });
    const sessions = createSessionService({ store, revocation: createRevocationService({ store: memoryRevocationStore({ clock }), clock }), clock });
    const { token, session } = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    expect(await rejectionOf(sessions.switchTenant(token, 'tnt_acme'))).toMatchObject({ code: 'CONFIGURATION_INVALID' });
    expect(await sessions.validate(token)).toEqual(session);
  });

  it('refuses an invalid tenant id with VALIDATION_FAILED', async () => {
    const { sessions } = await setup();
    const { token } = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    expect(await rejectionOf(sessions.switchTenant(token, ''))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('session service: list, revoke, revokeAll', () => {
  it('lists the live sessions of the user, newest first, with device info', async () => {
    const { sessions, clock } = await setup({ idleTimeoutSeconds: 3_600 });
    const old = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'], device: { label: 'Phone' } });
    clock.advance(MINUTE);
    const newer = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'], device: { label: 'Laptop', ip: '198.51.100.4' } });
    await sessions.create({ userId: BOB, tenantId: null, amr: ['pwd'] });

    const listed = await sessions.list(ALICE);
    expect(listed.map((s) => s.id)).toEqual([newer.session.id, old.session.id]);
    expect(listed[0]!.device).toEqual({ userAgent: null, ip: '198.51.100.4', label: 'Laptop' });

    clock.advance(3_600 * SECOND - MINUTE); // the older one idles out
    expect((await sessions.list(ALICE)).map((s) => s.id)).toEqual([newer.session.id]);
    expect(await rejectionOf(sessions.list(''))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it("revokes one session of the user (and its sid), and never another user's", async () => {
    const { sessions, revokedSessions, sidRevoked } = await setup();
    const alice = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    const bob = await sessions.create({ userId: BOB, tenantId: null, amr: ['pwd'] });

    expect(await sessions.revoke(ALICE, bob.session.id)).toBe(false);
    expect(await sessions.validate(bob.token)).toEqual(bob.session);
    expect(await sidRevoked(bob.session.id)).toBe(false);

    expect(await sessions.revoke(ALICE, alice.session.id)).toBe(true);
    expect(await rejectionOf(sessions.validate(alice.token))).toMatchObject({ code: 'SESSION_INVALID' });
    expect(revokedSessions).toEqual([{ id: alice.session.id, until: alice.session.absoluteExpiresAt + RETENTION }]);
    expect(await sidRevoked(alice.session.id)).toBe(true);

    expect(await sessions.revoke(ALICE, alice.session.id)).toBe(false);
    expect(await sessions.revoke(ALICE, 'ses_unknown')).toBe(false);
  });

  it('revokes every session of the user but the one kept, each sid until its absolute end plus the retention', async () => {
    const { sessions, revokedSessions, sidRevoked, clock } = await setup();
    const kept = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    clock.advance(DAY);
    const other = await sessions.create({ userId: ALICE, tenantId: 'tnt_acme', amr: ['pwd'] });
    clock.advance(DAY);
    const third = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    const bob = await sessions.create({ userId: BOB, tenantId: null, amr: ['pwd'] });

    const revoked = await sessions.revokeAll(ALICE, { exceptId: kept.session.id });
    expect([...revoked].sort()).toEqual([other.session.id, third.session.id].sort());
    expect([...revokedSessions].sort((a, b) => a.until - b.until)).toEqual([
      { id: other.session.id, until: other.session.absoluteExpiresAt + RETENTION },
      { id: third.session.id, until: third.session.absoluteExpiresAt + RETENTION },
    ]);
    expect(await sidRevoked(other.session.id)).toBe(true);
    expect(await sessions.validate(kept.token)).toMatchObject({ id: kept.session.id });
    expect(await sessions.validate(bob.token)).toMatchObject({ id: bob.session.id });
    for (const token of [other.token, third.token]) {
      expect(await rejectionOf(sessions.validate(token))).toMatchObject({ code: 'SESSION_INVALID' });
    }

    expect(await sessions.revokeAll(ALICE)).toEqual([kept.session.id]);
    expect(await sessions.list(ALICE)).toEqual([]);
  });

  it('a session revocation holds until the last access token of that session has expired (absolute end + revocationRetentionSeconds)', async () => {
    const { sessions, clock, sidRevoked } = await setup({ idleTimeoutSeconds: 3_600, absoluteTimeoutSeconds: 3_600, revocationRetentionSeconds: 930 });
    const doomed = [
      await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] }),
      await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] }),
      await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] }),
    ];
    clock.advance(3_000 * SECOND);
    await sessions.rotate(doomed[0]!.token);
    await sessions.revoke(ALICE, doomed[1]!.session.id);
    const kept = await sessions.create({ userId: ALICE, tenantId: null, amr: ['pwd'] });
    await sessions.revokeAll(ALICE, { exceptId: kept.session.id });
    // A refresh just before the absolute end (3_600 s) mints a token with exp 4_500 s, which
    // verifies until 4_530 s (30 s of clock tolerance): each sid stays revoked until then.
    clock.advance(1_529 * SECOND);
    for (const session of doomed) expect(await sidRevoked(session.session.id)).toBe(true);
    clock.advance(2 * SECOND);
    // Past it the entries may go: every token of those sessions has expired.
    for (const session of doomed) expect(await sidRevoked(session.session.id)).toBe(false);
  });

  it('refuses a revocationRetentionSeconds that is negative or above 90 days (CONFIGURATION_INVALID)', async () => {
    await expect(setup({ revocationRetentionSeconds: -1 })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(setup({ revocationRetentionSeconds: 90 * 86_400 + 1 })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });
});
