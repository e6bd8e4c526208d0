import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import { rateLimitHeaders } from '../../src/http/rate-limit-headers.js';
import type { PolicyOutcome } from '../../src/limiter/rate-limit-decision.js';
import { decision, outcome } from './decision-fixtures.js';
import { parseSfList, type SfBareItem, type SfItem } from './structured-field-list.js';

function bytesOf(value: SfBareItem | undefined): Uint8Array {
  if (typeof value !== 'object' || value === null || !('bytes' in value)) throw new Error(`not a byte sequence: ${String(value)}`);
  return value.bytes;
}

function only(items: SfItem[]): SfItem {
  expect(items).toHaveLength(1);
  return items[0]!;
}

const SECRET = 'a-configured-secret-of-enough-bytes';

function expectedPk(key: string, secret: string = SECRET): Uint8Array {
  return new Uint8Array(createHmac('sha256', secret).update(key).digest().subarray(0, 12));
}

describe('rateLimitHeaders', () => {
  it('describes one admitting policy in RateLimit-Policy and RateLimit, as parseable structured fields', () => {
    const tenant = outcome({ policy: 'tenant', limit: 1000, remaining: 990, resetMs: 3_599_001, windowSeconds: 3600 });
    const headers = rateLimitHeaders(decision({ outcomes: [tenant] }), { partitionKeySecret: SECRET });

    expect(Object.keys(headers).sort()).toEqual(['RateLimit', 'RateLimit-Policy']);
    const policy = only(parseSfList(headers['RateLimit-Policy']!));
    expect(policy.value).toBe('tenant');
    expect([...policy.params.keys()]).toEqual(['q', 'w', 'pk']);
    expect(policy.params.get('q')).toBe(1000);
    expect(policy.params.get('w')).toBe(3600);
    expect(bytesOf(policy.params.get('pk'))).toEqual(expectedPk(tenant.key));

    const current = only(parseSfList(headers['RateLimit']!));
    expect(current.value).toBe('tenant');
    expect([...current.params.keys()]).toEqual(['r', 't', 'pk']);
    expect(current.params.get('r')).toBe(990);
    expect(current.params.get('t')).toBe(3600); // 3599.001 s rounds up
    expect(bytesOf(current.params.get('pk'))).toEqual(expectedPk(tenant.key));
  });

  it('lists every applied policy in order and reports the deciding one in RateLimit', () => {
    const tenant = outcome({ policy: 'tenant', limit: 1000, remaining: 900, windowSeconds: 3600 });
    const ip = outcome({ policy: 'ip', key: 'tk:rl:ip:{ip=198.51.100.7}:ip=198.51.100.7', limit: 300, remaining: 3, resetMs: 12_000 });
    const headers = rateLimitHeaders(decision({ outcomes: [tenant, ip], deciding: ip }), { partitionKeySecret: SECRET });

    const policies = parseSfList(headers['RateLimit-Policy']!);
    expect(policies.map((item) => item.value)).toEqual(['tenant', 'ip']);
    expect(policies.map((item) => item.params.get('q'))).toEqual([1000, 300]);
    expect(bytesOf(policies[1]!.params.get('pk'))).toEqual(expectedPk(ip.key));
    expect(bytesOf(policies[0]!.params.get('pk'))).not.toEqual(bytesOf(policies[1]!.params.get('pk')));

    const current = only(parseSfList(headers['RateLimit']!));
    expect(current.value).toBe('ip');
    expect(current.params.get('r')).toBe(3);
    expect(current.params.get('t')).toBe(12);
  });

  it('adds Retry-After in whole seconds, rounded up and at least 1, when a policy refused', () => {
    const refused = outcome({ policy: 'ip', allowed: false, remaining: 0, consumed: 101, resetMs: 1_500 });
    const headers = rateLimitHeaders(decision({ outcomes: [refused] }));
    expect(headers['Retry-After']).toBe('2');
    expect(only(parseSfList(headers['RateLimit']!)).params.get('r')).toBe(0);

    expect(rateLimitHeaders(decision({ outcomes: [refused], retryAfterMs: 0 }))['Retry-After']).toBe('1');
    expect(rateLimitHeaders(decision({ outcomes: [refused], retryAfterMs: 1 }))['Retry-After']).toBe('1');
    expect(rateLimitHeaders(decision({ outcomes: [refused], retryAfterMs: 60_000 }))['Retry-After']).toBe('60');
    expect(rateLimitHeaders(decision({ outcomes: [refused], retryAfterMs: Number.NaN }))['Retry-After']).toBe('1');
  });

  it('never sends the raw store key, and a guessed key cannot be confirmed without the secret', () => {
    const ip = outcome({ policy: 'ip', key: 'tk:rl:ip:{ip=198.51.100.7}:ip=198.51.100.7' });
    const headers = rateLimitHeaders(decision({ outcomes: [ip] }));
    const all = Object.values(headers).join('\n');
    expect(all).not.toContain('198.51.100.7');
    expect(all).not.toContain(Buffer.from(ip.key).toString('base64').slice(0, 12));

    const pk = bytesOf(only(parseSfList(headers['RateLimit']!)).params.get('pk'));
    expect(pk).toHaveLength(12);
    // Default: a per-process secret, so an unkeyed SHA-256 of the guessed key does not match.
    const unsalted = new Uint8Array(createHmac('sha256', '').update(ip.key).digest().subarray(0, 12));
    expect(pk).not.toEqual(unsalted);
    // Stable within the process (a client sees one pk per partition).
    expect(rateLimitHeaders(decision({ outcomes: [ip] }))['RateLimit']).toBe(headers['RateLimit']);
    // Configured secrets: deterministic across processes, different per secret.
    const a = rateLimitHeaders(decision({ outcomes: [ip] }), { partitionKeySecret: SECRET });
    const b = rateLimitHeaders(decision({ outcomes: [ip] }), { partitionKeySecret: `${SECRET}-other` });
    expect(bytesOf(only(parseSfList(a['RateLimit']!)).params.get('pk'))).toEqual(expectedPk(ip.key));
    expect(a['RateLimit']).not.toBe(b['RateLimit']);
    const asBytes = rateLimitHeaders(decision({ outcomes: [ip] }), { partitionKeySecret: new TextEncoder().encode(SECRET) });
    expect(asBytes['RateLimit']).toBe(a['RateLimit']);
  });

  it('refuses a partition key secret shorter than 16 bytes', () => {
    const ip = outcome({ policy: 'ip' });
    for (const partitionKeySecret of ['short', new Uint8Array(15), 42 as unknown as string]) {
      let caught: unknown;
      try {
        rateLimitHeaders(decision({ outcomes: [ip] }), { partitionKeySecret });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RateLimitError);
      expect((caught as RateLimitError).code).toBe('CONFIGURATION_INVALID');
    }
  });

  it('leaves pk out with partitionKeys: false', () => {
    const headers = rateLimitHeaders(decision({ outcomes: [outcome({ policy: 'ip' })] }), { partitionKeys: false });
    expect(headers['RateLimit-Policy']).toBe('"ip";q=100;w=60');
    expect(headers['RateLimit']).toBe('"ip";r=99;t=59');
  });

  it('adds the legacy X-RateLimit-* headers for the deciding policy on request', () => {
    const tenant = outcome({ policy: 'tenant', limit: 1000, remaining: 900 });
    const user = outcome({ policy: 'user', limit: 50, remaining: 4, resetMs: 7_200 });
    const plain = rateLimitHeaders(decision({ outcomes: [tenant, user], deciding: user }));
    expect(Object.keys(plain).some((name) => name.startsWith('X-'))).toBe(false);

    const legacy = rateLimitHeaders(decision({ outcomes: [tenant, user], deciding: user }), { legacy: true });
    expect(legacy['X-RateLimit-Limit']).toBe('50');
    expect(legacy['X-RateLimit-Remaining']).toBe('4');
    expect(legacy['X-RateLimit-Reset']).toBe('8');
  });

  it('sends nothing for an allow-listed or deny-listed client that no policy counted', () => {
    expect(rateLimitHeaders(decision({ outcomes: [], allowed: true, reason: 'allow-listed', deciding: undefined }))).toEqual({});
    expect(
      rateLimitHeaders(decision({ outcomes: [], allowed: false, reason: 'deny-listed', deciding: undefined, retryAfterMs: 0 })),
    ).toEqual({});
    expect(rateLimitHeaders(decision({ outcomes: [], allowed: true, reason: 'allowed', deciding: undefined }), { legacy: true })).toEqual({});
  });

  it('keeps shadow policies out of the headers, and a shadow refusal asks for no Retry-After', () => {
    const tenant = outcome({ policy: 'tenant', limit: 1000, remaining: 800 });
    const shadow = outcome({ policy: 'strict', allowed: false, remaining: 0, shadow: true, resetMs: 30_000 });
    const headers = rateLimitHeaders(
      decision({ outcomes: [tenant, shadow], allowed: true, reason: 'shadow-limited', deciding: shadow, retryAfterMs: 0 }),
    );
    expect(parseSfList(headers['RateLimit-Policy']!).map((item) => item.value)).toEqual(['tenant']);
    expect(only(parseSfList(headers['RateLimit']!)).value).toBe('tenant');
    expect(headers['Retry-After']).toBeUndefined();

    expect(rateLimitHeaders(decision({ outcomes: [shadow], allowed: true, reason: 'shadow-limited', retryAfterMs: 0 }))).toEqual({});
  });

  it("leaves out outcomes a failure policy admitted with 'open' and shows insurance ones", () => {
    const open = outcome({ policy: 'tenant', degraded: 'open' });
    const insurance = outcome({ policy: 'ip', degraded: 'insurance', limit: 25, remaining: 20 });
    const headers = rateLimitHeaders(decision({ outcomes: [open, insurance], deciding: open }));
    expect(parseSfList(headers['RateLimit-Policy']!).map((item) => [item.value, item.params.get('q')])).toEqual([['ip', 25]]);
    expect(only(parseSfList(headers['RateLimit']!)).value).toBe('ip');
    expect(rateLimitHeaders(decision({ outcomes: [open] }))).toEqual({});
  });

  it('falls back to the most restrictive visible policy when the deciding one is not shown', () => {
    const roomy = outcome({ policy: 'a', limit: 100, remaining: 90 });
    const tight = outcome({ policy: 'b', limit: 10, remaining: 2 });
    const hidden = outcome({ policy: 'c', shadow: true });
    const pick = (outcomes: PolicyOutcome[]) =>
      only(parseSfList(rateLimitHeaders(decision({ outcomes, deciding: hidden }))['RateLimit']!)).value;
    expect(pick([roomy, tight, hidden])).toBe('b');
    const refusedShort = outcome({ policy: 'd', allowed: false, remaining: 0, resetMs: 1_000 });
    const refusedLong = outcome({ policy: 'e', allowed: false, remaining: 0, resetMs: 9_000 });
    expect(
      only(parseSfList(rateLimitHeaders(decision({ outcomes: [tight, refusedShort, refusedLong], deciding: hidden }))['RateLimit']!)).value,
    ).toBe('e');
  });

  it('escapes policy names as structured-field strings and refuses non-ASCII names', () => {
    const odd = outcome({ policy: 'we\\ird "name", ok;x=1' });
    const headers = rateLimitHeaders(decision({ outcomes: [odd] }));
    expect(headers['RateLimit-Policy']).toMatch(/^"we\\\\ird \\"name\\", ok;x=1";q=/);
    expect(only(parseSfList(headers['RateLimit-Policy']!)).value).toBe(odd.policy);
    expect(only(parseSfList(headers['RateLimit']!)).value).toBe(odd.policy);

    for (const policy of ['naïve', 'line\nbreak', 'tab\there']) {
      expect(() => rateLimitHeaders(decision({ outcomes: [outcome({ policy })] }))).toThrowError(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
    }
  });

  it('keeps every number a valid non-negative sf-integer', () => {
    const weird = outcome({ policy: 'x', limit: 1e20, remaining: -5, resetMs: -10, windowSeconds: 0.5 });
    const headers = rateLimitHeaders(decision({ outcomes: [weird] }), { legacy: true });
    const policy = only(parseSfList(headers['RateLimit-Policy']!));
    expect(policy.params.get('q')).toBe(999_999_999_999_999);
    expect(policy.params.get('w')).toBe(0);
    const current = only(parseSfList(headers['RateLimit']!));
    expect(current.params.get('r')).toBe(0);
    expect(current.params.get('t')).toBe(0);
    expect(headers['X-RateLimit-Remaining']).toBe('0');
  });

  it('always produces parseable fields whose values round-trip (property)', () => {
    const printable = fc.string({ unit: fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(0x20 + i))), minLength: 1, maxLength: 40 });
    const outcomeArb = fc.record({
      policy: printable,
      key: fc.string({ maxLength: 80 }),
      allowed: fc.boolean(),
      limit: fc.integer({ min: 1, max: 10_000_000 }),
      remaining: fc.integer({ min: 0, max: 10_000_000 }),
      consumed: fc.nat(),
      resetMs: fc.integer({ min: 0, max: 86_400_000 }),
      windowSeconds: fc.integer({ min: 1, max: 86_400 }),
      shadow: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(outcomeArb, { minLength: 1, maxLength: 5 }), fc.boolean(), (outcomes, legacy) => {
        const headers = rateLimitHeaders(decision({ outcomes }), { legacy, partitionKeySecret: SECRET });
        const visible = outcomes.filter((entry) => !entry.shadow);
        if (visible.length === 0) {
          expect(headers['RateLimit-Policy']).toBeUndefined();
          return;
        }
        const policies = parseSfList(headers['RateLimit-Policy']!);
        expect(policies.map((item) => item.value)).toEqual(visible.map((entry) => entry.policy));
        policies.forEach((item, index) => {
          expect(item.params.get('q')).toBe(visible[index]!.limit);
          expect(item.params.get('w')).toBe(visible[index]!.windowSeconds);
          expect(bytesOf(item.params.get('pk'))).toEqual(expectedPk(visible[index]!.key));
        });
        const current = only(parseSfList(headers['RateLimit']!));
        // Names may repeat in random data: some visible outcome must match name, r and t.
        const matching = visible.filter(
          (entry) =>
            entry.policy === current.value &&
            entry.remaining === current.params.get('r') &&
            Math.ceil(entry.resetMs / 1000) === current.params.get('t'),
        );
        expect(matching.length).toBeGreaterThan(0);
        if (headers['Retry-After'] !== undefined) expect(Number(headers['Retry-After'])).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
