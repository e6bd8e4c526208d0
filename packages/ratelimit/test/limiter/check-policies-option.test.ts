// Security review: `check(subject, { policies: [] })` must not turn limiting off.
import { describe, expect, it } from 'vitest';
import { useClosingLimiters } from '../support/closing-limiters.js';

const limiterWith = useClosingLimiters();
const withCode = (code: string) => expect.objectContaining({ code });

describe('check() policies option', () => {
  it('rejects an empty list with VALIDATION_FAILED instead of checking nothing', async () => {
    const limiter = limiterWith({ policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    const subject = { ip: '203.0.113.7' };
    expect((await limiter.check(subject)).allowed).toBe(true);
    await expect(limiter.check(subject, { policies: [] })).rejects.toEqual(withCode('VALIDATION_FAILED'));
    await expect(limiter.check(subject, { policies: [], cost: 2 })).rejects.toEqual(withCode('VALIDATION_FAILED'));
    // Left out, the option still means every policy.
    expect((await limiter.check(subject, {})).allowed).toBe(false);
  });

  it('rejects it on a tenant-keyed limiter too, counting nothing', async () => {
    const limiter = limiterWith({ policies: [{ name: 'tenant', by: ['tenant'], points: 5, duration: 60 }] });
    await expect(limiter.check({ tenantId: 'acme' }, { policies: [] })).rejects.toEqual(withCode('VALIDATION_FAILED'));
    expect(await limiter.get('tenant', { tenantId: 'acme' })).toBeUndefined();
  });
});
