import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { defineExamplePlans, examplePlans } from '../src/plans.js';

describe('rate-limit configuration', () => {
  it('has production defaults that need no environment', () => {
    const config = loadConfig({});
    expect(config.rateLimits).toEqual({
      planRequestPoints: {},
      perUser: { points: 600, windowSeconds: 60, blockSeconds: 0 },
      perIp: { points: 1200, windowSeconds: 60, blockSeconds: 0 },
      signUp: { points: 5, windowSeconds: 600, blockSeconds: 3600 },
      partitionKeySecret: undefined,
      processes: 1,
    });
    // A metrics token of its own, random per start, never the admin token.
    expect(config.metricsToken.length).toBeGreaterThanOrEqual(32);
    expect(config.metricsToken).not.toBe(config.adminToken);
    expect(loadConfig({}).metricsToken).not.toBe(config.metricsToken);
  });

  it('reads lowered limits from the environment', () => {
    const config = loadConfig({
      RATE_LIMIT_PLAN_REQUESTS: 'free=5,pro=50',
      RATE_LIMIT_PER_USER: '25/3600',
      RATE_LIMIT_PER_IP: '50/60/120',
      RATE_LIMIT_SIGNUP: '3/600/3600',
      RATE_LIMIT_PROCESSES: '4',
      RATE_LIMIT_PARTITION_KEY_SECRET: 'pk-secret-0123456789',
      METRICS_TOKEN: 'metrics-token-0123456789',
    });
    expect(config.rateLimits).toEqual({
      planRequestPoints: { free: 5, pro: 50 },
      perUser: { points: 25, windowSeconds: 3600, blockSeconds: 0 },
      perIp: { points: 50, windowSeconds: 60, blockSeconds: 120 },
      signUp: { points: 3, windowSeconds: 600, blockSeconds: 3600 },
      partitionKeySecret: 'pk-secret-0123456789',
      processes: 4,
    });
    expect(config.metricsToken).toBe('metrics-token-0123456789');
  });

  it.each([
    ['RATE_LIMIT_PER_IP', '0/60'],
    ['RATE_LIMIT_PER_IP', '60'],
    ['RATE_LIMIT_PER_USER', '10/0'],
    ['RATE_LIMIT_SIGNUP', '-1/60'],
    ['RATE_LIMIT_PLAN_REQUESTS', 'free=0'],
    ['RATE_LIMIT_PLAN_REQUESTS', 'free:5'],
    ['RATE_LIMIT_PROCESSES', '0'],
    ['RATE_LIMIT_PARTITION_KEY_SECRET', 'short'],
    ['METRICS_TOKEN', 'short'],
  ])('refuses %s=%s at startup', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('overrides plan request points and keeps everything else of the plans', () => {
    const plans = defineExamplePlans({ free: 5 });
    expect(plans.rateLimitsOf({ plan: 'free' })).toEqual({ requests: { points: 5, windowSeconds: 3_600 } });
    expect(plans.rateLimitsOf({ plan: 'pro' })).toEqual(examplePlans.rateLimitsOf({ plan: 'pro' }));
    expect(plans.getPlan('free').limits).toEqual(examplePlans.getPlan('free').limits);
    expect(plans.getPlan('pro').features).toEqual(examplePlans.getPlan('pro').features);
    expect(defineExamplePlans({})).toBe(examplePlans);
  });

  it('refuses an override for a plan the example does not have (a typo would keep the real budget)', () => {
    expect(() => defineExamplePlans({ fre: 5 })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
