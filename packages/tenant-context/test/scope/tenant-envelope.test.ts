import { createHmac, randomBytes } from 'node:crypto';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { createManualClock, type ManualClock } from '@tenantkit/core';
import { describe, expect, it, vi } from 'vitest';
import { TenantContextError } from '../../src/errors.js';
import {
  createTenantEnvelopeSigner,
  type TenantEnvelope,
  type TenantEnvelopeRejectionReason,
  type TenantEnvelopeSignerOptions,
} from '../../src/scope/tenant-envelope.js';
import { currentTenantId, isSystemScope, requireTenantId, runAsSystem, runWithTenant } from '../../src/scope/tenant-scope.js';
import type { JsonValue } from '../../src/tenant.js';

const SECRET_1 = randomBytes(32);
const SECRET_2 = randomBytes(48).toString('base64url');
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

function setup(overrides: Partial<TenantEnvelopeSignerOptions> = {}): {
  clock: ManualClock;
  signer: ReturnType<typeof createTenantEnvelopeSigner>;
} {
  const clock = createManualClock();
  const signer = createTenantEnvelopeSigner({ keys: { k1: SECRET_1 }, activeKeyId: 'k1', clock, ...overrides });
  return { clock, signer };
}

/** Captures a synchronous throw so its code and details can be asserted. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the function to throw');
}

function expectEnvelopeRejected(fn: () => unknown, reason: TenantEnvelopeRejectionReason): void {
  const error = thrownBy(fn);
  expect(error).toBeInstanceOf(TenantContextError);
  expect(error).toMatchObject({ code: 'TENANT_ENVELOPE_INVALID', status: 400, details: { reason } });
}

/** The documented wire format, computed independently of the implementation. */
function referenceSignature(secret: Uint8Array | string, fields: Omit<TenantEnvelope, 'sig'>): string {
  const parts = ['tenantkit/tenant-envelope/v1', String(fields.v), fields.kid, fields.tid, fields.typ, String(fields.iat), fields.body];
  const hmac = createHmac('sha256', typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret);
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hmac.update(length).update(bytes);
  }
  return hmac.digest('base64url');
}

const sealFor = (
  signer: ReturnType<typeof createTenantEnvelopeSigner>,
  tenantId: string,
  type = 'invoice.send',
  payload: JsonValue = { invoiceId: 'inv_1', amount: 1200 },
): TenantEnvelope => runWithTenant(tenantId, () => signer.seal(type, payload));

describe('seal and open', () => {
  it('round-trips a payload through JSON, for the current tenant', () => {
    const { clock, signer } = setup();
    const payload = { invoiceId: 'inv_1', lines: [{ sku: 'a', qty: 2 }], note: 'Grüße ✓', paid: false, ref: null };
    const envelope = runWithTenant('tnt_a', () => signer.seal('invoice.send', payload));

    expect(envelope).toEqual({
      v: 1,
      kid: 'k1',
      tid: 'tnt_a',
      typ: 'invoice.send',
      iat: clock.now(),
      body: JSON.stringify(payload),
      sig: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(Object.isFrozen(envelope)).toBe(true);
    expect(signer.activeKeyId).toBe('k1');

    const travelled: unknown = JSON.parse(JSON.stringify(envelope));
    expect(signer.open(travelled, { type: 'invoice.send' })).toEqual({
      tenantId: 'tnt_a',
      type: 'invoice.send',
      payload,
      issuedAt: clock.now(),
    });
  });

  it('round-trips every kind of JSON value, including a null-prototype object', () => {
    const { signer } = setup();
    const bare = Object.assign(Object.create(null) as Record<string, JsonValue>, { a: 1 });
    for (const payload of [null, 0, -1.5, 'text', true, [], {}, [1, 'two', [3]], bare] as JsonValue[]) {
      const envelope = sealFor(signer, 'tnt_a', 'value.test', payload);
      expect(signer.open(envelope, { type: 'value.test' }).payload).toEqual(JSON.parse(JSON.stringify(payload)));
    }
  });

  it('signs the documented, length-prefixed encoding with the active key', () => {
    const { signer } = setup();
    const envelope = sealFor(signer, 'tnt_a');
    const { sig, ...fields } = envelope;
    expect(sig).toBe(referenceSignature(SECRET_1, fields));
  });

  it('opens in the system scope, outside any scope, and in the same tenant scope', () => {
    const { signer } = setup();
    const envelope = sealFor(signer, 'tnt_a');
    expect(signer.open(envelope, { type: 'invoice.send' }).tenantId).toBe('tnt_a');
    expect(runAsSystem({ reason: 'test: open' }, () => signer.open(envelope, { type: 'invoice.send' })).tenantId).toBe('tnt_a');
    expect(runWithTenant('tnt_a', () => signer.open(envelope, { type: 'invoice.send', tenantId: 'tnt_a' })).tenantId).toBe('tnt_a');
  });
});

describe('tampering (each field is covered by the signature)', () => {
  const { signer } = setup({ keys: { k1: SECRET_1, k2: SECRET_2 } });
  const original = sealFor(signer, 'tnt_a');
  const expectation = { type: 'invoice.send' };

  it('opens the untouched envelope (control)', () => {
    expect(signer.open({ ...original }, expectation).tenantId).toBe('tnt_a');
  });

  it('refuses tid swapped to another tenant, also when that tenant is the expected one', () => {
    const moved = { ...original, tid: 'tnt_b' };
    expectEnvelopeRejected(() => signer.open(moved, expectation), 'bad-signature');
    expectEnvelopeRejected(() => signer.open(moved, { ...expectation, tenantId: 'tnt_b' }), 'bad-signature');
    expectEnvelopeRejected(() => signer.runInEnvelopeScope(moved, expectation, () => undefined), 'bad-signature');
  });

  it('refuses typ changed, even when the new type is the expected one', () => {
    expectEnvelopeRejected(() => signer.open({ ...original, typ: 'invoice.delete' }, { type: 'invoice.delete' }), 'bad-signature');
  });

  it('refuses body changed, including a whitespace-only change of the same JSON', () => {
    expectEnvelopeRejected(() => signer.open({ ...original, body: '{"invoiceId":"inv_2","amount":1200}' }, expectation), 'bad-signature');
    expectEnvelopeRejected(() => signer.open({ ...original, body: original.body.replace(':', ': ') }, expectation), 'bad-signature');
  });

  it('refuses iat changed (an attempt to extend its life)', () => {
    expectEnvelopeRejected(() => signer.open({ ...original, iat: original.iat + 1 }, expectation), 'bad-signature');
    expectEnvelopeRejected(() => signer.open({ ...original, iat: original.iat + HOUR_MS }, expectation), 'bad-signature');
  });

  it('refuses kid changed to another known key, or to an unknown one', () => {
    expectEnvelopeRejected(() => signer.open({ ...original, kid: 'k2' }, expectation), 'bad-signature');
    expectEnvelopeRejected(() => signer.open({ ...original, kid: 'k3' }, expectation), 'unknown-key');
  });

  it('refuses sig changed: one character, another envelope\'s sig, or a non-canonical spelling', () => {
    const flipped = `${original.sig[0] === 'A' ? 'B' : 'A'}${original.sig.slice(1)}`;
    expectEnvelopeRejected(() => signer.open({ ...original, sig: flipped }, expectation), 'bad-signature');

    const other = sealFor(signer, 'tnt_a', 'invoice.send', { invoiceId: 'inv_other' });
    expectEnvelopeRejected(() => signer.open({ ...original, sig: other.sig }, expectation), 'bad-signature');

    // The last of 43 base64url characters carries 2 unused bits: flipping them keeps the bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(original.sig.at(-1) as string);
    const sameBytes = `${original.sig.slice(0, -1)}${alphabet[last ^ 1] as string}`;
    expect(Buffer.from(sameBytes, 'base64url').equals(Buffer.from(original.sig, 'base64url'))).toBe(true);
    expectEnvelopeRejected(() => signer.open({ ...original, sig: sameBytes }, expectation), 'bad-signature');
  });

  it('refuses v changed, a field added, or a field removed', () => {
    expectEnvelopeRejected(() => signer.open({ ...original, v: 2 }, expectation), 'malformed');
    expectEnvelopeRejected(() => signer.open({ ...original, extra: 'x' }, expectation), 'malformed');
    const { body: _body, ...withoutBody } = original;
    expectEnvelopeRejected(() => signer.open(withoutBody, expectation), 'malformed');
  });

  it('refuses a character moved between adjacent fields (no field confusion)', () => {
    // Same concatenated text "tnt_ab" + "c.send" either way; only the boundary differs.
    const sealed = sealFor(signer, 'tnt_ab', 'c.send');
    expectEnvelopeRejected(() => signer.open({ ...sealed, tid: 'tnt_a', typ: 'bc.send' }, { type: 'bc.send' }), 'bad-signature');
  });
});

describe('tenant and type binding', () => {
  it('refuses a job sealed for tenant A when tenant B is expected', () => {
    const { signer } = setup();
    const envelope = sealFor(signer, 'tnt_a');
    expectEnvelopeRejected(() => signer.open(envelope, { type: 'invoice.send', tenantId: 'tnt_b' }), 'tenant-mismatch');
  });

  it('refuses another tenant\'s envelope inside a tenant scope, even without an expected tenant', () => {
    const { signer } = setup();
    const envelope = sealFor(signer, 'tnt_a');
    expectEnvelopeRejected(() => runWithTenant('tnt_b', () => signer.open(envelope, { type: 'invoice.send' })), 'tenant-mismatch');
  });

  it('refuses an envelope of another type', () => {
    const { signer } = setup();
    const envelope = sealFor(signer, 'tnt_a', 'invoice.send');
    expectEnvelopeRejected(() => signer.open(envelope, { type: 'invoice.delete' }), 'type-mismatch');
  });

  it('refuses an envelope signed by another deployment with the same key id', () => {
    const { signer } = setup();
    const { signer: foreign } = setup({ keys: { k1: randomBytes(32) } });
    expectEnvelopeRejected(() => signer.open(sealFor(foreign, 'tnt_a'), { type: 'invoice.send' }), 'bad-signature');
  });

  it.each([
    ['no expectation', undefined],
    ['no type', {}],
    ['an invalid type', { type: 'has space' }],
    ['an invalid tenant id', { type: 'invoice.send', tenantId: '../tnt_a' }],
  ])('refuses %s with VALIDATION_FAILED', (_label, expectation) => {
    const { signer } = setup();
    const envelope = sealFor(signer, 'tnt_a');
    expect(thrownBy(() => signer.open(envelope, expectation as never))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('runInEnvelopeScope', () => {
  it('restores the envelope tenant\'s scope for fn, across awaits, and ends it afterwards', async () => {
    const { signer } = setup();
    const envelope = sealFor(signer, 'tnt_a');
    const result = await signer.runInEnvelopeScope(envelope, { type: 'invoice.send' }, async (opened) => {
      expect(requireTenantId()).toBe('tnt_a');
      await setImmediatePromise();
      expect(requireTenantId()).toBe('tnt_a');
      return opened;
    });
    expect(result).toEqual({ tenantId: 'tnt_a', type: 'invoice.send', payload: { invoiceId: 'inv_1', amount: 1200 }, issuedAt: envelope.iat });
    expect(currentTenantId()).toBeUndefined();
  });

  it('works from the system scope (a worker looping over tenants)', () => {
    const { signer } = setup();
    const envelopes = [sealFor(signer, 'tnt_a'), sealFor(signer, 'tnt_b')];
    const seen = runAsSystem({ reason: 'test: worker' }, () =>
      envelopes.map((envelope) => signer.runInEnvelopeScope(envelope, { type: 'invoice.send' }, () => requireTenantId())),
    );
    expect(seen).toEqual(['tnt_a', 'tnt_b']);
  });

  it('throws before fn runs when the envelope is invalid', () => {
    const { signer } = setup();
    const fn = vi.fn();
    const envelope = sealFor(signer, 'tnt_a');
    expectEnvelopeRejected(() => signer.runInEnvelopeScope(envelope, { type: 'invoice.send', tenantId: 'tnt_b' }, fn), 'tenant-mismatch');
    expectEnvelopeRejected(() => signer.runInEnvelopeScope({}, { type: 'invoice.send' }, fn), 'malformed');
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('time', () => {
  it('opens until maxAgeMs (default 24 h) has passed, then refuses as expired', () => {
    const { clock, signer } = setup();
    const envelope = sealFor(signer, 'tnt_a');
    clock.advance(DAY_MS);
    expect(signer.open(envelope, { type: 'invoice.send' }).tenantId).toBe('tnt_a');
    clock.advance(1);
    expectEnvelopeRejected(() => signer.open(envelope, { type: 'invoice.send' }), 'expired');
  });

  it('honours a custom maxAgeMs', () => {
    const { clock, signer } = setup({ maxAgeMs: 5 * 60_000 });
    const envelope = sealFor(signer, 'tnt_a');
    clock.advance(5 * 60_000 + 1);
    expectEnvelopeRejected(() => signer.open(envelope, { type: 'invoice.send' }), 'expired');
  });

  it('accepts an issue time up to maxClockSkewMs (default 30 s) ahead, and refuses one further ahead', () => {
    const { clock, signer } = setup();
    const producerClock = createManualClock(clock.now() + 30_000);
    const producer = createTenantEnvelopeSigner({ keys: { k1: SECRET_1 }, activeKeyId: 'k1', clock: producerClock });
    expect(signer.open(sealFor(producer, 'tnt_a'), { type: 'invoice.send' }).issuedAt).toBe(clock.now() + 30_000);
    producerClock.advance(1);
    expectEnvelopeRejected(() => signer.open(sealFor(producer, 'tnt_a'), { type: 'invoice.send' }), 'issued-in-future');
  });

  it('refuses to seal when the injected clock returns an unusable time', () => {
    for (const now of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      const signer = createTenantEnvelopeSigner({ keys: { k1: SECRET_1 }, activeKeyId: 'k1', clock: { now: () => now } });
      expect(thrownBy(() => sealFor(signer, 'tnt_a'))).toMatchObject({ code: 'CONFIGURATION_INVALID' });
    }
  });

  it('honours a custom maxClockSkewMs of zero', () => {
    const { clock, signer } = setup({ maxClockSkewMs: 0 });
    const producer = createTenantEnvelopeSigner({ keys: { k1: SECRET_1 }, activeKeyId: 'k1', clock: createManualClock(clock.now() + 1) });
    expectEnvelopeRejected(() => signer.open(sealFor(producer, 'tnt_a'), { type: 'invoice.send' }), 'issued-in-future');
  });
});

describe('keys and rotation', () => {
  it('keeps opening envelopes of the previous key while sealing with the new one', () => {
    const clock = createManualClock();
    const before = createTenantEnvelopeSigner({ keys: { k1: SECRET_1 }, activeKeyId: 'k1', clock });
    const after = createTenantEnvelopeSigner({ keys: { k1: SECRET_1, k2: SECRET_2 }, activeKeyId: 'k2', clock });
    const old = sealFor(before, 'tnt_a');
    const fresh = sealFor(after, 'tnt_a');

    expect(old.kid).toBe('k1');
    expect(fresh.kid).toBe('k2');
    expect(after.activeKeyId).toBe('k2');
    expect(fresh.sig).toBe(referenceSignature(SECRET_2, { ...fresh }));
    expect(after.open(old, { type: 'invoice.send' }).tenantId).toBe('tnt_a');
    expect(after.open(fresh, { type: 'invoice.send' }).tenantId).toBe('tnt_a');
    // A host that has not learnt the new key yet refuses, it does not guess.
    expectEnvelopeRejected(() => before.open(fresh, { type: 'invoice.send' }), 'unknown-key');
  });

  it('stops opening a key once it is removed', () => {
    const old = sealFor(setup().signer, 'tnt_a');
    const { signer: retired } = setup({ keys: { k2: SECRET_2 }, activeKeyId: 'k2' });
    expectEnvelopeRejected(() => retired.open(old, { type: 'invoice.send' }), 'unknown-key');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'treats kid %j as unknown, never as an inherited property',
    (kid) => {
      const { signer } = setup();
      expectEnvelopeRejected(() => signer.open({ ...sealFor(signer, 'tnt_a'), kid }, { type: 'invoice.send' }), 'unknown-key');
    },
  );

  it('accepts string, Buffer and Uint8Array secrets, and copies them', () => {
    const callerBuffer = Buffer.from(SECRET_1);
    const { signer } = setup({ keys: { k1: callerBuffer } });
    const envelope = sealFor(signer, 'tnt_a');
    callerBuffer.fill(0); // the caller reusing its buffer must not change the key
    expect(signer.open(envelope, { type: 'invoice.send' }).tenantId).toBe('tnt_a');
    expect(sealFor(signer, 'tnt_a').sig).toBe(referenceSignature(SECRET_1, { ...sealFor(signer, 'tnt_a') }));

    const { signer: fromUint8 } = setup({ keys: { k1: new Uint8Array(SECRET_1) } });
    expect(fromUint8.open(envelope, { type: 'invoice.send' }).tenantId).toBe('tnt_a');

    const { signer: fromString } = setup({ keys: { k1: SECRET_2 } });
    const stringSealed = sealFor(fromString, 'tnt_a');
    expect(stringSealed.sig).toBe(referenceSignature(SECRET_2, { ...stringSealed }));
  });

  it('counts a string secret in UTF-8 bytes', () => {
    expect(() => setup({ keys: { k1: 'é'.repeat(16) } })).not.toThrow(); // 32 bytes
    expect(thrownBy(() => setup({ keys: { k1: 'é'.repeat(15) + 'e' } }))).toMatchObject({ code: 'CONFIGURATION_INVALID' }); // 31 bytes
  });
});

describe('options validation (at creation)', () => {
  const shortSecret = 'x'.repeat(31);
  it.each<[string, unknown]>([
    ['no options', undefined],
    ['a 31-byte string secret', { keys: { k1: shortSecret }, activeKeyId: 'k1' }],
    ['a 31-byte Buffer secret', { keys: { k1: randomBytes(31) }, activeKeyId: 'k1' }],
    ['a numeric secret', { keys: { k1: 12345678901234567890 }, activeKeyId: 'k1' }],
    ['no keys', { keys: {}, activeKeyId: 'k1' }],
    ['an active key that is not listed', { keys: { k1: SECRET_1 }, activeKeyId: 'k2' }],
    ['a key id with a slash', { keys: { 'k/1': SECRET_1 }, activeKeyId: 'k/1' }],
    ['a key id "__proto__"', { keys: JSON.parse(`{"__proto__":"${SECRET_2}"}`) as unknown, activeKeyId: '__proto__' }],
    ['maxAgeMs 0', { keys: { k1: SECRET_1 }, activeKeyId: 'k1', maxAgeMs: 0 }],
    ['a negative maxAgeMs', { keys: { k1: SECRET_1 }, activeKeyId: 'k1', maxAgeMs: -1 }],
    ['a NaN maxAgeMs', { keys: { k1: SECRET_1 }, activeKeyId: 'k1', maxAgeMs: Number.NaN }],
    ['a negative maxClockSkewMs', { keys: { k1: SECRET_1 }, activeKeyId: 'k1', maxClockSkewMs: -1 }],
    ['a tiny maxBodyBytes', { keys: { k1: SECRET_1 }, activeKeyId: 'k1', maxBodyBytes: 1 }],
    ['a clock without now()', { keys: { k1: SECRET_1 }, activeKeyId: 'k1', clock: {} }],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, options) => {
    const error = thrownBy(() => createTenantEnvelopeSigner(options as TenantEnvelopeSignerOptions));
    expect(error).toBeInstanceOf(TenantContextError);
    expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });

  it('never puts a secret into the error', () => {
    const error = thrownBy(() => createTenantEnvelopeSigner({ keys: { k1: SECRET_2, k2: shortSecret }, activeKeyId: 'k3' }));
    const text = `${(error as Error).message} ${JSON.stringify((error as TenantContextError).details)}`;
    expect(text).not.toContain(shortSecret);
    expect(text).not.toContain(SECRET_2);
    expect(text).toContain('k2'); // names the offending key id, which is not secret
  });
});

describe('seal: scope rules (fail closed)', () => {
  it('refuses outside any scope (TENANT_SCOPE_REQUIRED)', () => {
    const { signer } = setup();
    const error = thrownBy(() => signer.seal('invoice.send', {}));
    expect(error).toBeInstanceOf(TenantContextError);
    expect(error).toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
  });

  it('refuses in the system scope without an explicit tenant', () => {
    const { signer } = setup();
    expect(thrownBy(() => runAsSystem({ reason: 'test: seal' }, () => signer.seal('invoice.send', {})))).toMatchObject({
      code: 'TENANT_SCOPE_REQUIRED',
    });
  });

  it('seals for an explicit tenant from the system scope', () => {
    const { signer } = setup();
    const envelope = runAsSystem({ reason: 'test: fan-out' }, () => {
      expect(isSystemScope()).toBe(true);
      return signer.seal('report.build', { month: '2026-01' }, { tenantId: 'tnt_b' });
    });
    expect(envelope.tid).toBe('tnt_b');
    expect(signer.open(envelope, { type: 'report.build', tenantId: 'tnt_b' }).payload).toEqual({ month: '2026-01' });
  });

  it('accepts the current tenant named explicitly, and refuses another (TENANT_SCOPE_CONFLICT)', () => {
    const { signer } = setup();
    runWithTenant('tnt_a', () => {
      expect(signer.seal('invoice.send', {}, { tenantId: 'tnt_a' }).tid).toBe('tnt_a');
      const error = thrownBy(() => signer.seal('invoice.send', {}, { tenantId: 'tnt_b' }));
      expect(error).toBeInstanceOf(TenantContextError);
      expect(error).toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
    });
  });

  it('refuses an explicit tenant outside any scope (TENANT_SCOPE_REQUIRED)', () => {
    const { signer } = setup();
    expect(thrownBy(() => signer.seal('invoice.send', {}, { tenantId: 'tnt_a' }))).toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
  });

  it('refuses an invalid explicit tenant id (TENANT_IDENTIFIER_INVALID)', () => {
    const { signer } = setup();
    expect(
      thrownBy(() => runAsSystem({ reason: 'test: bad id' }, () => signer.seal('invoice.send', {}, { tenantId: 'tnt a' }))),
    ).toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });
});

describe('seal: input validation', () => {
  it.each<[string, unknown]>([
    ['an empty type', ''],
    ['a type with a space', 'invoice send'],
    ['a 129-character type', `a${'b'.repeat(128)}`],
    ['a non-string type', 42],
  ])('refuses %s with VALIDATION_FAILED', (_label, type) => {
    const { signer } = setup();
    expect(thrownBy(() => runWithTenant('tnt_a', () => signer.seal(type as string, {})))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  let deep: unknown = 'leaf';
  for (let level = 0; level < 100; level += 1) deep = [deep];

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a bigint', 10n],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a class instance', new (class Job {})()],
    ['a nested undefined', { a: { b: undefined } }],
    ['a sparse array', [1, , 3]],
    ['an object with toJSON', { toJSON: () => 'x' }],
    ['a cycle', cyclic],
    ['nesting 100 levels deep', deep],
  ])('refuses a payload with %s (VALIDATION_FAILED, never a TypeError)', (_label, payload) => {
    const { signer } = setup();
    const error = thrownBy(() => runWithTenant('tnt_a', () => signer.seal('job.run', payload as JsonValue)));
    expect(error).toBeInstanceOf(TenantContextError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('refuses a payload larger than maxBodyBytes, counted in UTF-8 bytes', () => {
    const { signer } = setup({ maxBodyBytes: 100 });
    // '"' + 49 two-byte characters + '"' = 100 bytes: fits.
    expect(sealFor(signer, 'tnt_a', 'job.run', 'é'.repeat(49)).body).toHaveLength(51);
    expect(thrownBy(() => sealFor(signer, 'tnt_a', 'job.run', 'é'.repeat(50)))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('open: untrusted input is refused with the code, never a TypeError', () => {
  const { signer } = setup({ maxBodyBytes: 1024 });
  const valid = sealFor(signer, 'tnt_a');
  const throwingGetter = Object.defineProperty({ ...valid }, 'tid', {
    enumerable: true,
    get() {
      throw new TypeError('boom');
    },
  });
  const throwingProxy = new Proxy(
    {},
    {
      get() {
        throw new TypeError('boom');
      },
      ownKeys() {
        throw new TypeError('boom');
      },
      getOwnPropertyDescriptor() {
        throw new TypeError('boom');
      },
    },
  );

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'envelope'],
    ['the envelope as a JSON string', JSON.stringify(valid)],
    ['an array', [valid]],
    ['an empty object', {}],
    ['v as a string', { ...valid, v: '1' }],
    ['iat as a string', { ...valid, iat: String(valid.iat) }],
    ['a fractional iat', { ...valid, iat: valid.iat + 0.5 }],
    ['a negative iat', { ...valid, iat: -1 }],
    ['body as an object', { ...valid, body: { invoiceId: 'inv_1' } }],
    ['an empty body', { ...valid, body: '' }],
    ['sig as a number', { ...valid, sig: 42 }],
    ['sig of the wrong length', { ...valid, sig: `${valid.sig}A` }],
    ['sig with base64 padding characters', { ...valid, sig: `${valid.sig.slice(0, -1)}=` }],
    ['an invalid tid', { ...valid, tid: '../tnt_a' }],
    ['a 65-character kid', { ...valid, kid: 'k'.repeat(65) }],
    ['an oversized body', { ...valid, body: JSON.stringify('x'.repeat(2000)) }],
    ['a body over the limit only in UTF-8 bytes', { ...valid, body: JSON.stringify('é'.repeat(600)) }],
    ['a huge body', { ...valid, body: 'x'.repeat(8 * 1024 * 1024) }],
    ['a throwing getter', throwingGetter],
    ['a throwing proxy', throwingProxy],
  ])('refuses %s as malformed', (_label, input) => {
    expectEnvelopeRejected(() => signer.open(input, { type: 'invoice.send' }), 'malformed');
  });

  it('reveals neither the key nor the expected signature in the error', () => {
    const error = thrownBy(() => signer.open({ ...valid, tid: 'tnt_b' }, { type: 'invoice.send' })) as TenantContextError;
    const expectedSig = referenceSignature(SECRET_1, { ...valid, tid: 'tnt_b' });
    const text = `${error.message} ${JSON.stringify(error.details)} ${String(error.cause)}`;
    expect(error.code).toBe('TENANT_ENVELOPE_INVALID');
    expect(text).not.toContain(expectedSig);
    expect(text).not.toContain(SECRET_1.toString('base64url'));
    expect(text).not.toContain(SECRET_1.toString('hex'));
  });
});
