import { definePlans } from '@tenantkit/tenant-context';

/** The example's plans. Request rates per plan will be read from `rateLimits` by @tenantkit/ratelimit. */
export const examplePlans = definePlans({
  free: {
    name: 'Free',
    limits: { projects: 3, domains: 0 },
    features: [],
    rateLimits: { requests: { points: 1_000, windowSeconds: 3_600 } },
  },
  pro: {
    name: 'Pro',
    limits: { projects: 100, domains: 3 },
    features: ['custom-domains', 'audit-export'],
    rateLimits: { requests: { points: 100_000, windowSeconds: 3_600 } },
  },
  enterprise: {
    name: 'Enterprise',
    limits: { projects: -1, domains: 20 },
    features: ['custom-domains', 'audit-export', 'sso'],
    rateLimits: { requests: { points: 1_000_000, windowSeconds: 3_600 } },
  },
});
