import { demoPassword, seedAccount } from '../src/seed.js';
import type { ExampleServices } from '../src/services.js';

const SIGNED_IN_AS = Symbol('signed in as');

/**
 * Request headers that may stand for a signed-in user: `send` replaces the marker by
 * `authorization: Bearer <access token>` before the request goes out.
 *
 * @example
 * ```ts
 * const headers: ScenarioHeaders = { ...credentials.bearer('usr_alice', 'acme'), 'x-tenant-id': 'acme' };
 * ```
 */
export type ScenarioHeaders = Record<string, string> & { readonly [SIGNED_IN_AS]?: { readonly userId: string; readonly tenantSlug: string | null } };

/**
 * Real credentials for the scenarios, which name users by id (`as('usr_alice', 'acme')`)
 * synchronously while tokens come from an asynchronous sign-in: `bearer()` and `as()` return
 * headers with a marker, and `resolve()` (called by each suite's `send`) swaps it for an access
 * token — signed in on first use through the app's own sign-in flow (`auth.login`, bound to the
 * tenant when one is named) and kept per (user, tenant), so a user keeps one token for the
 * whole suite, as a client would (a removed member's token stays the same, still valid, and
 * must be refused by the membership check).
 *
 * Users the scenarios name that have no account yet get one on first use (`seedAccount`, with
 * the demo password and `<name>@e2e.example`), like the demo users of the seed.
 *
 * @example
 * ```ts
 * const credentials = createScenarioCredentials(() => services);
 * await send({ method: 'GET', path: '/tenant', headers: credentials.as('usr_alice', 'acme') });
 * ```
 */
export function createScenarioCredentials(servicesOf: () => ExampleServices) {
  const accounts = new Map<string, Promise<string>>();
  const tokens = new Map<string, Promise<string>>();
  const keyOf = (userId: string, tenantSlug: string | null) => `${userId}@${tenantSlug ?? ''}`;

  /** The user's email, creating the account on first use. */
  function emailOf(userId: string): Promise<string> {
    let email = accounts.get(userId);
    if (email === undefined) {
      email = (async () => {
        const services = servicesOf();
        const existing = await services.authStores.accounts.findById(userId);
        if (existing !== null) return existing.email;
        const address = `${userId.replace(/^usr_/, '')}@e2e.example`;
        await seedAccount(services, { id: userId, email: address, password: demoPassword });
        return address;
      })();
      accounts.set(userId, email);
    }
    return email;
  }

  /** An access token of the user, bound to the tenant (by slug) or to none; one per pair, for the suite. */
  function accessToken(userId: string, tenantSlug: string | null): Promise<string> {
    const key = keyOf(userId, tenantSlug);
    let token = tokens.get(key);
    if (token === undefined) {
      token = (async () => {
        const services = servicesOf();
        const email = await emailOf(userId);
        let tenantId: string | null = null;
        if (tenantSlug !== null) {
          const tenant = await services.registry.getTenantBySlug(tenantSlug);
          if (tenant === null) throw new Error(`scenario credentials: no tenant ${tenantSlug}`);
          tenantId = tenant.id;
        }
        const result = await services.auth.login({ email, password: demoPassword, tenantId }, { ip: '127.0.0.1', userAgent: 'e2e scenarios' });
        if (result.status !== 'authenticated') throw new Error(`scenario credentials: ${userId} needs a second factor`);
        return result.tokens.accessToken.token;
      })();
      // A failed sign-in is not kept: the scenario sees the error, and a later call tries again.
      token.catch(() => tokens.delete(key));
      tokens.set(key, token);
    }
    return token;
  }

  /** `authorization: Bearer <token>` of the user, for the tenant named (or a token bound to no tenant). */
  const bearer = (userId: string, tenantSlug: string | null = null): ScenarioHeaders =>
    ({ [SIGNED_IN_AS]: { userId, tenantSlug } }) as ScenarioHeaders;

  return {
    bearer,
    /** The user's token for the tenant, and the tenant by header: a tenant request as that user. */
    as: (userId: string, tenantSlug: string): ScenarioHeaders => ({ ...bearer(userId, tenantSlug), 'x-tenant-id': tenantSlug }),
    /** Keeps a token signed in elsewhere (over HTTP) as the user's token for the tenant. */
    remember(userId: string, tenantSlug: string | null, token: string): void {
      tokens.set(keyOf(userId, tenantSlug), Promise.resolve(token));
    },
    accessToken,
    /** The headers to send: the marker, if any, swapped for the token. */
    async resolve(headers: Record<string, string> | undefined): Promise<Record<string, string> | undefined> {
      const signedIn = (headers as ScenarioHeaders | undefined)?.[SIGNED_IN_AS];
      if (headers === undefined || signedIn === undefined) return headers;
      // Object.entries: string keys only, so the marker never reaches the HTTP client.
      return { ...Object.fromEntries(Object.entries(headers)), authorization: `Bearer ${await accessToken(signedIn.userId, signedIn.tenantSlug)}` };
    },
  };
}

export type ScenarioCredentials = ReturnType<typeof createScenarioCredentials>;
