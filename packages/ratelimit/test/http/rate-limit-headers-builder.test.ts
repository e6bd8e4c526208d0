import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRateLimitHeaders, rateLimitHeaders } from '../../src/http/rate-limit-headers.js';
import type { PolicyOutcome } from '../../src/limiter/rate-limit-decision.js';
import { decision, outcome } from './decision-fixtures.js';

const SECRET = 'a-configured-secret-of-enough-bytes';

describe('createRateLimitHeaders', () => {
  it('builds what rateLimitHeaders builds, request after request (property)', () => {
    const outcomeArb = fc.record({
      policy: fc.constantFrom('tenant', 'user', 'ip'),
      key: fc.constantFrom('tk:rl:tenant:{acme}', 'tk:rl:user:{acme}:user=u1', 'tk:rl:ip:{ip=203.0.113.7}'),
      allowed: fc.boolean(),
      limit: fc.constantFrom(10, 100),
      remaining: fc.integer({ min: 0, max: 100 }),
      consumed: fc.nat(),
      resetMs: fc.integer({ min: 0, max: 120_000 }),
      windowSeconds: fc.constantFrom(60, 3600),
      shadow: fc.boolean(),
      degraded: fc.constantFrom(undefined, 'open' as const, 'insurance' as const),
    });
    const options = [{}, { legacy: true, partitionKeySecret: SECRET }, { partitionKeys: false }] as const;
    const builders = options.map((option) => createRateLimitHeaders(option));
    fc.assert(
      fc.property(fc.array(fc.array(outcomeArb, { maxLength: 4 }), { minLength: 1, maxLength: 10 }), (requests) => {
        for (const outcomes of requests) {
          const refused = outcomes.find((entry) => !entry.allowed && !entry.shadow);
          const made = decision({ outcomes: outcomes as PolicyOutcome[], deciding: refused ?? outcomes[outcomes.length - 1] });
          options.forEach((option, index) => expect(builders[index]!(made)).toEqual(rateLimitHeaders(made, option)));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("follows a counter's limit when its plan changes, keeping its partition key", () => {
    const headersOf = createRateLimitHeaders({ partitionKeySecret: SECRET });
    const free = outcome({ policy: 'tenant', limit: 100 });
    const pro = outcome({ policy: 'tenant', limit: 1000, remaining: 999 });
    const before = headersOf(decision({ outcomes: [free] }));
    const after = headersOf(decision({ outcomes: [pro] }));
    expect(before['RateLimit-Policy']).toMatch(/^"tenant";q=100;w=60;pk=:/);
    expect(after['RateLimit-Policy']).toMatch(/^"tenant";q=1000;w=60;pk=:/);
    expect(after['RateLimit-Policy']!.split(';pk=')[1]).toBe(before['RateLimit-Policy']!.split(';pk=')[1]);
    expect(after['RateLimit']).toMatch(/^"tenant";r=999;t=59;pk=:/);
  });

  it('keeps nothing across builders: each one keys by its own secret', () => {
    const ip = outcome({ policy: 'ip', key: 'tk:rl:ip:{ip=198.51.100.7}' });
    const first = createRateLimitHeaders({ partitionKeySecret: SECRET });
    const second = createRateLimitHeaders({ partitionKeySecret: `${SECRET}-other` });
    const made = decision({ outcomes: [ip] });
    expect(first(made)['RateLimit']).toBe(rateLimitHeaders(made, { partitionKeySecret: SECRET })['RateLimit']);
    expect(second(made)['RateLimit']).toBe(rateLimitHeaders(made, { partitionKeySecret: `${SECRET}-other` })['RateLimit']);
    expect(first(made)['RateLimit']).not.toBe(second(made)['RateLimit']);
  });

  it('stays correct past its cache size, and returns a fresh object every time', () => {
    const headersOf = createRateLimitHeaders({ partitionKeySecret: SECRET });
    const outcomes = Array.from({ length: 10_050 }, (_, index) => outcome({ policy: 'ip', key: `tk:rl:ip:{ip=10.0.${index >> 8}.${index & 255}}` }));
    for (const entry of outcomes) headersOf(decision({ outcomes: [entry] }));
    for (const entry of [outcomes[0]!, outcomes[10_049]!]) {
      const made = decision({ outcomes: [entry] });
      expect(headersOf(made)).toEqual(rateLimitHeaders(made, { partitionKeySecret: SECRET }));
    }
    const made = decision({ outcomes: [outcomes[0]!] });
    const once = headersOf(made);
    delete once['RateLimit'];
    expect(headersOf(made)['RateLimit']).toBeDefined();
  });

  it('refuses a short secret when it is created, and a non-ASCII policy name on every call', () => {
    expect(() => createRateLimitHeaders({ partitionKeySecret: 'short' })).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    expect(() => createRateLimitHeaders({ partitionKeySecret: 'short', partitionKeys: false })).not.toThrow();
    const headersOf = createRateLimitHeaders();
    const made = decision({ outcomes: [outcome({ policy: 'naïve' })] });
    expect(() => headersOf(made)).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => headersOf(made)).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
