import { createManualClock, type ManualClock } from '@tenantkit/core';
import { createRbac, memoryRbacStore, type Rbac } from '@tenantkit/rbac';
import { memoryApiKeyStore } from '../../src/adapters/memory/memory-api-key-store.js';
import type { ApiKeyServiceOptions } from '../../src/api-keys/api-key-service-options.js';
import type { ApiKeyService } from '../../src/api-keys/api-key-service.js';
import { createApiKeyService } from '../../src/api-keys/create-api-key-service.js';
import type { AuthPrincipal } from '../../src/principal.js';
import type { ApiKeyStore } from '../../src/store.js';

export const ACME = 'tnt_acme';
export const GLOBEX = 'tnt_globex';
export const PEPPER_V1 = 'pepper-v1-0123456789abcdef0123456789abcdef';
export const PEPPER_V2 = 'pepper-v2-fedcba9876543210fedcba9876543210';

/** Alice holds projects:read and projects:deploy in Acme, nothing in Globex. */
export const alice: AuthPrincipal = { kind: 'user', id: 'usr_alice', tenantId: ACME, method: 'access-token' };

/** Counts the calls each store method receives, so tests can say "no store call". */
export function countingStore(inner: ApiKeyStore = memoryApiKeyStore()) {
  const calls = { create: 0, findById: 0, listByTenant: 0, revoke: 0, recordUsage: [] as unknown[][], deleteByTenant: 0 };
  const store: ApiKeyStore = {
    create: (key) => ((calls.create += 1), inner.create(key)),
    findById: (id) => ((calls.findById += 1), inner.findById(id)),
    listByTenant: (tenantId) => ((calls.listByTenant += 1), inner.listByTenant(tenantId)),
    revoke: (tenantId, id, now) => ((calls.revoke += 1), inner.revoke(tenantId, id, now)),
    recordUsage: (usage) => (calls.recordUsage.push(usage.map((entry) => ({ ...entry }))), inner.recordUsage(usage)),
    deleteByTenant: (tenantId) => ((calls.deleteByTenant += 1), inner.deleteByTenant(tenantId)),
  };
  return { store, calls, inner };
}

export interface ApiKeyFixture {
  readonly clock: ManualClock;
  readonly rbac: Rbac;
  readonly store: ApiKeyStore;
  readonly calls: ReturnType<typeof countingStore>['calls'];
  readonly service: ApiKeyService;
  /** Another service over the same store (another process), with its own options. */
  readonly another: (options?: Partial<ApiKeyServiceOptions>) => ApiKeyService;
}

const services: ApiKeyService[] = [];

/** Closes every service the fixtures made (call from afterEach). */
export async function closeServices(): Promise<void> {
  await Promise.all(services.splice(0).map((service) => service.close().catch(() => undefined)));
}

/** A real rbac over a memory store, and an API key service with a manual clock. */
export async function setup(options: Partial<ApiKeyServiceOptions> = {}): Promise<ApiKeyFixture> {
  const clock = createManualClock();
  const rbac = createRbac({ store: memoryRbacStore(), clock });
  const system = { reason: 'test setup' };
  await rbac.roles.createAsSystem(system, { key: 'developer', permissions: ['projects:read', 'projects:deploy'] }, { tenantId: ACME });
  await rbac.assignments.assignAsSystem(system, { subject: { type: 'user', id: alice.id }, roleKey: 'developer' }, { tenantId: ACME });
  const { store, calls } = countingStore();
  const base: ApiKeyServiceOptions = { store, hashKeys: [{ id: 'v1', secret: PEPPER_V1 }], permissions: rbac, clock };
  const make = (overrides: Partial<ApiKeyServiceOptions>) => {
    const service = createApiKeyService({ ...base, ...overrides });
    services.push(service);
    return service;
  };
  return { clock, rbac, store, calls, service: make(options), another: (overrides = {}) => make({ ...options, ...overrides }) };
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string; details?: Record<string, unknown>; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; details?: Record<string, unknown>; message: string };
  }
  throw new Error('expected the promise to reject');
}
