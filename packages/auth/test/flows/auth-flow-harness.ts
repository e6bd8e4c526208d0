import { createManualClock, type ManualClock } from '@tenantkit/core';
import { createMembershipService, createTenantRegistry, memoryMembershipStore, memoryTenantStore } from '@tenantkit/tenant-context';
import { memoryAuthStores } from '../../src/adapters/memory/memory-auth-stores.js';
import type { AuthEventMap, AuthEventType } from '../../src/auth-events.js';
import { createAuth, type AuthOptions } from '../../src/create-auth.js';
import { createSigningKeySet } from '../../src/keys/create-signing-key-set.js';
import { generateSigningKey } from '../../src/keys/generate-signing-key.js';
import type { PasswordHasher } from '../../src/passwords/password-hasher.js';
import { createScryptHasher, type ScryptHasherOptions } from '../../src/passwords/scrypt-hasher.js';
import type { AuthStores } from '../../src/store.js';

export const START = Date.UTC(2026, 0, 1, 12, 0, 0, 123);
export const ISSUER = 'https://auth.example.test';
export const AUDIENCE = 'https://api.example.test';
export const BASE_URL = 'https://app.example.test';
export const ACME = 'tnt_acme';
export const GLOBEX = 'tnt_globex';
/** Acceptable under the default policy (12+ characters, not common, no email part). */
export const PASSWORD = 'vivid otter parade 42';
export const OTHER_PASSWORD = 'quiet maple lantern 7';
export const CLIENT = { ip: '203.0.113.7', userAgent: 'vitest', label: null } as const;

/** Small scrypt costs: the flows' behaviour, not the hashing strength, is under test. */
export const TEST_SCRYPT: ScryptHasherOptions = { cost: 2 ** 4, blockSize: 1 };

export interface HasherCalls {
  hash: number;
  verify: number;
  verifyDummy: number;
}

/** Wraps a hasher and counts its calls. */
export function countingHasher(inner: PasswordHasher): { hasher: PasswordHasher; calls: HasherCalls } {
  const calls: HasherCalls = { hash: 0, verify: 0, verifyDummy: 0 };
  return {
    calls,
    hasher: {
      hash: (password) => {
        calls.hash += 1;
        return inner.hash(password);
      },
      verify: (password, phc) => {
        calls.verify += 1;
        return inner.verify(password, phc);
      },
      needsRehash: (phc) => inner.needsRehash(phc),
      verifyDummy: (password) => {
        calls.verifyDummy += 1;
        return inner.verifyDummy(password);
      },
    },
  };
}

export type RecordedEvent = { [Name in AuthEventType]: { name: Name; payload: AuthEventMap[Name] } }[AuthEventType];

export function memoryStores(clock: ManualClock): AuthStores {
  return memoryAuthStores({ clock });
}

/**
 * A real `createAuth` on memory stores, with a manual clock, two active tenants, small scrypt
 * costs, a recording sleep and every event recorded.
 */
export async function createAuthHarness(overrides: Partial<AuthOptions> = {}) {
  const clock = createManualClock(START);
  const registry = createTenantRegistry({ store: memoryTenantStore(), clock });
  const memberships = createMembershipService({ store: memoryMembershipStore(), registry, clock });
  await registry.createTenant({ id: ACME, slug: 'acme', name: 'Acme' });
  await registry.createTenant({ id: GLOBEX, slug: 'globex', name: 'Globex' });
  const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: 'k1' })], clock });
  const stores = memoryStores(clock);
  const { hasher, calls } = countingHasher(createScryptHasher(TEST_SCRYPT));
  const sleeps: number[] = [];
  const events: RecordedEvent[] = [];
  const auth = createAuth({
    stores,
    keys,
    issuer: ISSUER,
    audience: AUDIENCE,
    memberships,
    links: { baseUrl: BASE_URL },
    apiKeys: { hashKeys: [{ id: 'v1', secret: 'test-pepper-of-at-least-32-bytes!!' }] },
    hasher,
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onEvent: (name, payload) => {
      events.push({ name, payload } as RecordedEvent);
    },
    ...overrides,
  });

  function eventsNamed<Name extends AuthEventType>(name: Name): AuthEventMap[Name][] {
    return events.filter((event) => event.name === name).map((event) => event.payload as AuthEventMap[Name]);
  }

  function lastEvent<Name extends AuthEventType>(name: Name): AuthEventMap[Name] {
    const found = eventsNamed(name).at(-1);
    if (found === undefined) throw new Error(`no ${name} event`);
    return found;
  }

  /** Signs up and verifies nothing else; returns the user. */
  async function signUpUser(email = 'alice@example.com', password = PASSWORD) {
    const { user } = await auth.signUp({ email, password });
    return user;
  }

  /** Signs up, adds an active membership, signs in bound to the tenant. */
  async function signedInMember(email = 'alice@example.com', tenantId: string | null = ACME) {
    const user = await signUpUser(email);
    if (tenantId !== null) await memberships.addMember(tenantId, user.id, { status: 'active' });
    const result = await auth.login({ email, password: PASSWORD, tenantId }, CLIENT);
    if (result.status !== 'authenticated') throw new Error('expected a completed sign-in');
    return result;
  }

  return { auth, clock, registry, memberships, keys, stores, hasherCalls: calls, sleeps, events, eventsNamed, lastEvent, signUpUser, signedInMember };
}

/** The secret token inside a link the one-time token service built. */
export function tokenFromLink(link: string): string {
  const url = new URL(link);
  const token = url.searchParams.get('token') ?? new URLSearchParams(url.hash.slice(1)).get('token');
  if (token === null) throw new Error(`no token in ${link}`);
  return token;
}

/** The rejection of a promise (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the promise to reject');
}
