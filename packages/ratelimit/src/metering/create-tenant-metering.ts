import { RateLimitError } from '../errors.js';
import type { TenantMeterCounters, TenantMetering } from './tenant-metering.js';

/**
 * Options of {@link createTenantMetering}.
 *
 * @example
 * ```ts
 * const options: TenantMeteringOptions = { maxTenants: 50_000 };
 * ```
 */
export interface TenantMeteringOptions {
  /**
   * Tenants counted under their own id, a whole number from 1 to 1,000,000; default 10,000.
   * Later tenants are counted under `"(other)"` until {@link TenantMetering.reset}, so memory
   * and the size of the Prometheus output stay bounded whatever ids reach the limiter.
   */
  readonly maxTenants?: number;
}

/** The label for decisions without a tenant. */
const NO_TENANT = '(none)';
/** The label for tenants past `maxTenants`. */
const OTHER_TENANTS = '(other)';
const DEFAULT_MAX_TENANTS = 10_000;
const MAX_MAX_TENANTS = 1_000_000;
const DEFAULT_METRIC_NAME = 'tenantkit_ratelimit_requests_total';
// The metric name grammar of the Prometheus text exposition format.
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

interface MutableCounters {
  admitted: number;
  rejected: number;
  shadowRejected: number;
  degraded: number;
}

// Label values follow Prometheus's snake_case convention; the order is the output order.
const OUTCOME_LABELS = [
  ['admitted', 'admitted'],
  ['rejected', 'rejected'],
  ['shadowRejected', 'shadow_rejected'],
] as const;

/** Escapes a label value for the text format: backslash, double quote, line feed. */
function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (char) => (char === '\\' ? '\\\\' : char === '"' ? '\\"' : '\\n'));
}

// Code-unit order, not localeCompare: the output must not depend on the process locale.
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The per-tenant decision counters a limiter keeps (noisy-neighbour visibility): admitted,
 * rejected and shadow-rejected requests per tenant, plus how many of them a failure policy
 * decided while the store was down. Bounded: at most `maxTenants` tenant ids are kept, the
 * rest share `"(other)"`; decisions without a tenant count under `"(none)"`. Both names hold
 * parentheses, which no tenant-context tenant id can, so no real tenant shares them.
 *
 * `toPrometheusText()` writes the text exposition format (version 0.0.4), families in a
 * fixed order and tenants sorted by code unit, so two scrapes of equal counters are equal
 * byte for byte:
 *
 * ```text
 * # HELP tenantkit_ratelimit_requests_total Rate-limit decisions per tenant and outcome.
 * # TYPE tenantkit_ratelimit_requests_total counter
 * tenantkit_ratelimit_requests_total{tenant="acme",outcome="admitted"} 120
 * tenantkit_ratelimit_requests_total{tenant="acme",outcome="rejected"} 3
 * tenantkit_ratelimit_requests_total{tenant="acme",outcome="shadow_rejected"} 0
 * # HELP tenantkit_ratelimit_requests_degraded_total Rate-limit decisions per tenant taken by a failure policy while the store was down.
 * # TYPE tenantkit_ratelimit_requests_degraded_total counter
 * tenantkit_ratelimit_requests_degraded_total{tenant="acme"} 0
 * ```
 *
 * With `metricName: 'x_total'` the second family is `x_degraded_total` (a trailing `_total`
 * is moved to the end). Counters only grow until `reset()`.
 *
 * @throws `CONFIGURATION_INVALID` for a `maxTenants` that is not a whole number in range.
 * @example
 * ```ts
 * const metering = createTenantMetering({ maxTenants: 1000 });
 * metering.record('acme', 'admitted', false);
 * metering.snapshot().get('acme'); // { admitted: 1, rejected: 0, shadowRejected: 0, degraded: 0 }
 * app.get('/metrics', (_req, res) => res.type('text/plain; version=0.0.4').send(metering.toPrometheusText()));
 * ```
 */
export function createTenantMetering(options: TenantMeteringOptions = {}): TenantMetering {
  if (typeof options !== 'object' || options === null) {
    throw new RateLimitError('CONFIGURATION_INVALID', 'The metering options must be an object');
  }
  const maxTenants = options.maxTenants ?? DEFAULT_MAX_TENANTS;
  if (!Number.isSafeInteger(maxTenants) || maxTenants < 1 || maxTenants > MAX_MAX_TENANTS) {
    throw new RateLimitError(
      'CONFIGURATION_INVALID',
      `metering.maxTenants must be a whole number from 1 to ${MAX_MAX_TENANTS}`,
      { details: { maxTenants: String(options.maxTenants) } },
    );
  }

  // Own tenants (at most maxTenants) plus the two reserved buckets.
  const counters = new Map<string, MutableCounters>();
  let ownTenants = 0;

  const countersOf = (tenantId: string | undefined): MutableCounters => {
    const label = typeof tenantId === 'string' && tenantId.length > 0 ? tenantId : NO_TENANT;
    let entry = counters.get(label);
    if (entry !== undefined) return entry;
    const reserved = label === NO_TENANT || label === OTHER_TENANTS;
    if (!reserved && ownTenants >= maxTenants) return countersOf(OTHER_TENANTS);
    entry = { admitted: 0, rejected: 0, shadowRejected: 0, degraded: 0 };
    counters.set(label, entry);
    if (!reserved) ownTenants += 1;
    return entry;
  };

  const sortedLabels = (): string[] => [...counters.keys()].sort(byCodeUnits);

  return Object.freeze({
    record(tenantId: string | undefined, outcome: 'admitted' | 'rejected' | 'shadowRejected', degraded: boolean): void {
      if (outcome !== 'admitted' && outcome !== 'rejected' && outcome !== 'shadowRejected') {
        throw new RateLimitError('VALIDATION_FAILED', 'The metering outcome must be admitted, rejected or shadowRejected', {
          details: { outcome: String(outcome) },
        });
      }
      const entry = countersOf(tenantId);
      entry[outcome] += 1;
      if (degraded === true) entry.degraded += 1;
    },

    snapshot(): ReadonlyMap<string, TenantMeterCounters> {
      const copy = new Map<string, TenantMeterCounters>();
      for (const label of sortedLabels()) copy.set(label, Object.freeze({ ...counters.get(label)! }));
      return copy;
    },

    toPrometheusText(textOptions: { readonly metricName?: string } = {}): string {
      const metricName = textOptions?.metricName ?? DEFAULT_METRIC_NAME;
      if (typeof metricName !== 'string' || !METRIC_NAME.test(metricName)) {
        throw new RateLimitError('VALIDATION_FAILED', 'The metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*', {
          details: { metricName: String(metricName) },
        });
      }
      const degradedName = metricName.endsWith('_total')
        ? `${metricName.slice(0, -'_total'.length)}_degraded_total`
        : `${metricName}_degraded`;
      const labels = sortedLabels();
      const lines: string[] = [
        `# HELP ${metricName} Rate-limit decisions per tenant and outcome.`,
        `# TYPE ${metricName} counter`,
      ];
      for (const label of labels) {
        const entry = counters.get(label)!;
        const tenant = escapeLabelValue(label);
        for (const [field, outcome] of OUTCOME_LABELS) {
          lines.push(`${metricName}{tenant="${tenant}",outcome="${outcome}"} ${entry[field]}`);
        }
      }
      lines.push(
        `# HELP ${degradedName} Rate-limit decisions per tenant taken by a failure policy while the store was down.`,
        `# TYPE ${degradedName} counter`,
      );
      for (const label of labels) {
        lines.push(`${degradedName}{tenant="${escapeLabelValue(label)}"} ${counters.get(label)!.degraded}`);
      }
      // Every line, the last one included, ends with a line feed.
      return `${lines.join('\n')}\n`;
    },

    reset(): void {
      counters.clear();
      ownTenants = 0;
    },
  });
}
