// Shared fixtures of the limiter tests: a plan catalog and tenant records to open scopes with.
import { definePlans, type Tenant } from '@tenantkit/tenant-context';
import { buildTenant } from '@tenantkit/test-utils';
import { expect } from 'vitest';

export const plans = definePlans({
  free: { rateLimits: { requests: { points: 3, windowSeconds: 60 } } },
  pro: { rateLimits: { requests: { points: 5, windowSeconds: 60, blockSeconds: 120 } } },
  enterprise: { rateLimits: { requests: { points: -1 } } },
});

/** A tenant record as a resolved request scope carries it (test-utils' defaults, this plan). */
export function tenantRecord(id: string, plan: string): Tenant {
  return buildTenant({ id, plan });
}

/** Matches a RateLimitError (or any coded error) with this code. */
export const withCode = (code: string) => expect.objectContaining({ code });
