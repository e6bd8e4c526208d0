import { describe, expect, it } from 'vitest';
import { decideMostRestrictive } from '../../src/limiter/decide-most-restrictive.js';
import type { PolicyOutcome } from '../../src/limiter/rate-limit-decision.js';

function outcome(policy: string, fields: Partial<PolicyOutcome>): PolicyOutcome {
  return { policy, key: `k:${policy}`, allowed: true, limit: 10, remaining: 10, consumed: 0, resetMs: 1000, windowSeconds: 60, shadow: false, ...fields };
}

describe('decideMostRestrictive', () => {
  it('admits with no deciding outcome when nothing applied', () => {
    expect(decideMostRestrictive([], 'acme')).toEqual({ allowed: true, reason: 'allowed', outcomes: [], deciding: undefined, retryAfterMs: 0, tenantId: 'acme' });
  });

  it('picks the admitting outcome with the smallest remaining / limit, the earlier one on ties', () => {
    const a = outcome('a', { limit: 1000, remaining: 500 });
    const b = outcome('b', { limit: 10, remaining: 4 });
    const c = outcome('c', { limit: 5, remaining: 2 });
    expect(decideMostRestrictive([a, b, c], undefined).deciding).toBe(b);
    expect(decideMostRestrictive([c, b], undefined).deciding).toBe(c);
  });

  it('picks the refusing outcome with the longest wait, over any admitting one', () => {
    const admitting = outcome('admitting', { remaining: 0, limit: 10 });
    const short = outcome('short', { allowed: false, remaining: 0, resetMs: 5_000 });
    const long = outcome('long', { allowed: false, remaining: 0, resetMs: 90_000 });
    const decision = decideMostRestrictive([admitting, short, long], undefined);
    expect(decision).toMatchObject({ allowed: false, reason: 'limited', deciding: long, retryAfterMs: 90_000 });
  });

  it('lets shadow outcomes report only', () => {
    const enforced = outcome('enforced', { remaining: 9 });
    const shadowRefusal = outcome('shadow', { allowed: false, remaining: 0, resetMs: 50_000, shadow: true });
    expect(decideMostRestrictive([enforced, shadowRefusal], undefined)).toMatchObject({
      allowed: true,
      reason: 'shadow-limited',
      deciding: enforced,
      retryAfterMs: 0,
    });
    // With only shadow outcomes, the most restrictive of them is the deciding one, still admitted.
    expect(decideMostRestrictive([shadowRefusal], undefined)).toMatchObject({ allowed: true, reason: 'shadow-limited', deciding: shadowRefusal, retryAfterMs: 0 });
    const shadowAdmitting = outcome('shadow', { shadow: true });
    expect(decideMostRestrictive([enforced, shadowAdmitting], undefined).reason).toBe('allowed');
  });
});
