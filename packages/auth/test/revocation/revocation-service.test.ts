import { createManualClock, type ManualClock } from '@tenantkit/core';
import { describe, expect, it, vi } from 'vitest';
import { memoryRevocationStore } from '../../src/adapters/memory/memory-revocation-store.js';
import { createSigningKeySet } from '../../src/keys/create-signing-key-set.js';
import { generateSigningKey } from '../../src/keys/generate-signing-key.js';
import { createRevocationService } from '../../src/revocation/create-revocation-service.js';
import { createInProcessRevocationChannel } from '../../src/revocation/in-process-revocation-channel.js';
import type { RevocationSubject } from '../../src/revocation/revocation-service.js';
import type { RevocationChannel, RevocationEvent, RevocationStore } from '../../src/store.js';
import { createAccessTokenService } from '../../src/tokens/create-access-token-service.js';

const code = (c: string) => expect.objectContaining({ code: c });

/** A memory store that counts `check` round trips. */
function countingStore(clock: ManualClock): RevocationStore & { checks: number } {
  const inner = memoryRevocationStore({ clock });
  const store = {
    checks: 0,
    revokeToken: inner.revokeToken,
    revokeSession: inner.revokeSession,
    raiseEpoch: inner.raiseEpoch,
    check(query: Parameters<RevocationStore['check']>[0], now: number) {
      store.checks += 1;
      return inner.check(query, now);
    },
  };
  return store;
}

/** A channel the test drives: it records publishes and can deliver events or a resync. */
function scriptedChannel() {
  let listener: ((event: RevocationEvent) => void) | undefined;
  let resync: (() => void) | undefined;
  const published: RevocationEvent[] = [];
  const channel: RevocationChannel = {
    async publish(event) {
      published.push(event);
    },
    async subscribe(next, onResync) {
      listener = next;
      resync = onResync;
      return async () => {
        listener = undefined;
      };
    },
    async close() {},
  };
  return {
    channel,
    published,
    deliver: (event: RevocationEvent) => listener?.(event),
    resync: () => resync?.(),
    get subscribed() {
      return listener !== undefined;
    },
  };
}

async function setup(options: { maxStalenessMs?: number; maxEntries?: number } = {}) {
  const clock = createManualClock();
  const store = countingStore(clock);
  const scripted = scriptedChannel();
  const revocation = createRevocationService({ store, channel: scripted.channel, clock, ...options });
  await Promise.resolve();
  await Promise.resolve();
  const subject = (overrides: Partial<RevocationSubject> = {}): RevocationSubject => ({
    jti: 'jti_1',
    sid: 'ses_1',
    sub: 'usr_1',
    tid: 'tnt_a',
    issuedAtMs: clock.now() - 1000,
    ...overrides,
  });
  return { clock, store, scripted, revocation, subject };
}

describe('createRevocationService', () => {
  it('validates its options synchronously', () => {
    const store = memoryRevocationStore();
    for (const options of [
      undefined,
      {},
      { store: {} },
      { store, maxStalenessMs: -1 },
      { store, maxStalenessMs: 300_001 },
      { store, maxEntries: 0 },
      { store, channel: { publish() {} } },
      { store, extra: true },
    ]) {
      expect(() => createRevocationService(options as never)).toThrow(code('CONFIGURATION_INVALID'));
    }
  });

  it('asks the store once, then answers synchronously from memory while the answer is fresher than maxStalenessMs', async () => {
    const { revocation, store, clock, subject } = await setup({ maxStalenessMs: 5000 });
    const first = revocation.isRevoked(subject());
    expect(first).toBeInstanceOf(Promise);
    await expect(first).resolves.toBe(false);
    expect(store.checks).toBe(1);
    clock.advance(4999);
    expect(revocation.isRevoked(subject())).toBe(false);
    expect(store.checks).toBe(1);
    clock.advance(1);
    const stale = revocation.isRevoked(subject());
    expect(stale).toBeInstanceOf(Promise);
    await expect(stale).resolves.toBe(false);
    expect(store.checks).toBe(2);
  });

  it('a memo is for one subject only: another sub, sid or tid, or an older token of the subject, asks the store', async () => {
    const { revocation, store, subject } = await setup();
    await revocation.isRevoked(subject());
    await revocation.isRevoked(subject({ jti: 'jti_2' }));
    await revocation.isRevoked(subject({ sub: 'usr_2' }));
    await revocation.isRevoked(subject({ sid: null }));
    expect(store.checks).toBe(4);
  });

  it('a store check names the jti of the token being checked', async () => {
    const { revocation, store, subject } = await setup();
    const check = vi.spyOn(store, 'check');
    await revocation.isRevoked(subject({ jti: 'jti_named' }));
    expect(check).toHaveBeenCalledWith({ jti: 'jti_named', sessionId: 'ses_1', userId: 'usr_1', tenantId: 'tnt_a' }, expect.any(Number));
  });

  it('a fresh subject memo answers from memory for a new token of the subject (issued after the check), until maxStalenessMs after the check', async () => {
    const { revocation, store, clock, subject } = await setup({ maxStalenessMs: 5000 });
    const checkedAt = clock.now();
    await expect(revocation.isRevoked(subject())).resolves.toBe(false);
    expect(store.checks).toBe(1);
    clock.advance(10);
    // Never seen, issued after the check: no round trip.
    expect(revocation.isRevoked(subject({ jti: 'jti_new', issuedAtMs: clock.now() }))).toBe(false);
    clock.set(checkedAt + 4999);
    expect(revocation.isRevoked(subject({ jti: 'jti_newer', issuedAtMs: clock.now() }))).toBe(false);
    expect(store.checks).toBe(1);
    clock.set(checkedAt + 5000);
    expect(revocation.isRevoked(subject({ jti: 'jti_newest', issuedAtMs: clock.now() }))).toBeInstanceOf(Promise);
    expect(store.checks).toBe(2);
  });

  it('lost jti message: a token issued before the subject memo gets a store check of its own (that check could not have seen its revocation)', async () => {
    const { revocation, store, clock, subject } = await setup({ maxStalenessMs: 5000 });
    const old = subject({ jti: 'jti_old', issuedAtMs: clock.now() - 60_000 });
    // Another process revoked jti_old; its message never arrived here.
    await store.revokeToken('jti_old', clock.now() + 60_000);
    clock.advance(1);
    await expect(revocation.isRevoked(subject({ jti: 'jti_a', issuedAtMs: clock.now() - 30_000 }))).resolves.toBe(false);
    // The subject memo is fresh, but says nothing about jti_old: the store is asked, with jti_old.
    const answer = revocation.isRevoked(old);
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toBe(true);
    // A store answer that revokes is kept: no further round trip.
    expect(revocation.isRevoked(old)).toBe(true);
    expect(store.checks).toBe(2);
  });

  it('lost jti message: a token vouched for by its subject memo is refused at most maxStalenessMs after that check, even when other tokens refresh the memo', async () => {
    const { revocation, store, clock, subject } = await setup({ maxStalenessMs: 5000 });
    const a = subject({ jti: 'jti_a', issuedAtMs: clock.now() - 1000 });
    const checkedAt = clock.now();
    await expect(revocation.isRevoked(a)).resolves.toBe(false);
    clock.advance(100);
    const b = subject({ jti: 'jti_b', issuedAtMs: clock.now() });
    expect(revocation.isRevoked(b)).toBe(false);
    // b is revoked elsewhere at R = checkedAt + 200; the message is lost.
    clock.advance(100);
    await store.revokeToken('jti_b', clock.now() + 60_000);
    clock.set(checkedAt + 4999);
    expect(revocation.isRevoked(b)).toBe(false); // within the documented window
    clock.set(checkedAt + 5000);
    // a's check refreshes the subject memo first; it does not name jti_b...
    await expect(revocation.isRevoked(a)).resolves.toBe(false);
    // ...so it does not vouch for b, which was issued before it: b asks the store and is refused.
    await expect(revocation.isRevoked(b)).resolves.toBe(true);
  });

  it('lost session message: a session the store reports revoked stays revoked here for every token of it', async () => {
    const { revocation, store, clock, subject } = await setup();
    await store.revokeSession('ses_1', clock.now() + 60_000);
    await expect(revocation.isRevoked(subject())).resolves.toBe(true);
    clock.advance(1);
    expect(revocation.isRevoked(subject({ jti: 'jti_later', issuedAtMs: clock.now() }))).toBe(true);
    expect(store.checks).toBe(1);
  });

  it('a subject memo answers only for its own subject: the same sid with another sub or tid, or the same sessionless sub with another tid, asks the store', async () => {
    const { revocation, store, clock, subject } = await setup();
    await revocation.isRevoked(subject());
    await revocation.isRevoked(subject({ jti: 'jti_sessionless', sid: null }));
    clock.advance(1);
    const issuedAtMs = clock.now();
    await revocation.isRevoked(subject({ jti: 'j2', sub: 'usr_2', issuedAtMs }));
    await revocation.isRevoked(subject({ jti: 'j3', tid: 'tnt_b', issuedAtMs }));
    await revocation.isRevoked(subject({ jti: 'j4', tid: null, issuedAtMs }));
    await revocation.isRevoked(subject({ jti: 'j5', sid: null, tid: 'tnt_b', issuedAtMs }));
    expect(store.checks).toBe(6);
    // Each of them now has its own memo.
    expect(revocation.isRevoked(subject({ jti: 'j6', tid: null, issuedAtMs: clock.now() + 1 }))).toBe(false);
  });

  it('lost jti message: a token\'s own memo expires maxStalenessMs after its check, even while other tokens keep the subject memo fresh', async () => {
    const { revocation, store, clock, subject } = await setup({ maxStalenessMs: 5000 });
    const start = clock.now();
    const a = subject({ jti: 'jti_a', issuedAtMs: start - 1000 });
    const b = subject({ jti: 'jti_b', issuedAtMs: start - 500 });
    await expect(revocation.isRevoked(a)).resolves.toBe(false);
    clock.set(start + 100);
    await store.revokeToken('jti_a', start + 60_000); // message lost
    clock.set(start + 3000);
    await expect(revocation.isRevoked(b)).resolves.toBe(false); // refreshes the subject memo
    expect(store.checks).toBe(2);
    clock.set(start + 4999);
    expect(revocation.isRevoked(a)).toBe(false); // within the documented window
    clock.set(start + 5000);
    await expect(revocation.isRevoked(a)).resolves.toBe(true);
    expect(store.checks).toBe(3);
  });

  it('maxStalenessMs 0 asks the store on every check', async () => {
    const { revocation, store, subject } = await setup({ maxStalenessMs: 0 });
    await revocation.isRevoked(subject());
    await revocation.isRevoked(subject());
    expect(store.checks).toBe(2);
  });

  it('fails closed: a store failure rejects with STORE_UNAVAILABLE wrapping the cause', async () => {
    const { revocation, store, subject } = await setup();
    const cause = new Error('ECONNREFUSED');
    vi.spyOn(store, 'check').mockRejectedValue(cause);
    await expect(revocation.isRevoked(subject())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', cause });
  });

  it('revoking is effective in this process as soon as it resolves, and is published', async () => {
    const { revocation, scripted, clock, subject } = await setup();
    await revocation.isRevoked(subject());
    expect(revocation.isRevoked(subject())).toBe(false);
    await revocation.revokeToken('jti_1', clock.now() + 60_000);
    expect(revocation.isRevoked(subject())).toBe(true);
    expect(scripted.published).toEqual([{ kind: 'jti', id: 'jti_1', until: clock.now() + 60_000 }]);
  });

  it('revokeToken lasts until its until', async () => {
    const { revocation, clock, subject } = await setup();
    await revocation.revokeToken('jti_1', clock.now() + 1000);
    clock.advance(999);
    expect(revocation.isRevoked(subject())).toBe(true);
    clock.advance(1);
    await expect(revocation.isRevoked(subject())).resolves.toBe(false);
  });

  it('revokeSession revokes every token of the session', async () => {
    const { revocation, clock, subject } = await setup();
    await revocation.revokeSession('ses_1', clock.now() + 60_000);
    expect(revocation.isRevoked(subject())).toBe(true);
    expect(revocation.isRevoked(subject({ jti: 'jti_other' }))).toBe(true);
    await expect(revocation.isRevoked(subject({ sid: 'ses_2', jti: 'jti_3' }))).resolves.toBe(false);
  });

  it('revokeUser raises the epoch to clock.now() + 1: issued at or before now (same millisecond included) is revoked, after is not', async () => {
    const { revocation, clock, subject, scripted } = await setup();
    const now = clock.now();
    await revocation.revokeUser('usr_1');
    expect(scripted.published).toEqual([{ kind: 'user-epoch', id: 'usr_1', epoch: now + 1 }]);
    expect(revocation.isRevoked(subject({ issuedAtMs: now - 1 }))).toBe(true);
    // Review finding 8: a token minted in the very millisecond of the revocation used to survive.
    expect(revocation.isRevoked(subject({ jti: 'jti_same_ms', issuedAtMs: now }))).toBe(true);
    await expect(revocation.isRevoked(subject({ jti: 'jti_after', issuedAtMs: now + 1 }))).resolves.toBe(false);
    await expect(revocation.isRevoked(subject({ jti: 'jti_other_user', sub: 'usr_2', issuedAtMs: now }))).resolves.toBe(false);
  });

  it('revokeTenant raises the tenant epoch to clock.now() + 1: a token of the same millisecond is revoked', async () => {
    const { revocation, clock, subject, store } = await setup();
    const now = clock.now();
    await revocation.revokeTenant('tnt_a');
    expect(revocation.isRevoked(subject({ issuedAtMs: now - 1 }))).toBe(true);
    expect(revocation.isRevoked(subject({ jti: 'j_same_ms', issuedAtMs: now }))).toBe(true);
    await expect(revocation.isRevoked(subject({ jti: 'j_after', issuedAtMs: now + 1 }))).resolves.toBe(false);
    await expect(revocation.isRevoked(subject({ jti: 'j2', tid: 'tnt_b', issuedAtMs: now }))).resolves.toBe(false);
    await expect(revocation.isRevoked(subject({ jti: 'j3', tid: null, issuedAtMs: now }))).resolves.toBe(false);
    // The stored epoch is the same one, for the processes that learn it from the store.
    await expect(store.check({ jti: 'x', sessionId: null, userId: 'usr_9', tenantId: 'tnt_a' }, now)).resolves.toMatchObject({ tenantEpoch: now + 1 });
  });

  it('epochs from a store answer count, even without an event (another process revoked, message lost)', async () => {
    const { revocation, store, clock, subject } = await setup();
    await store.raiseEpoch('user', 'usr_1', clock.now());
    await expect(revocation.isRevoked(subject())).resolves.toBe(true);
    // Learned: the epoch now revokes from memory, this token and the user's other older ones.
    expect(revocation.isRevoked(subject())).toBe(true);
    expect(revocation.isRevoked(subject({ jti: 'jti_2', sid: 'ses_2' }))).toBe(true);
  });

  it('applies events another process published', async () => {
    const { revocation, scripted, clock, subject } = await setup();
    await revocation.isRevoked(subject());
    expect(revocation.isRevoked(subject())).toBe(false);
    scripted.deliver({ kind: 'session', id: 'ses_1', until: clock.now() + 60_000 });
    expect(revocation.isRevoked(subject())).toBe(true);
  });

  it('onResync drops every remembered answer: the next check asks the store', async () => {
    const { revocation, scripted, store, subject } = await setup();
    await revocation.isRevoked(subject());
    expect(revocation.isRevoked(subject())).toBe(false);
    scripted.resync();
    expect(revocation.isRevoked(subject())).toBeInstanceOf(Promise);
    expect(store.checks).toBe(2);
  });

  it('a store write failure rejects with STORE_UNAVAILABLE and publishes nothing', async () => {
    const { revocation, store, scripted, subject } = await setup();
    vi.spyOn(store, 'revokeToken').mockRejectedValue(new Error('down'));
    await expect(revocation.revokeToken('jti_1', Date.now())).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(scripted.published).toEqual([]);
    await expect(revocation.isRevoked(subject())).resolves.toBe(false);
  });

  it('a publish failure rejects with STORE_UNAVAILABLE, but the revocation is stored and applied here', async () => {
    const { revocation, scripted, store, clock, subject } = await setup();
    vi.spyOn(scripted.channel, 'publish').mockRejectedValue(new Error('redis down'));
    await expect(revocation.revokeToken('jti_1', clock.now() + 60_000)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(revocation.isRevoked(subject())).toBe(true);
    await expect(store.check({ jti: 'jti_1', sessionId: null, userId: 'usr_1', tenantId: null }, clock.now())).resolves.toMatchObject({
      jtiRevoked: true,
    });
  });

  it('announce validates the event, applies it, tells onEvent listeners and publishes it', async () => {
    const { revocation, scripted } = await setup();
    const heard: RevocationEvent[] = [];
    const stop = revocation.onEvent((event) => heard.push(event));
    revocation.onEvent(() => {
      throw new Error('a broken listener');
    });
    await revocation.announce({ kind: 'api-key', id: 'key_1' });
    expect(heard).toEqual([{ kind: 'api-key', id: 'key_1' }]);
    expect(scripted.published).toEqual([{ kind: 'api-key', id: 'key_1' }]);
    scripted.deliver({ kind: 'signing-key-retired', id: 'k1' });
    expect(heard).toHaveLength(2);
    stop();
    scripted.deliver({ kind: 'api-key', id: 'key_2' });
    expect(heard).toHaveLength(2);
    for (const bad of [{ kind: 'everything', id: 'x' }, { kind: 'jti', id: 'x' }, { kind: 'api-key', id: '' }, { kind: 'api-key', id: 'x', extra: 1 }, null]) {
      await expect(revocation.announce(bad as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  it('validates revoke input', async () => {
    const { revocation } = await setup();
    await expect(revocation.revokeToken('', 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(revocation.revokeSession('ses_1', -1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(revocation.revokeUser(42 as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(() => revocation.isRevoked({ jti: 1 } as never)).toThrow(code('VALIDATION_FAILED'));
  });

  it('stays correct past maxEntries: an evicted revocation makes the store be asked again', async () => {
    const { revocation, clock, subject } = await setup({ maxEntries: 2 });
    await revocation.isRevoked(subject());
    await revocation.revokeToken('jti_1', clock.now() + 60_000);
    await revocation.revokeToken('jti_x', clock.now() + 60_000);
    await revocation.revokeToken('jti_y', clock.now() + 60_000);
    // jti_1 was evicted from memory; the store still has it.
    await expect(revocation.isRevoked(subject())).resolves.toBe(true);
  });

  it('close unsubscribes; revoking after close is refused', async () => {
    const { revocation, scripted } = await setup();
    expect(scripted.subscribed).toBe(true);
    await revocation.close();
    expect(scripted.subscribed).toBe(false);
    await expect(revocation.revokeUser('usr_1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });

  it('with the default in-process channel, two services sharing a channel hear each other at once', async () => {
    const clock = createManualClock();
    const store = memoryRevocationStore({ clock });
    const channel = createInProcessRevocationChannel();
    const a = createRevocationService({ store, channel, clock });
    const b = createRevocationService({ store, channel, clock, maxStalenessMs: 300_000 });
    await Promise.resolve();
    const subject: RevocationSubject = { jti: 'jti_1', sid: null, sub: 'usr_1', tid: null, issuedAtMs: clock.now() - 1 };
    await b.isRevoked(subject);
    expect(b.isRevoked(subject)).toBe(false);
    await a.revokeUser('usr_1');
    expect(b.isRevoked(subject)).toBe(true);
  });
});

describe('lost message: a process that misses the event sees the revocation after maxStalenessMs', () => {
  it('B shares the store but not the channel with A', async () => {
    const clock = createManualClock();
    const store = memoryRevocationStore({ clock });
    const input = await generateSigningKey({ kid: 'k1' });
    const services = await Promise.all(
      ['a', 'b'].map(async () => {
        const keys = await createSigningKeySet({ keys: [input], clock });
        // Each its own in-process channel: nothing A publishes reaches B.
        const revocation = createRevocationService({ store, clock, maxStalenessMs: 5000 });
        return { revocation, tokens: createAccessTokenService({ keys, issuer: 'https://auth.example.com', audience: 'api', revocation, clock }) };
      }),
    );
    const [a, b] = services as [(typeof services)[0], (typeof services)[0]];
    const issued = await a.tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
    await expect(b.tokens.verify(issued.token)).resolves.toBeDefined();
    clock.advance(1000);
    await a.revocation.revokeSession('ses_1', issued.expiresAt);
    await expect(a.tokens.verify(issued.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    // Within the staleness bound B still trusts its last answer (the documented window)...
    clock.advance(3999);
    await expect(b.tokens.verify(issued.token)).resolves.toBeDefined();
    // ...and at maxStalenessMs after it asked, it asks the store again.
    clock.advance(1);
    await expect(b.tokens.verify(issued.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
  });
});
