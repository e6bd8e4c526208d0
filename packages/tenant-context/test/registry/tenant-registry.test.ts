import { createManualClock, type ManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { createTenantEventBus, type TenantEventMap, type TenantEventName } from '../../src/events.js';
import { defaultReservedSlugs } from '../../src/identifiers.js';
import { createTenantRegistry, type TenantRegistryOptions } from '../../src/registry/tenant-registry.js';
import type { TenantStore } from '../../src/store.js';
import type { TenantDomain } from '../../src/tenant.js';

const START = Date.UTC(2026, 0, 1);

type RecordedEvent = { [Name in TenantEventName]: { name: Name; payload: TenantEventMap[Name] } }[TenantEventName];

const recordedEventNames: TenantEventName[] = ['tenant.created', 'tenant.updated', 'tenant.status_changed', 'tenant.purged'];

function setup<Settings = Record<string, unknown>>(options: Partial<TenantRegistryOptions<Settings>> = {}) {
  const store = options.store ?? memoryTenantStore();
  const clock: ManualClock = createManualClock(START);
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const emitted: RecordedEvent[] = [];
  for (const name of recordedEventNames) {
    events.on(name, (payload) => void emitted.push({ name, payload } as RecordedEvent));
  }
  const registry = createTenantRegistry<Settings>({ clock, events, ...options, store });
  return { store, clock, events, emitted, registry };
}

function pendingDomain(tenantId: string, hostname: string, status: TenantDomain['status'] = 'pending'): TenantDomain {
  return {
    hostname,
    tenantId,
    status,
    verificationToken: `token-${hostname}`,
    createdAt: START,
    verifiedAt: status === 'verified' ? START : null,
  };
}

const appSettingsSchema = z.object({
  theme: z.enum(['light', 'dark']).default('light'),
  seats: z.number().int().min(1).default(5),
  branding: z.object({ color: z.string().regex(/^#[0-9a-f]{6}$/) }).optional(),
});
type AppSettings = z.output<typeof appSettingsSchema>;

describe('createTenantRegistry options', () => {
  it('exposes the store and the event bus it was given', () => {
    const { registry, store, events } = setup();
    expect(registry.store).toBe(store);
    expect(registry.events).toBe(events);
  });

  it('creates a private event bus when none is given', () => {
    const registry = createTenantRegistry({ store: memoryTenantStore() });
    expect(typeof registry.events.on).toBe('function');
    expect(typeof registry.events.emit).toBe('function');
  });

  it.each([
    ['no options at all', undefined],
    ['no store', {}],
    ['a null store', { store: null }],
    ['a string store', { store: 'memory' }],
    ['a store without methods', { store: {} }],
    ['a store missing updateTenant', { store: { ...memoryTenantStore(), updateTenant: undefined } }],
    ['a settings schema that is not zod', { store: memoryTenantStore(), settingsSchema: { parse: () => ({}) } }],
    ['a clock without now()', { store: memoryTenantStore(), clock: { time: () => 0 } }],
    ['an event bus without emit()', { store: memoryTenantStore(), events: { on: () => () => undefined } }],
    ['an empty plan list', { store: memoryTenantStore(), plans: [] }],
    ['an invalid plan key', { store: memoryTenantStore(), plans: ['free plan'] }],
    ['a defaultPlan outside the plans', { store: memoryTenantStore(), plans: ['free', 'pro'], defaultPlan: 'enterprise' }],
    ['non-string reserved slugs', { store: memoryTenantStore(), reservedSlugs: [1, 2] }],
    ['a createTenantId that is not a function', { store: memoryTenantStore(), createTenantId: 'tnt_1' }],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, options) => {
    expect(() => createTenantRegistry(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('uses the first plan as the default plan when plans are given without defaultPlan', async () => {
    const { registry } = setup({ plans: ['starter', 'pro'] });
    await expect(registry.createTenant({ slug: 'acme', name: 'Acme' })).resolves.toMatchObject({ plan: 'starter' });
  });
});

describe('createTenant', () => {
  it('creates an active tenant with defaults and announces it', async () => {
    const { registry, store, emitted } = setup();
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme Inc.' });
    expect(tenant).toEqual({
      id: expect.stringMatching(/^tnt_[0-9a-z]{20}$/),
      slug: 'acme',
      name: 'Acme Inc.',
      status: 'active',
      statusReason: null,
      plan: 'free',
      settings: {},
      features: {},
      limits: {},
      region: null,
      createdAt: START,
      updatedAt: START,
      deletedAt: null,
      version: 1,
    });
    await expect(store.getTenantById(tenant.id)).resolves.toEqual(tenant);
    expect(emitted).toEqual([{ name: 'tenant.created', payload: { tenant } }]);
  });

  it('generates distinct ids, and uses createTenantId when given', async () => {
    const { registry } = setup();
    const first = await registry.createTenant({ slug: 'one', name: 'One' });
    const second = await registry.createTenant({ slug: 'two', name: 'Two' });
    expect(first.id).not.toBe(second.id);

    let counter = 0;
    const custom = setup({ createTenantId: () => `org-${++counter}` });
    await expect(custom.registry.createTenant({ slug: 'acme', name: 'Acme' })).resolves.toMatchObject({ id: 'org-1' });
  });

  it('refuses an invalid generated id with TENANT_IDENTIFIER_INVALID and stores nothing', async () => {
    const { registry, store } = setup({ createTenantId: () => '../etc/passwd' });
    await expect(registry.createTenant({ slug: 'acme', name: 'Acme' })).rejects.toMatchObject({
      code: 'TENANT_IDENTIFIER_INVALID',
    });
    await expect(store.getTenantBySlug('acme')).resolves.toBeNull();
  });

  it('keeps every explicitly given field', async () => {
    const { registry } = setup();
    const tenant = await registry.createTenant({
      id: 'tnt_custom-1',
      slug: 'globex',
      name: 'Globex',
      plan: 'pro',
      settings: { theme: 'dark', nested: { list: [1, 'two', null, true] } },
      features: { beta: true, legacyExport: false },
      limits: { projects: 10, seats: -1 },
      region: 'eu-west',
      status: 'provisioning',
    });
    expect(tenant).toMatchObject({
      id: 'tnt_custom-1',
      plan: 'pro',
      settings: { theme: 'dark', nested: { list: [1, 'two', null, true] } },
      features: { beta: true, legacyExport: false },
      limits: { projects: 10, seats: -1 },
      region: 'eu-west',
      status: 'provisioning',
    });
  });

  describe('slug', () => {
    it.each(['Acme', '-acme', 'acme-', 'ac_me', 'a'.repeat(64), '', 'xn--acme', 'acme corp'])(
      'refuses the malformed slug %j with VALIDATION_FAILED',
      async (slug) => {
        const { registry } = setup();
        await expect(registry.createTenant({ slug, name: 'Acme' })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
          details: { issues: expect.arrayContaining([expect.objectContaining({ path: 'slug' })]) },
        });
      },
    );

    it.each(defaultReservedSlugs.slice(0, 6))('refuses the reserved slug %j with TENANT_IDENTIFIER_INVALID', async (slug) => {
      const { registry, store } = setup();
      await expect(registry.createTenant({ slug, name: 'Squatter' })).rejects.toMatchObject({
        code: 'TENANT_IDENTIFIER_INVALID',
        details: { slug },
      });
      await expect(store.getTenantBySlug(slug)).resolves.toBeNull();
    });

    it('replaces the default reserved list with a custom one', async () => {
      const { registry } = setup({ reservedSlugs: ['billing'] });
      await expect(registry.createTenant({ slug: 'billing', name: 'B' })).rejects.toMatchObject({
        code: 'TENANT_IDENTIFIER_INVALID',
      });
      await expect(registry.createTenant({ slug: 'www', name: 'W' })).resolves.toMatchObject({ slug: 'www' });
    });
  });

  describe('id', () => {
    it.each(['../x', 'a b', 'x'.repeat(65), '', 'tnt.1'])('refuses the malformed id %j with VALIDATION_FAILED', async (id) => {
      const { registry } = setup();
      await expect(registry.createTenant({ id, slug: 'acme', name: 'Acme' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        details: { issues: [expect.objectContaining({ path: 'id' })] },
      });
    });
  });

  describe('name', () => {
    it('trims the name', async () => {
      const { registry } = setup();
      await expect(registry.createTenant({ slug: 'acme', name: '  Acme Inc.\n' })).resolves.toMatchObject({ name: 'Acme Inc.' });
    });

    it('accepts 200 characters and refuses 201, or a blank name, with VALIDATION_FAILED', async () => {
      const { registry } = setup();
      await expect(registry.createTenant({ slug: 'long', name: 'n'.repeat(200) })).resolves.toMatchObject({
        name: 'n'.repeat(200),
      });
      for (const name of ['n'.repeat(201), '', '   \t ']) {
        await expect(registry.createTenant({ slug: 'acme', name })).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
          details: { issues: [expect.objectContaining({ path: 'name' })] },
        });
      }
    });
  });

  describe('plan', () => {
    it('refuses a plan outside the allow-list with PLAN_NOT_FOUND', async () => {
      const { registry, store } = setup({ plans: ['free', 'pro'], defaultPlan: 'free' });
      await expect(registry.createTenant({ slug: 'acme', name: 'Acme', plan: 'platinum' })).rejects.toMatchObject({
        code: 'PLAN_NOT_FOUND',
        status: 400,
        details: { plan: 'platinum' },
      });
      await expect(store.getTenantBySlug('acme')).resolves.toBeNull();
      await expect(registry.createTenant({ slug: 'acme', name: 'Acme', plan: 'pro' })).resolves.toMatchObject({ plan: 'pro' });
    });

    it('uses defaultPlan when the input names none', async () => {
      const { registry } = setup({ plans: ['free', 'pro'], defaultPlan: 'pro' });
      await expect(registry.createTenant({ slug: 'acme', name: 'Acme' })).resolves.toMatchObject({ plan: 'pro' });
    });

    it('accepts any well-formed plan key without an allow-list, but refuses a malformed one', async () => {
      const { registry } = setup();
      await expect(registry.createTenant({ slug: 'a', name: 'A', plan: 'custom_2024.v2' })).resolves.toMatchObject({
        plan: 'custom_2024.v2',
      });
      await expect(registry.createTenant({ slug: 'b', name: 'B', plan: 'no spaces' })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });
  });

  describe('settings', () => {
    it('applies the app schema and its defaults', async () => {
      const { registry } = setup<AppSettings>({ settingsSchema: appSettingsSchema });
      const plain = await registry.createTenant({ slug: 'plain', name: 'Plain' });
      expect(plain.settings).toEqual({ theme: 'light', seats: 5 });
      const custom = await registry.createTenant({
        slug: 'custom',
        name: 'Custom',
        settings: { theme: 'dark', branding: { color: '#00ff00' } },
      });
      expect(custom.settings).toEqual({ theme: 'dark', seats: 5, branding: { color: '#00ff00' } });
    });

    it('refuses settings the app schema rejects with TENANT_SETTINGS_INVALID and the issue paths', async () => {
      const { registry, store, emitted } = setup<AppSettings>({ settingsSchema: appSettingsSchema });
      const error = await registry
        .createTenant({ slug: 'acme', name: 'Acme', settings: { seats: 0, branding: { color: 'red' } } })
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'TENANT_SETTINGS_INVALID', status: 400 });
      const paths = (error as { details: { issues: Array<{ path: string }> } }).details.issues.map((issue) => issue.path);
      expect(paths.sort()).toEqual(['branding.color', 'seats']);
      // Issue details carry paths and messages, never the offending values.
      expect(JSON.stringify((error as { details: unknown }).details)).not.toContain('red');
      await expect(store.getTenantBySlug('acme')).resolves.toBeNull();
      expect(emitted).toEqual([]);
    });

    it('refuses an app schema whose output is not JSON with TENANT_SETTINGS_INVALID', async () => {
      const { registry } = setup<{ since: Date }>({ settingsSchema: z.object({ since: z.coerce.date() }) });
      await expect(
        registry.createTenant({ slug: 'acme', name: 'Acme', settings: { since: '2026-01-01' } }),
      ).rejects.toMatchObject({ code: 'TENANT_SETTINGS_INVALID' });
    });

    it.each([
      ['a Date', { when: new Date(0) }],
      ['NaN', { ratio: Number.NaN }],
      ['Infinity', { ratio: Number.POSITIVE_INFINITY }],
      ['a function', { hook: () => 1 }],
      ['a bigint', { big: 1n }],
      ['undefined', { missing: undefined }],
      ['a Map', { map: new Map([['a', 1]]) }],
      ['a nested class instance', { nested: { at: new URL('https://acme.test') } }],
    ])('refuses non-JSON settings (%s) without a schema with TENANT_SETTINGS_INVALID', async (_label, settings) => {
      const { registry } = setup();
      await expect(registry.createTenant({ slug: 'acme', name: 'Acme', settings })).rejects.toMatchObject({
        code: 'TENANT_SETTINGS_INVALID',
      });
    });

    it.each([
      ['an array', [1, 2]],
      ['a string', 'dark'],
      ['a number', 3],
    ])('refuses settings that are %s rather than an object', async (_label, settings) => {
      const { registry } = setup();
      await expect(
        registry.createTenant({ slug: 'acme', name: 'Acme', settings: settings as never }),
      ).rejects.toMatchObject({ code: 'TENANT_SETTINGS_INVALID' });
    });
  });

  describe('features and limits', () => {
    it.each([
      ['features', '__proto__', true],
      ['features', 'constructor', true],
      ['features', 'prototype', false],
      ['limits', '__proto__', 1],
      ['limits', 'constructor', 1],
      ['limits', 'prototype', 1],
    ])('refuses the key %s.%s with VALIDATION_FAILED', async (field, key, value) => {
      const { registry, store } = setup();
      // JSON.parse makes `__proto__` an own key, as a request body would.
      const input = JSON.parse(`{"slug":"acme","name":"Acme","${field}":{"${key}":${JSON.stringify(value)}}}`) as {
        slug: string;
        name: string;
      };
      expect(Object.keys((input as unknown as Record<string, object>)[field] ?? {})).toEqual([key]);
      await expect(registry.createTenant(input)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(store.getTenantBySlug('acme')).resolves.toBeNull();
    });

    it.each([
      ['a non-boolean feature', { features: { beta: 'yes' } }],
      ['a feature key starting with a digit', { features: { '1beta': true } }],
      ['an empty feature key', { features: { '': true } }],
      ['a fractional limit', { limits: { seats: 1.5 } }],
      ['a limit below -1', { limits: { seats: -2 } }],
      ['an unsafe limit', { limits: { seats: Number.MAX_SAFE_INTEGER + 1 } }],
      ['a string limit', { limits: { seats: '10' } }],
    ])('refuses %s with VALIDATION_FAILED', async (_label, overrides) => {
      const { registry } = setup();
      await expect(registry.createTenant({ slug: 'acme', name: 'Acme', ...(overrides as object) })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });
  });

  describe('strict input', () => {
    it.each([
      ['an unknown key', { owner: 'usr_1' }],
      ['version', { version: 7 }],
      ['createdAt', { createdAt: 0 }],
      ['deletedAt', { deletedAt: null }],
      ['statusReason', { statusReason: 'x' }],
      ['status suspended', { status: 'suspended' }],
      ['status deleted', { status: 'deleted' }],
    ])('refuses %s with VALIDATION_FAILED', async (_label, extra) => {
      const { registry, store } = setup();
      await expect(registry.createTenant({ slug: 'acme', name: 'Acme', ...extra } as never)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(store.getTenantBySlug('acme')).resolves.toBeNull();
    });

    it('refuses an own __proto__ key on the input itself', async () => {
      const { registry } = setup();
      const input: unknown = JSON.parse('{"slug":"acme","name":"Acme","__proto__":{"status":"deleted"}}');
      await expect(registry.createTenant(input as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    it.each([null, undefined, 'acme', ['acme']])('refuses the input %j with VALIDATION_FAILED', async (input) => {
      const { registry } = setup();
      await expect(registry.createTenant(input as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  });

  describe('uniqueness', () => {
    it('refuses a taken slug with TENANT_ALREADY_EXISTS and leaves the store unchanged', async () => {
      const { registry, emitted } = setup();
      const first = await registry.createTenant({ id: 'tnt_1', slug: 'acme', name: 'Acme' });
      await expect(registry.createTenant({ id: 'tnt_2', slug: 'acme', name: 'Other Acme' })).rejects.toMatchObject({
        code: 'TENANT_ALREADY_EXISTS',
        status: 409,
      });
      await expect(registry.getTenant('tnt_2')).resolves.toBeNull();
      await expect(registry.getTenantBySlug('acme')).resolves.toEqual(first);
      await expect(registry.listTenants()).resolves.toEqual({ items: [first], nextCursor: null });
      expect(emitted.map((event) => event.name)).toEqual(['tenant.created']);
    });

    it('refuses a taken id with TENANT_ALREADY_EXISTS and leaves the store unchanged', async () => {
      const { registry } = setup();
      const first = await registry.createTenant({ id: 'tnt_1', slug: 'acme', name: 'Acme' });
      await expect(registry.createTenant({ id: 'tnt_1', slug: 'globex', name: 'Globex' })).rejects.toMatchObject({
        code: 'TENANT_ALREADY_EXISTS',
      });
      await expect(registry.getTenant('tnt_1')).resolves.toEqual(first);
      await expect(registry.getTenantBySlug('globex')).resolves.toBeNull();
    });

    it('keeps the slug of a soft-deleted tenant taken', async () => {
      const { registry } = setup();
      const first = await registry.createTenant({ slug: 'acme', name: 'Acme' });
      await registry.deleteTenant(first.id, 'closed');
      await expect(registry.createTenant({ slug: 'acme', name: 'New Acme' })).rejects.toMatchObject({
        code: 'TENANT_ALREADY_EXISTS',
      });
    });
  });
});

describe('reading tenants', () => {
  it('getTenant returns the tenant, null when missing, and refuses a malformed id', async () => {
    const { registry } = setup();
    const tenant = await registry.createTenant({ id: 'tnt_1', slug: 'acme', name: 'Acme' });
    await expect(registry.getTenant('tnt_1')).resolves.toEqual(tenant);
    await expect(registry.getTenant('tnt_missing')).resolves.toBeNull();
    await expect(registry.getTenant('../tnt_1')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });

  it('getTenantOrThrow answers TENANT_NOT_FOUND for a missing tenant and returns deleted ones', async () => {
    const { registry } = setup();
    await expect(registry.getTenantOrThrow('tnt_missing')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND', status: 404 });
    await expect(registry.getTenantOrThrow('bad id')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    await registry.deleteTenant(tenant.id, 'closed');
    await expect(registry.getTenantOrThrow(tenant.id)).resolves.toMatchObject({ status: 'deleted' });
  });

  it('getTenantBySlug finds by slug, answers null for an unknown slug and refuses a malformed one', async () => {
    const { registry } = setup();
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    await expect(registry.getTenantBySlug('acme')).resolves.toEqual(tenant);
    await expect(registry.getTenantBySlug('globex')).resolves.toBeNull();
    await expect(registry.getTenantBySlug('ACME')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
    await expect(registry.getTenantBySlug('acme.evil')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });

  describe('getTenantByVerifiedDomain', () => {
    it('resolves a verified domain to its tenant, but not a pending one', async () => {
      const { registry, store } = setup();
      const acme = await registry.createTenant({ slug: 'acme', name: 'Acme' });
      await store.insertDomain(pendingDomain(acme.id, 'app.acme.com', 'verified'));
      await store.insertDomain(pendingDomain(acme.id, 'pending.acme.com', 'pending'));
      await expect(registry.getTenantByVerifiedDomain('app.acme.com')).resolves.toEqual(acme);
      await expect(registry.getTenantByVerifiedDomain('pending.acme.com')).resolves.toBeNull();
      await expect(registry.getTenantByVerifiedDomain('unknown.acme.com')).resolves.toBeNull();
    });

    it('normalises the host name it is given (case, trailing dot, unicode)', async () => {
      const { registry, store } = setup();
      const acme = await registry.createTenant({ slug: 'acme', name: 'Acme' });
      await store.insertDomain(pendingDomain(acme.id, 'app.acme.com', 'verified'));
      await store.insertDomain(pendingDomain(acme.id, 'xn--bcher-kva.example', 'verified'));
      await expect(registry.getTenantByVerifiedDomain('APP.Acme.com')).resolves.toEqual(acme);
      await expect(registry.getTenantByVerifiedDomain('app.acme.com.')).resolves.toEqual(acme);
      await expect(registry.getTenantByVerifiedDomain('Bücher.example')).resolves.toEqual(acme);
    });

    it.each(['', 'app.acme.com/evil', '10.0.0.1', 'localhost', undefined, null, 42])(
      'answers null, never a TypeError, for the invalid host %j',
      async (hostname) => {
        const { registry, store } = setup();
        const acme = await registry.createTenant({ slug: 'acme', name: 'Acme' });
        await store.insertDomain(pendingDomain(acme.id, 'app.acme.com', 'verified'));
        await expect(registry.getTenantByVerifiedDomain(hostname as string)).resolves.toBeNull();
      },
    );
  });
});

describe('updateTenant', () => {
  it('merges features and limits key by key, a null removing an override', async () => {
    const { registry } = setup();
    const tenant = await registry.createTenant({
      slug: 'acme',
      name: 'Acme',
      features: { beta: true, export: false, chat: true },
      limits: { projects: 10, seats: 5 },
    });
    const updated = await registry.updateTenant(tenant.id, {
      features: { export: null, chat: false, newUi: true },
      limits: { seats: null, storage: -1 },
    });
    expect(updated.features).toEqual({ beta: true, chat: false, newUi: true });
    expect(updated.limits).toEqual({ projects: 10, storage: -1 });
    // Removing a key that is not there is harmless.
    await expect(registry.updateTenant(tenant.id, { features: { missing: null } })).resolves.toMatchObject({
      features: { beta: true, chat: false, newUi: true },
    });
  });

  it('leaves omitted fields alone and clears the region with null', async () => {
    const { registry } = setup();
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme', plan: 'pro', region: 'eu', settings: { a: 1 } });
    const renamed = await registry.updateTenant(tenant.id, { name: '  Acme GmbH ' });
    expect(renamed).toMatchObject({ slug: 'acme', name: 'Acme GmbH', plan: 'pro', region: 'eu', settings: { a: 1 } });
    const moved = await registry.updateTenant(tenant.id, { region: null });
    expect(moved).toMatchObject({ name: 'Acme GmbH', region: null });
  });

  it('bumps the version and updatedAt, keeps createdAt, and announces the change with the previous record', async () => {
    const { registry, clock, emitted } = setup();
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    clock.advance(60_000);
    const updated = await registry.updateTenant(tenant.id, { plan: 'pro' });
    expect(updated).toMatchObject({ version: 2, createdAt: START, updatedAt: START + 60_000, plan: 'pro' });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(updated);
    expect(emitted.at(-1)).toEqual({ name: 'tenant.updated', payload: { tenant: updated, previous: tenant } });
    clock.advance(1);
    await expect(registry.updateTenant(tenant.id, { name: 'Acme 2' })).resolves.toMatchObject({ version: 3 });
  });

  it('replaces settings as a whole and validates them again, defaults included', async () => {
    const { registry } = setup<AppSettings>({ settingsSchema: appSettingsSchema });
    const tenant = await registry.createTenant({
      slug: 'acme',
      name: 'Acme',
      settings: { theme: 'dark', seats: 10, branding: { color: '#112233' } },
    });
    const updated = await registry.updateTenant(tenant.id, { settings: { seats: 3 } });
    expect(updated.settings).toEqual({ theme: 'light', seats: 3 });
  });

  it('refuses invalid settings with TENANT_SETTINGS_INVALID and changes nothing', async () => {
    const { registry, emitted } = setup<AppSettings>({ settingsSchema: appSettingsSchema });
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    await expect(registry.updateTenant(tenant.id, { settings: { theme: 'neon' } })).rejects.toMatchObject({
      code: 'TENANT_SETTINGS_INVALID',
      details: { issues: [expect.objectContaining({ path: 'theme' })] },
    });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
    expect(emitted.map((event) => event.name)).toEqual(['tenant.created']);
  });

  it('changes the slug: the new one resolves and the old one is free again', async () => {
    const { registry } = setup();
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    await registry.updateTenant(tenant.id, { slug: 'acme-corp' });
    await expect(registry.getTenantBySlug('acme-corp')).resolves.toMatchObject({ id: tenant.id });
    await expect(registry.getTenantBySlug('acme')).resolves.toBeNull();
    await expect(registry.createTenant({ slug: 'acme', name: 'Another' })).resolves.toMatchObject({ slug: 'acme' });
  });

  it('refuses a slug another tenant holds with TENANT_ALREADY_EXISTS and changes nothing', async () => {
    const { registry, emitted } = setup();
    const acme = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    const globex = await registry.createTenant({ slug: 'globex', name: 'Globex' });
    await expect(registry.updateTenant(globex.id, { slug: 'acme', name: 'Renamed' })).rejects.toMatchObject({
      code: 'TENANT_ALREADY_EXISTS',
    });
    await expect(registry.getTenant(globex.id)).resolves.toEqual(globex);
    await expect(registry.getTenantBySlug('acme')).resolves.toEqual(acme);
    expect(emitted.filter((event) => event.name === 'tenant.updated')).toEqual([]);
  });

  it('accepts the tenant keeping its own slug', async () => {
    const { registry } = setup();
    const acme = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    await expect(registry.updateTenant(acme.id, { slug: 'acme', name: 'Acme 2' })).resolves.toMatchObject({
      slug: 'acme',
      name: 'Acme 2',
    });
  });

  it('refuses reserved and malformed slugs, unknown plans and bad overrides, with their codes', async () => {
    const { registry } = setup({ plans: ['free', 'pro'] });
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    await expect(registry.updateTenant(tenant.id, { slug: 'admin' })).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
    await expect(registry.updateTenant(tenant.id, { slug: 'Acme' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(registry.updateTenant(tenant.id, { plan: 'gold' })).rejects.toMatchObject({ code: 'PLAN_NOT_FOUND' });
    await expect(registry.updateTenant(tenant.id, { name: ' ' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(registry.updateTenant(tenant.id, { limits: { seats: -5 } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const polluted: unknown = JSON.parse('{"features":{"__proto__":true}}');
    await expect(registry.updateTenant(tenant.id, polluted as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(registry.updateTenant(tenant.id, { limits: { constructor: null } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
  });

  it.each([
    ['status', { status: 'suspended' }],
    ['id', { id: 'tnt_other' }],
    ['version', { version: 99 }],
    ['deletedAt', { deletedAt: null }],
    ['an unknown key', { owner: 'usr_1' }],
  ])('refuses a patch with %s with VALIDATION_FAILED', async (_label, patch) => {
    const { registry } = setup();
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    await expect(registry.updateTenant(tenant.id, patch as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
  });

  it('answers TENANT_NOT_FOUND for a missing or deleted tenant and TENANT_IDENTIFIER_INVALID for a bad id', async () => {
    const { registry } = setup();
    await expect(registry.updateTenant('tnt_missing', { name: 'X' })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(registry.updateTenant('a/b', { name: 'X' })).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    const deleted = await registry.deleteTenant(tenant.id, 'closed');
    await expect(registry.updateTenant(tenant.id, { name: 'Zombie' })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(deleted);
  });
});

describe('listTenants', () => {
  async function seed() {
    const context = setup();
    const { registry, clock } = context;
    const make = async (slug: string, name: string, plan = 'free') => {
      clock.advance(1000);
      return registry.createTenant({ slug, name, plan });
    };
    const acme = await make('acme', 'Acme Inc.');
    const globex = await make('globex', 'Globex Corporation', 'pro');
    const initech = await make('initech', 'Initech', 'pro');
    const umbrella = await make('umbrella', '100%_Umbrella');
    const hooli = await make('hooli', 'Hooli');
    return { ...context, acme, globex, initech, umbrella, hooli };
  }

  it('pages through every tenant in creation order', async () => {
    const { registry, acme, globex, initech, umbrella, hooli } = await seed();
    const first = await registry.listTenants({ limit: 2 });
    expect(first.items.map((tenant) => tenant.slug)).toEqual([acme.slug, globex.slug]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await registry.listTenants({ limit: 2, cursor: first.nextCursor ?? undefined });
    expect(second.items.map((tenant) => tenant.slug)).toEqual([initech.slug, umbrella.slug]);
    const third = await registry.listTenants({ limit: 2, cursor: second.nextCursor ?? undefined });
    expect(third).toEqual({ items: [hooli], nextCursor: null });
  });

  it('lists up to 50 tenants by default', async () => {
    const { registry } = setup();
    for (let index = 0; index < 51; index += 1) await registry.createTenant({ slug: `t${index}`, name: `T${index}` });
    const page = await registry.listTenants();
    expect(page.items).toHaveLength(50);
    expect(page.nextCursor).not.toBeNull();
  });

  it('leaves deleted tenants out unless asked for, and filters by status and plan', async () => {
    const { registry, acme, globex, initech } = await seed();
    await registry.deleteTenant(acme.id, 'closed');
    await registry.suspendTenant(globex.id, 'overdue');
    const all = await registry.listTenants();
    expect(all.items.map((tenant) => tenant.slug)).toEqual(['globex', 'initech', 'umbrella', 'hooli']);
    await expect(registry.listTenants({ status: ['deleted'] })).resolves.toMatchObject({ items: [{ id: acme.id }] });
    await expect(registry.listTenants({ status: ['suspended', 'deleted'] })).resolves.toMatchObject({
      items: [{ id: acme.id }, { id: globex.id }],
    });
    const pro = await registry.listTenants({ plan: 'pro' });
    expect(pro.items.map((tenant) => tenant.id)).toEqual([globex.id, initech.id]);
  });

  it('searches slug and name case-insensitively, matching % and _ literally', async () => {
    const { registry, globex, umbrella } = await seed();
    await expect(registry.listTenants({ search: 'CORPOR' })).resolves.toMatchObject({ items: [{ id: globex.id }] });
    await expect(registry.listTenants({ search: 'umbr' })).resolves.toMatchObject({ items: [{ id: umbrella.id }] });
    await expect(registry.listTenants({ search: '%_' })).resolves.toMatchObject({ items: [{ id: umbrella.id }] });
    await expect(registry.listTenants({ search: '%' })).resolves.toMatchObject({ items: [{ id: umbrella.id }] });
    await expect(registry.listTenants({ search: 'nothing-like-it' })).resolves.toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ['a zero limit', { limit: 0 }],
    ['a limit over 500', { limit: 501 }],
    ['a fractional limit', { limit: 2.5 }],
    ['an unknown status', { status: ['archived'] }],
    ['an unknown key', { orderBy: 'name' }],
    ['a malformed cursor', { cursor: 'not-a-cursor' }],
    ['a search over 200 characters', { search: 'a'.repeat(201) }],
  ])('refuses %s with VALIDATION_FAILED', async (_label, query) => {
    const { registry } = await seed();
    await expect(registry.listTenants(query as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('a store that fails', () => {
  it('lets a store error through unchanged', async () => {
    const failure = new Error('connection reset');
    const store: TenantStore = {
      ...memoryTenantStore(),
      getTenantById: async () => {
        throw failure;
      },
    };
    const { registry } = setup({ store });
    await expect(registry.getTenant('tnt_1')).rejects.toBe(failure);
  });
});

describe('validateNewTenant', () => {
  it('refuses what createTenant would refuse, and writes nothing either way', async () => {
    const store = memoryTenantStore();
    const registry = createTenantRegistry({
      store,
      plans: ['free', 'pro'],
      settingsSchema: z.strictObject({ theme: z.enum(['light', 'dark']).default('light') }),
    });
    await registry.createTenant({ slug: 'taken', name: 'Taken' });
    await expect(registry.validateNewTenant({ slug: 'www', name: 'W' })).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
    await expect(registry.validateNewTenant({ slug: 'Bad Slug', name: 'B' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(registry.validateNewTenant({ slug: 'ok', name: 'O', plan: 'gold' })).rejects.toMatchObject({ code: 'PLAN_NOT_FOUND' });
    await expect(registry.validateNewTenant({ slug: 'ok', name: 'O', settings: { theme: 'neon' } })).rejects.toMatchObject({
      code: 'TENANT_SETTINGS_INVALID',
    });
    await expect(registry.validateNewTenant({ slug: 'taken', name: 'T' })).rejects.toMatchObject({ code: 'TENANT_ALREADY_EXISTS' });
    await expect(registry.validateNewTenant({ slug: 'ok', name: 'O', plan: 'pro', settings: { theme: 'dark' } })).resolves.toBeUndefined();
    expect((await store.listTenants({ limit: 10 })).items.map((tenant) => tenant.slug)).toEqual(['taken']);
  });
});
