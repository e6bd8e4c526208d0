import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import { createTenantMetering } from '../../src/metering/create-tenant-metering.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

interface Family {
  help?: string;
  type?: string;
  readonly samples: Sample[];
}

/**
 * Parses the Prometheus text exposition format (0.0.4) line by line, strictly: every line is a
 * HELP, a TYPE or a sample of the family just declared; label values are unescaped (`\\`,
 * `\"`, `\n`) and any other escape or stray character fails the parse.
 */
function parsePrometheusText(text: string): Map<string, Family> {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, Family>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta !== null) {
      const [, kind, name, rest] = meta as unknown as [string, 'HELP' | 'TYPE', string, string];
      const family = families.get(name) ?? { samples: [] };
      if (families.has(name) && current !== name) throw new Error(`family ${name} is split: ${line}`);
      families.set(name, family);
      current = name;
      if (kind === 'HELP') {
        expect(family.help).toBeUndefined();
        family.help = rest;
      } else {
        expect(family.samples).toHaveLength(0);
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(rest);
        family.type = rest;
      }
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (sample === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const [, name, labelText, valueText] = sample as unknown as [string, string, string | undefined, string];
    if (name !== current) throw new Error(`sample of ${name} outside its family: ${line}`);
    const labels: Record<string, string> = {};
    if (labelText !== undefined) {
      let rest = labelText.slice(1, -1);
      while (rest.length > 0) {
        const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
        if (label === null) throw new Error(`bad labels: ${labelText}`);
        labels[label[1]!] = label[2]!.replace(/\\([\\"n])/g, (_, char: string) => (char === 'n' ? '\n' : char));
        rest = rest.slice(label[0].length);
        if (label[3] === '' && rest.length > 0) throw new Error(`bad labels: ${labelText}`);
      }
    }
    const value = Number(valueText);
    expect(Number.isFinite(value)).toBe(true);
    families.get(name)!.samples.push({ name, labels, value });
  }
  return families;
}

function valueOf(family: Family | undefined, labels: Record<string, string>): number | undefined {
  return family?.samples.find((sample) => JSON.stringify(sample.labels) === JSON.stringify(labels))?.value;
}

describe('createTenantMetering', () => {
  it('counts decisions per tenant, with "(none)" for no tenant', () => {
    const metering = createTenantMetering();
    metering.record('acme', 'admitted', false);
    metering.record('acme', 'admitted', true);
    metering.record('acme', 'rejected', false);
    metering.record('globex', 'shadowRejected', false);
    metering.record(undefined, 'rejected', true);
    metering.record('', 'admitted', false);

    const snapshot = metering.snapshot();
    expect([...snapshot.keys()]).toEqual(['(none)', 'acme', 'globex']);
    expect(snapshot.get('acme')).toEqual({ admitted: 2, rejected: 1, shadowRejected: 0, degraded: 1 });
    expect(snapshot.get('globex')).toEqual({ admitted: 0, rejected: 0, shadowRejected: 1, degraded: 0 });
    expect(snapshot.get('(none)')).toEqual({ admitted: 1, rejected: 1, shadowRejected: 0, degraded: 1 });
  });

  it('hands out copies: a snapshot does not change later or change the counters', () => {
    const metering = createTenantMetering();
    metering.record('acme', 'admitted', false);
    const before = metering.snapshot();
    metering.record('acme', 'admitted', false);
    expect(before.get('acme')!.admitted).toBe(1);
    expect(Object.isFrozen(before.get('acme'))).toBe(true);
    (before as Map<string, unknown>).delete('acme');
    expect(metering.snapshot().get('acme')!.admitted).toBe(2);
  });

  it('stays bounded: tenants past maxTenants share "(other)"', () => {
    const metering = createTenantMetering({ maxTenants: 3 });
    for (let index = 0; index < 100; index += 1) metering.record(`t${index}`, 'admitted', false);
    metering.record('t0', 'rejected', false);
    metering.record(undefined, 'admitted', false);
    const snapshot = metering.snapshot();
    expect([...snapshot.keys()]).toEqual(['(none)', '(other)', 't0', 't1', 't2']);
    expect(snapshot.get('(other)')!.admitted).toBe(97);
    expect(snapshot.get('t0')).toEqual({ admitted: 1, rejected: 1, shadowRejected: 0, degraded: 0 });
    // "(none)" and "(other)" do not use tenant slots.
    expect(snapshot.size).toBe(5);
    // A tenant past the bound keeps counting under "(other)", it never takes a freed slot.
    metering.record('t50', 'rejected', false);
    expect(metering.snapshot().get('(other)')!.rejected).toBe(1);
  });

  it('keeps the bound for any stream of tenant ids (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.option(fc.string({ maxLength: 8 })), { maxLength: 200 }), (maxTenants, ids) => {
        const metering = createTenantMetering({ maxTenants });
        for (const id of ids) metering.record(id ?? undefined, 'admitted', false);
        const snapshot = metering.snapshot();
        const own = [...snapshot.keys()].filter((key) => key !== '(none)' && key !== '(other)');
        expect(own.length).toBeLessThanOrEqual(maxTenants);
        let total = 0;
        for (const counters of snapshot.values()) total += counters.admitted;
        expect(total).toBe(ids.length);
      }),
    );
  });

  it('resets every counter and frees the tenant slots', () => {
    const metering = createTenantMetering({ maxTenants: 1 });
    metering.record('a', 'admitted', false);
    metering.record('b', 'admitted', false);
    metering.reset();
    expect(metering.snapshot().size).toBe(0);
    metering.record('b', 'admitted', false);
    expect([...metering.snapshot().keys()]).toEqual(['b']);
  });

  it('writes the Prometheus text format, parsed back line by line', () => {
    const metering = createTenantMetering();
    metering.record('globex', 'admitted', false);
    metering.record('acme', 'admitted', false);
    metering.record('acme', 'rejected', true);
    metering.record(undefined, 'shadowRejected', false);

    const text = metering.toPrometheusText();
    const families = parsePrometheusText(text);
    expect([...families.keys()]).toEqual(['tenantkit_ratelimit_requests_total', 'tenantkit_ratelimit_requests_degraded_total']);
    const requests = families.get('tenantkit_ratelimit_requests_total')!;
    expect(requests.type).toBe('counter');
    expect(requests.help).toBeTruthy();
    expect(requests.samples).toHaveLength(9);
    expect(valueOf(requests, { tenant: 'acme', outcome: 'admitted' })).toBe(1);
    expect(valueOf(requests, { tenant: 'acme', outcome: 'rejected' })).toBe(1);
    expect(valueOf(requests, { tenant: 'acme', outcome: 'shadow_rejected' })).toBe(0);
    expect(valueOf(requests, { tenant: '(none)', outcome: 'shadow_rejected' })).toBe(1);
    const degraded = families.get('tenantkit_ratelimit_requests_degraded_total')!;
    expect(degraded.type).toBe('counter');
    expect(degraded.samples.map((sample) => [sample.labels.tenant, sample.value])).toEqual([
      ['(none)', 0],
      ['acme', 1],
      ['globex', 0],
    ]);
    // Sorted by tenant, outcomes in a fixed order.
    expect(requests.samples.map((sample) => `${sample.labels.tenant}/${sample.labels.outcome}`)).toEqual([
      '(none)/admitted',
      '(none)/rejected',
      '(none)/shadow_rejected',
      'acme/admitted',
      'acme/rejected',
      'acme/shadow_rejected',
      'globex/admitted',
      'globex/rejected',
      'globex/shadow_rejected',
    ]);
    expect(text.split('\n')[0]).toBe('# HELP tenantkit_ratelimit_requests_total Rate-limit decisions per tenant and outcome.');
    expect(text.split('\n')[1]).toBe('# TYPE tenantkit_ratelimit_requests_total counter');
    expect(text.split('\n')[3]).toBe('tenantkit_ratelimit_requests_total{tenant="(none)",outcome="rejected"} 0');
  });

  it('is deterministic: the same counts recorded in any order give the same bytes', () => {
    const a = createTenantMetering();
    const b = createTenantMetering();
    for (const id of ['b', 'a', 'Z', 'é', '_x']) a.record(id, 'admitted', false);
    for (const id of ['é', '_x', 'Z', 'a', 'b']) b.record(id, 'admitted', false);
    expect(a.toPrometheusText()).toBe(b.toPrometheusText());
    expect(a.toPrometheusText()).toBe(a.toPrometheusText());
  });

  it('escapes backslash, double quote and line feed in label values', () => {
    const metering = createTenantMetering();
    const nasty = 'a\\b"c\nd} 1\ninjected_metric 999';
    metering.record(nasty, 'admitted', false);
    const text = metering.toPrometheusText();
    expect(text).toContain('tenant="a\\\\b\\"c\\nd} 1\\ninjected_metric 999"');
    expect(text).not.toMatch(/^injected_metric/m);
    const families = parsePrometheusText(text);
    expect([...families.keys()]).toHaveLength(2);
    expect(valueOf(families.get('tenantkit_ratelimit_requests_total'), { tenant: nasty, outcome: 'admitted' })).toBe(1);
  });

  it('round-trips any tenant id through the text format (property)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { maxLength: 8 }), (ids) => {
        const metering = createTenantMetering();
        ids.forEach((id, index) => {
          for (let count = 0; count <= index; count += 1) metering.record(id, 'rejected', count % 2 === 0);
        });
        const families = parsePrometheusText(metering.toPrometheusText());
        ids.forEach((id, index) => {
          const label = id === '' ? '(none)' : id;
          expect(valueOf(families.get('tenantkit_ratelimit_requests_total'), { tenant: label, outcome: 'rejected' })).toBe(index + 1);
          expect(valueOf(families.get('tenantkit_ratelimit_requests_degraded_total'), { tenant: label })).toBe(Math.ceil((index + 1) / 2));
        });
      }),
    );
  });

  it('uses a custom metric name and validates it', () => {
    const metering = createTenantMetering();
    metering.record('acme', 'admitted', false);
    const families = parsePrometheusText(metering.toPrometheusText({ metricName: 'app:rl_requests_total' }));
    expect([...families.keys()]).toEqual(['app:rl_requests_total', 'app:rl_requests_degraded_total']);
    expect([...parsePrometheusText(metering.toPrometheusText({ metricName: 'rl' })).keys()]).toEqual(['rl', 'rl_degraded']);

    for (const metricName of ['', '1abc', 'has space', 'dash-name', 'x{y}', 'new\nline', 42]) {
      let caught: unknown;
      try {
        metering.toPrometheusText({ metricName: metricName as string });
      } catch (error) {
        caught = error;
      }
      expect(caught, String(metricName)).toBeInstanceOf(RateLimitError);
      expect((caught as RateLimitError).code).toBe('VALIDATION_FAILED');
    }
  });

  it('writes only the headers when nothing was recorded', () => {
    const text = createTenantMetering().toPrometheusText();
    const families = parsePrometheusText(text);
    expect([...families.values()].every((family) => family.samples.length === 0 && family.type === 'counter')).toBe(true);
  });

  it('refuses a bad maxTenants and a bad outcome with coded errors', () => {
    for (const maxTenants of [0, -1, 1.5, Number.NaN, 2_000_000, '10' as unknown as number]) {
      expect(() => createTenantMetering({ maxTenants })).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    }
    expect(() => createTenantMetering({ maxTenants: 1_000_000 })).not.toThrow();
    const metering = createTenantMetering();
    expect(() => metering.record('acme', 'dropped' as never, false)).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(metering.snapshot().size).toBe(0);
  });
});
