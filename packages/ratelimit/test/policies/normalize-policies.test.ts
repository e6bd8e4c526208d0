import { describe, expect, it } from 'vitest';
import { createRateLimiter } from '../../src/limiter/create-rate-limiter.js';
import type { RateLimiterOptions } from '../../src/limiter/rate-limiter.js';
import { normalizeRateLimiterOptions } from '../../src/policies/normalize-policies.js';
import { plans } from '../limiter/fixtures.js';

const ip = { name: 'ip', by: ['ip'], points: 10, duration: 60 } as const;

/** The issues createRateLimiter reports for these options (it must throw CONFIGURATION_INVALID). */
function issuesOf(options: unknown): { path: string; message: string }[] {
  try {
    createRateLimiter(options as RateLimiterOptions);
  } catch (error) {
    expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID', name: 'RateLimitError' });
    return ((error as { details?: { issues?: { path: string; message: string }[] } }).details?.issues ?? []);
  }
  throw new Error('createRateLimiter accepted the options');
}

const pathsOf = (options: unknown) => issuesOf(options).map((issue) => issue.path);

describe('createRateLimiter option validation (CONFIGURATION_INVALID)', () => {
  it('needs an options object with at least one policy', () => {
    issuesOf(undefined);
    issuesOf('ip');
    expect(pathsOf({})).toEqual(['policies']);
    expect(pathsOf({ policies: [] })).toEqual(['policies']);
  });

  it.each([
    ['Uppercase'],
    [''],
    ['-leading-dash'],
    ['has:colon'],
    ['has space'],
    ['x'.repeat(65)],
  ])('refuses the policy name %j', (name) => {
    expect(pathsOf({ policies: [{ ...ip, name }] })).toEqual(['policies.0.name']);
  });

  it('accepts names of a-z 0-9 _ - up to 64 characters', () => {
    for (const name of ['a', '0', 'tenant-requests', 'per_user_2', 'x'.repeat(64)]) {
      expect(() => createRateLimiter({ policies: [{ ...ip, name }] })).not.toThrow();
    }
  });

  it('refuses duplicate names', () => {
    expect(pathsOf({ policies: [ip, { ...ip, by: ['user'] }] })).toEqual(['policies.1.name']);
  });

  it('refuses an empty, repeating or unknown dimension list', () => {
    expect(pathsOf({ policies: [{ ...ip, by: [] }] })).toEqual(['policies.0.by']);
    expect(pathsOf({ policies: [{ ...ip, by: ['ip', 'ip'] }] })).toEqual(['policies.0.by']);
    expect(pathsOf({ policies: [{ ...ip, by: ['email'] }] })).toEqual(['policies.0.by.0']);
  });

  it('needs points with duration, and either them or fromPlan', () => {
    expect(pathsOf({ policies: [{ name: 'ip', by: ['ip'], points: 10 }] })).toEqual(['policies.0.duration']);
    expect(pathsOf({ policies: [{ name: 'ip', by: ['ip'], duration: 10 }] })).toEqual(['policies.0.points']);
    expect(pathsOf({ policies: [{ name: 'ip', by: ['ip'] }] })).toEqual(['policies.0.points']);
  });

  it('needs whole numbers in range', () => {
    expect(pathsOf({ policies: [{ ...ip, points: 0 }] })).toEqual(['policies.0.points']);
    expect(pathsOf({ policies: [{ ...ip, points: 2.5 }] })).toEqual(['policies.0.points']);
    expect(pathsOf({ policies: [{ ...ip, duration: 0 }] })).toEqual(['policies.0.duration']);
    expect(pathsOf({ policies: [{ ...ip, duration: 400_000_000 }] })).toEqual(['policies.0.duration']);
    expect(pathsOf({ policies: [{ ...ip, blockDuration: -1 }] })).toEqual(['policies.0.blockDuration']);
    expect(pathsOf({ policies: [{ ...ip, burst: { points: 0, duration: 1 } }] })).toEqual(['policies.0.burst.points']);
    expect(pathsOf({ policies: [{ ...ip, burst: { points: 1 } }] })).toEqual(['policies.0.burst.duration']);
  });

  it('needs plans for fromPlan, and a plan-section key for it', () => {
    expect(pathsOf({ policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests' }] })).toEqual(['policies.0.fromPlan']);
    expect(pathsOf({ plans, policies: [{ name: 'tenant', by: ['tenant'], fromPlan: '1-bad' }] })).toEqual(['policies.0.fromPlan']);
  });

  it('refuses unknown fields in a policy and in the options (typos fail loudly)', () => {
    expect(pathsOf({ policies: [{ ...ip, point: 5 }] })).toEqual(['policies.0']);
    expect(pathsOf({ policies: [ip], timeoutMs: 100 })).toEqual(['']);
  });

  it('checks every other option', () => {
    expect(pathsOf({ policies: [{ ...ip, failure: 'retry' }] })).toEqual(['policies.0.failure']);
    expect(pathsOf({ policies: [ip], failure: 'maybe' })).toEqual(['failure']);
    expect(pathsOf({ policies: [ip], storeTimeoutMs: 0 })).toEqual(['storeTimeoutMs']);
    expect(pathsOf({ policies: [ip], insurance: { divideBy: 0 } })).toEqual(['insurance.divideBy']);
    for (const keyPrefix of ['', 'tk:{rl}', 'tk:', ':tk', 'tk::rl', 'tk rl']) {
      expect(pathsOf({ policies: [ip], keyPrefix })).toEqual(['keyPrefix']);
    }
    expect(pathsOf({ policies: [ip], metering: { maxTenants: 0 } })).toEqual(['metering.maxTenants']);
    expect(pathsOf({ policies: [ip], metering: true })).toEqual(['metering']);
    expect(pathsOf({ policies: [ip], onEvent: 'log' })).toEqual(['onEvent']);
    expect(pathsOf({ policies: [ip], clock: Date })).toEqual(['clock']);
    expect(pathsOf({ policies: [ip], store: { consumeAll() {} } })).toEqual(['store']);
    expect(pathsOf({ policies: [ip], plans: { free: {} } })).toEqual(['plans']);
    expect(pathsOf({ policies: [ip], shadow: 'yes' })).toEqual(['shadow']);
    expect(pathsOf({ policies: [ip], allowList: ['10.0.0.0/8'] })).toEqual(['allowList']);
  });

  it('lists every issue at once, in the message too', () => {
    let message = '';
    try {
      createRateLimiter({ policies: [{ ...ip, name: 'Bad' }, { ...ip, points: 0 }], storeTimeoutMs: -1 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('policies.0.name');
    expect(message).toContain('policies.1.points');
    expect(message).toContain('storeTimeoutMs');
  });
});

describe('normalizeRateLimiterOptions', () => {
  it('applies the defaults', () => {
    const normalized = normalizeRateLimiterOptions({ policies: [ip, { ...ip, name: 'strict', failure: 'closed', shadow: true }] });
    expect(normalized).toMatchObject({
      store: undefined,
      insuranceDivideBy: 1,
      storeTimeoutMs: 500,
      keyPrefix: 'tk:rl',
      metering: { maxTenants: 10_000 },
    });
    expect(normalized.policies).toEqual([
      { name: 'ip', by: ['ip'], fromPlan: undefined, limit: { points: 10, duration: 60, blockDuration: 0 }, defaults: { blockDuration: 0 }, failure: 'insurance', shadow: false },
      expect.objectContaining({ name: 'strict', failure: 'closed', shadow: true }),
    ]);
  });

  it('takes the limiter-wide failure policy and shadow mode as defaults of every policy', () => {
    const normalized = normalizeRateLimiterOptions({ failure: 'open', shadow: true, policies: [ip, { ...ip, name: 'strict', failure: 'closed' }] });
    expect(normalized.policies.map((policy) => [policy.failure, policy.shadow])).toEqual([
      ['open', true],
      ['closed', true],
    ]);
  });
});
