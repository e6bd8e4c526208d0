/**
 * Per-tenant decision counters, since the limiter started.
 *
 * @example
 * ```ts
 * const counters: TenantMeterCounters = { admitted: 120, rejected: 3, shadowRejected: 0, degraded: 0 };
 * ```
 */
export interface TenantMeterCounters {
  readonly admitted: number;
  readonly rejected: number;
  /** Admitted although a shadow policy refused. */
  readonly shadowRejected: number;
  /** Decided by a failure policy while the store was down. */
  readonly degraded: number;
}

/**
 * Noisy-neighbour visibility: admitted and rejected requests per tenant, bounded in memory
 * (tenants past `maxTenants` are counted under the tenant id `"(other)"`).
 *
 * @example
 * ```ts
 * app.get('/metrics', (_req, res) => res.type('text/plain').send(limiter.metering?.toPrometheusText()));
 * ```
 */
export interface TenantMetering {
  /** Counts one decision. */
  record(tenantId: string | undefined, outcome: 'admitted' | 'rejected' | 'shadowRejected', degraded: boolean): void;
  /** A copy of every tenant's counters (requests with no tenant under `"(none)"`). */
  snapshot(): ReadonlyMap<string, TenantMeterCounters>;
  /**
   * Prometheus text exposition: `tenantkit_ratelimit_requests_total{tenant,outcome}` and
   * `tenantkit_ratelimit_requests_degraded_total{tenant}` (decisions a failure policy made).
   */
  toPrometheusText(options?: { readonly metricName?: string }): string;
  /** Zeroes every counter. */
  reset(): void;
}
