import { isTenantkitError, systemClock, type Clock } from '@tenantkit/core';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { assertTenantId } from '../identifiers.js';
import { requireTenantId } from '../scope/tenant-scope.js';
import { hasMethods, parseOrThrow } from '../validation.js';

/**
 * The three isolation strategies a tenant can be on:
 * - `'shared'`: one schema for everyone, rows carry a tenant column (scoped by the Kysely
 *   tenant plugin and/or PostgreSQL row-level security);
 * - `'schema'`: a schema (namespace) per tenant in a shared database;
 * - `'database'`: a database per tenant (see `createTenantDatabaseRouter`).
 *
 * @example
 * ```ts
 * const strategy: TenantIsolationStrategy = tenant.plan === 'enterprise' ? 'database' : 'shared';
 * ```
 */
export type TenantIsolationStrategy = 'shared' | 'schema' | 'database';

/**
 * Where the handles of one strategy come from, structurally, so any helper fits: a function
 * returning the handle for the tenant in scope, an object whose `db()` does, or an object whose
 * `forTenant(tenantId)` returns the tenant's handle (preferred when both exist).
 *
 * @example
 * ```ts
 * const shared: TenantHandleSource<Database> = () => sharedDb.withPlugin(tenantPlugin);
 * const database: TenantHandleSource<Database> = databaseRouter; // has forTenant() and db()
 * ```
 */
export type TenantHandleSource<DB> =
  | (() => Kysely<DB>)
  | { db(): Kysely<DB> }
  | { forTenant(tenantId: string): Kysely<DB> };

/**
 * Options of {@link createTenantIsolationRouter}.
 *
 * @example
 * ```ts
 * const options: TenantIsolationRouterOptions<Database> = {
 *   strategyFor: async (tenantId) => ((await registry.getTenantOrThrow(tenantId)).plan === 'enterprise' ? 'database' : 'shared'),
 *   shared: () => sharedDb,
 *   database: databaseRouter,
 * };
 * ```
 */
export interface TenantIsolationRouterOptions<DB> {
  /**
   * Which strategy a tenant is on, e.g. from its plan in the registry. It may be async; its
   * answer is cached per tenant for `decisionTtlMs`.
   */
  strategyFor(tenantId: string): TenantIsolationStrategy | Promise<TenantIsolationStrategy>;
  /** Handles of the shared schema (a Kysely instance with the tenant plugin, or RLS-scoped). */
  shared?: TenantHandleSource<DB>;
  /** Handles of schema-per-tenant tenants. */
  schema?: TenantHandleSource<DB>;
  /** Handles of database-per-tenant tenants, e.g. a `TenantDatabaseRouter`. */
  database?: TenantHandleSource<DB>;
  /**
   * How long a tenant's strategy decision is reused, in milliseconds; 0 asks `strategyFor`
   * every time. Default 60,000. Other processes learn of a move only when their cached decision
   * expires, so keep it short or invalidate everywhere (e.g. from a registry event on a bus).
   */
  decisionTtlMs?: number;
  /** The most decisions kept; the oldest go first. Default 10,000. */
  maxCachedDecisions?: number;
  /** The clock decision ages are measured with. Default: the system clock. */
  clock?: Clock;
}

/**
 * Hands out the right Kysely handle for the tenant in scope, whichever strategy it is on.
 * Created by {@link createTenantIsolationRouter}.
 *
 * @example
 * ```ts
 * const db = await isolation.db();
 * const projects = await db.selectFrom('projects').selectAll().execute();
 * ```
 */
export interface TenantIsolationRouter<DB> {
  /**
   * The handle for the tenant in scope: from `shared`, `schema` or `database`, as
   * `strategyFor` decides.
   *
   * @throws `TENANT_SCOPE_REQUIRED` outside a tenant scope; `CONFIGURATION_INVALID` for an
   *   unknown strategy, a strategy with no handle source, or a source that returns no Kysely
   *   instance; `STORE_UNAVAILABLE` when `strategyFor` failed with an uncoded error (a coded one
   *   passes through).
   *
   * @example
   * ```ts
   * await runWithTenant('acme', async () => (await isolation.db()).selectFrom('projects').selectAll().execute());
   * ```
   */
  db(): Promise<Kysely<DB>>;
  /**
   * The strategy a tenant is on (cached like `db()`'s decision). Only the decision, no data,
   * so it needs no scope.
   *
   * @example
   * ```ts
   * await isolation.strategyOf('acme'); // 'database'
   * ```
   */
  strategyOf(tenantId: string): Promise<TenantIsolationStrategy>;
  /**
   * Forgets cached decisions — of one tenant, or of all without an argument — so the next
   * request asks `strategyFor` again. Call it once a tenant's data has moved (a plan upgrade
   * moved it to its own database); a decision being computed meanwhile is not cached.
   *
   * @example
   * ```ts
   * await migrateTenantToOwnDatabase('acme');
   * isolation.invalidate('acme');
   * ```
   */
  invalidate(tenantId?: string): void;
}

const strategies: readonly TenantIsolationStrategy[] = ['shared', 'schema', 'database'];

const handleSourceSchema = z.custom<TenantHandleSource<unknown>>(
  (value) => typeof value === 'function' || hasMethods(value, ['forTenant']) || hasMethods(value, ['db']),
  'must be a function, or an object with forTenant(tenantId) or db()',
);

const optionsSchema = z.strictObject({
  strategyFor: z.custom<(tenantId: string) => unknown>((value) => typeof value === 'function', 'must be a function'),
  shared: handleSourceSchema.optional(),
  schema: handleSourceSchema.optional(),
  database: handleSourceSchema.optional(),
  decisionTtlMs: z.number().int().min(0).max(24 * 60 * 60 * 1000).optional(),
  maxCachedDecisions: z.number().int().min(1).max(10_000_000).optional(),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
});

interface CachedDecision {
  readonly strategy: TenantIsolationStrategy;
  readonly expiresAt: number;
}

function handleFrom<DB>(source: TenantHandleSource<DB>, tenantId: string): unknown {
  if (typeof source === 'function') return source();
  if (typeof (source as { forTenant?: unknown }).forTenant === 'function') {
    return (source as { forTenant(tenantId: string): Kysely<DB> }).forTenant(tenantId);
  }
  return (source as { db(): Kysely<DB> }).db();
}

/**
 * Creates a {@link TenantIsolationRouter}, which lets an application choose the isolation
 * strategy per tenant — enterprise tenants on their own database, everyone else in the shared
 * schema — behind one `db()` call. Options are validated now; at least one handle source is
 * required. It fails closed: no tenant in scope, an unknown strategy or a strategy without a
 * source throws instead of falling back to another strategy.
 *
 * Moving a tenant between strategies is a data migration the router does not do: copy the
 * tenant's rows into the new home (with writes paused, e.g. the tenant suspended), switch what
 * `strategyFor` answers, then {@link TenantIsolationRouter.invalidate} the tenant in every
 * process, and only then delete the old copy.
 *
 * @example
 * ```ts
 * const isolation = createTenantIsolationRouter<Database>({
 *   strategyFor: async (tenantId) => ((await registry.getTenantOrThrow(tenantId)).plan === 'enterprise' ? 'database' : 'shared'),
 *   shared: () => sharedDb,            // with the tenant-column plugin
 *   schema: schemaPerTenant,           // { forTenant(tenantId) }
 *   database: databaseRouter,          // createTenantDatabaseRouter(...)
 *   decisionTtlMs: 30_000,
 * });
 * app.get('/projects', async (req, res) => res.json(await (await isolation.db()).selectFrom('projects').selectAll().execute()));
 * ```
 */
export function createTenantIsolationRouter<DB>(options: TenantIsolationRouterOptions<DB>): TenantIsolationRouter<DB> {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'tenant isolation router options');
  const sources: Partial<Record<TenantIsolationStrategy, TenantHandleSource<DB>>> = {
    shared: options.shared,
    schema: options.schema,
    database: options.database,
  };
  if (strategies.every((strategy) => sources[strategy] === undefined)) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'createTenantIsolationRouter() needs at least one of shared, schema or database');
  }
  const { strategyFor } = options;
  const clock = options.clock ?? systemClock;
  const ttlMs = parsed.decisionTtlMs ?? 60_000;
  const maxCached = parsed.maxCachedDecisions ?? 10_000;
  const cache = new Map<string, CachedDecision>();
  /** Decisions being computed; a tenant's entry is removed on invalidation, so its result is not cached. */
  const inflight = new Map<string, Promise<TenantIsolationStrategy>>();

  const decide = async (tenantId: string): Promise<TenantIsolationStrategy> => {
    let answer: unknown;
    try {
      answer = await strategyFor(tenantId);
    } catch (error) {
      if (isTenantkitError(error)) throw error;
      throw new TenantContextError('STORE_UNAVAILABLE', `Could not decide the isolation strategy of tenant ${tenantId}`, {
        cause: error,
        details: { tenantId },
      });
    }
    if (typeof answer !== 'string' || !strategies.includes(answer as TenantIsolationStrategy)) {
      throw new TenantContextError(
        'CONFIGURATION_INVALID',
        `strategyFor(${tenantId}) answered ${JSON.stringify(answer) ?? String(answer)}; expected 'shared', 'schema' or 'database'`,
        { details: { tenantId } },
      );
    }
    return answer as TenantIsolationStrategy;
  };

  const strategyOf = (tenantId: string): Promise<TenantIsolationStrategy> => {
    const cached = cache.get(tenantId);
    if (cached !== undefined) {
      if (cached.expiresAt > clock.now()) return Promise.resolve(cached.strategy);
      cache.delete(tenantId);
    }
    const pending = inflight.get(tenantId);
    if (pending !== undefined) return pending;
    const decision = decide(tenantId).then(
      (strategy) => {
        // Invalidated while computing: answer this caller, but do not remember it.
        if (inflight.get(tenantId) === decision) {
          inflight.delete(tenantId);
          if (ttlMs > 0) {
            if (cache.size >= maxCached) cache.delete(cache.keys().next().value as string);
            cache.set(tenantId, { strategy, expiresAt: clock.now() + ttlMs });
          }
        }
        return strategy;
      },
      (error: unknown) => {
        if (inflight.get(tenantId) === decision) inflight.delete(tenantId);
        throw error;
      },
    );
    inflight.set(tenantId, decision);
    return decision;
  };

  return Object.freeze({
    async db() {
      const tenantId = requireTenantId();
      const strategy = await strategyOf(tenantId);
      const source = sources[strategy];
      if (source === undefined) {
        throw new TenantContextError(
          'CONFIGURATION_INVALID',
          `Tenant ${tenantId} is on the '${strategy}' strategy, but the isolation router has no ${strategy} handle source`,
          { details: { tenantId, strategy } },
        );
      }
      const handle = handleFrom(source, tenantId);
      if (!hasMethods(handle, ['selectFrom', 'insertInto'])) {
        throw new TenantContextError('CONFIGURATION_INVALID', `The ${strategy} handle source returned no Kysely instance for tenant ${tenantId}`, {
          details: { tenantId, strategy },
        });
      }
      return handle as Kysely<DB>;
    },

    async strategyOf(tenantId: string) {
      assertTenantId(tenantId);
      return strategyOf(tenantId);
    },

    invalidate(tenantId?: string) {
      if (tenantId === undefined) {
        cache.clear();
        inflight.clear();
        return;
      }
      cache.delete(tenantId);
      inflight.delete(tenantId);
    },
  });
}
