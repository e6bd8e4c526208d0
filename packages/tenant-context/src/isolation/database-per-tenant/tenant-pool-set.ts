import type { Clock } from '@tenantkit/core';
import { isTenantkitError } from '@tenantkit/core';
import { TenantContextError } from '../../errors.js';

/**
 * A borrowed pool: the pool stays open (is never evicted or closed) until `release()`.
 *
 * @example
 * ```ts
 * const lease = await pools.acquire('acme');
 * try { await lease.pool.selectFrom('projects').selectAll().execute(); } finally { lease.release(); }
 * ```
 */
export interface TenantPoolLease<Pool> {
  readonly tenantId: string;
  readonly pool: Pool;
  /** Gives the pool back; calling it again does nothing. */
  release(): void;
}

/**
 * How full the router's set of pools is, for metrics and tests.
 *
 * @example
 * ```ts
 * const { pools, connections, waiting } = router.stats();
 * metrics.gauge('tenant_pools', pools);
 * ```
 */
export interface TenantPoolStats {
  /** Pools counted against `maxPools`: open, opening and still closing. */
  readonly pools: number;
  readonly openPools: number;
  readonly openingPools: number;
  readonly closingPools: number;
  /** Connections counted against `maxConnections` (declared per pool, for every counted pool). */
  readonly connections: number;
  /** Leases not yet released. */
  readonly leases: number;
  /** Acquisitions waiting for room. */
  readonly waiting: number;
  /** The tenants whose pool is open, least recently used first. */
  readonly openTenants: readonly string[];
}

/**
 * What a {@link TenantPoolSet} is built from.
 *
 * @example
 * ```ts
 * const pools = new TenantPoolSet({ open, destroy, connectionsFor: () => 5, maxPools: 20, maxConnections: 80,
 *   idleTimeoutMs: 60_000, acquireTimeoutMs: 5_000, clock: systemClock });
 * ```
 */
export interface TenantPoolSetOptions<Pool> {
  open(tenantId: string): Promise<Pool>;
  destroy(pool: Pool, tenantId: string): Promise<void>;
  /** The connections the tenant's pool may hold; a positive integer no greater than `maxConnections`. */
  connectionsFor(tenantId: string): number;
  readonly maxPools: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  readonly acquireTimeoutMs: number;
  readonly clock: Clock;
  /** Told when destroying a pool failed (the pool is forgotten either way). */
  onDestroyError?(error: unknown, tenantId: string): void;
}

type EntryState = 'opening' | 'open' | 'closing';

interface PoolEntry<Pool> {
  readonly tenantId: string;
  readonly connections: number;
  state: EntryState;
  pool: Pool | undefined;
  /** Settles when the open finished; rejects (with the coded error) when it failed. */
  ready: Promise<void>;
  leases: number;
  /** Orders pools for LRU eviction (a counter: a manual clock may not move between uses). */
  lastUsedOrder: number;
  /** Clock time of the last release, for idle eviction. */
  idleSince: number;
}

interface Waiter {
  resolve(): void;
}

function wrapOpenError(error: unknown, tenantId: string): Error {
  if (isTenantkitError(error)) return error;
  return new TenantContextError('STORE_UNAVAILABLE', `Could not open the database of tenant ${tenantId}`, {
    cause: error,
    details: { tenantId },
  });
}

/**
 * A bounded set of per-tenant pools, the engine of the database router. At most `maxPools`
 * pools and `maxConnections` declared connections exist at once, counting pools that are still
 * opening or closing. Pools are borrowed with leases (reference counts); only pools without
 * leases are ever closed:
 *
 * - a pool idle for `idleTimeoutMs` is closed by {@link TenantPoolSet.evictIdle};
 * - when a new pool needs room, the least recently used idle pool is closed to make it;
 * - when nothing is idle, the acquisition waits (first come, first served) up to
 *   `acquireTimeoutMs`, then fails with `TENANT_POOL_EXHAUSTED`.
 *
 * Opening is single-flight: concurrent first requests for one tenant share one open. A failed
 * open is not remembered; the next request tries again.
 *
 * @example
 * ```ts
 * const lease = await pools.acquire('acme');
 * try { await work(lease.pool); } finally { lease.release(); }
 * ```
 */
export class TenantPoolSet<Pool> {
  readonly #options: TenantPoolSetOptions<Pool>;
  /** The current pool of each tenant (opening or open). Closing pools are only counted. */
  readonly #entries = new Map<string, PoolEntry<Pool>>();
  #closingPools = 0;
  /** Pools still closing per tenant (an evicted pool may still close while a new one opens). */
  readonly #closingByTenant = new Map<string, number>();
  #closingConnections = 0;
  /** Acquisitions waiting for room, oldest first. */
  #waiters: Waiter[] = [];
  /** Internal waits (closing, deprovisioning) for leases to end; never ahead of acquisitions. */
  #watchers: Waiter[] = [];
  #useCounter = 0;
  #leases = 0;
  /** Tenants whose pool is being closed for good (deprovisioning), with the section's end. */
  readonly #blocked = new Map<string, Promise<void>>();
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: TenantPoolSetOptions<Pool>) {
    this.#options = options;
  }

  /**
   * Borrows the tenant's pool, opening it if needed.
   *
   * @throws `TENANT_POOL_EXHAUSTED` when no room frees up within `acquireTimeoutMs`;
   *   `TENANT_NOT_READY` while the tenant's database is being removed; `STORE_UNAVAILABLE` when
   *   the set is closed or the pool could not be opened (a coded error from `open` passes through).
   *
   * @example
   * ```ts
   * const lease = await pools.acquire('acme');
   * ```
   */
  async acquire(tenantId: string): Promise<TenantPoolLease<Pool>> {
    let deadline: number | undefined;
    for (;;) {
      this.#assertUsable(tenantId);
      const entry = this.#entries.get(tenantId);
      if (entry !== undefined) {
        // Reserved before waiting for an opening pool, so nobody evicts it between its opening
        // and this caller's first query.
        this.#reserve(entry);
        if (entry.state === 'opening') {
          try {
            await entry.ready;
          } catch (error) {
            this.#unreserve(entry);
            throw error;
          }
        }
        return this.#leaseOf(entry);
      }
      const connections = this.#connectionsFor(tenantId);
      // Newcomers queue behind waiters, so a burst of requests cannot starve an older one.
      if (this.#waiters.length === 0 && this.#fits(connections)) {
        this.#startOpening(tenantId, connections);
        continue;
      }
      this.#makeRoomFor(connections);
      deadline ??= performance.now() + this.#options.acquireTimeoutMs;
      await this.#waitForChange(deadline, tenantId);
    }
  }

  /**
   * Closes every pool that has had no lease for `idleTimeoutMs` (by the clock) and resolves how
   * many it closed. The router calls it on a timer.
   *
   * @example
   * ```ts
   * clock.advance(idleTimeoutMs);
   * await pools.evictIdle(); // 2
   * ```
   */
  async evictIdle(): Promise<number> {
    const now = this.#options.clock.now();
    const closing: Promise<void>[] = [];
    for (const entry of [...this.#entries.values()]) {
      if (entry.state === 'open' && entry.leases === 0 && now - entry.idleSince >= this.#options.idleTimeoutMs) {
        closing.push(this.#closeEntry(entry));
      }
    }
    await Promise.all(closing);
    return closing.length;
  }

  /**
   * Runs `whileClosed` with the tenant's pool closed and no new lease possible: it refuses new
   * acquisitions for the tenant (`TENANT_NOT_READY`), waits for the leases it handed out to be
   * released, closes the pool, then runs `whileClosed`. Acquisitions work again afterwards.
   * Sections for one tenant run one after the other.
   *
   * @example
   * ```ts
   * await pools.withTenantClosed('acme', () => provisioner.dropDatabase('tenant_acme'));
   * ```
   */
  async withTenantClosed<R>(tenantId: string, whileClosed: (closedPool: boolean) => Promise<R>): Promise<R> {
    while (this.#blocked.has(tenantId)) await this.#blocked.get(tenantId);
    this.#assertOpen();
    let endSection!: () => void;
    this.#blocked.set(
      tenantId,
      new Promise<void>((resolve) => {
        endSection = resolve;
      }),
    );
    try {
      let closedPool = false;
      for (let entry = this.#entries.get(tenantId); entry !== undefined; entry = this.#entries.get(tenantId)) {
        if (entry.state === 'opening') {
          await entry.ready.catch(() => undefined);
          continue;
        }
        if (entry.leases > 0) {
          await this.#waitForChange(undefined, tenantId, true);
          continue;
        }
        await this.#closeEntry(entry);
        closedPool = true;
      }
      // A pool evicted a moment ago may still be closing; what follows must not race it.
      while (this.#closingByTenant.has(tenantId)) await this.#waitForChange(undefined, tenantId, true);
      return await whileClosed(closedPool);
    } finally {
      this.#blocked.delete(tenantId);
      endSection();
      this.#notify();
    }
  }

  /**
   * Refuses new acquisitions (waiting ones reject with `STORE_UNAVAILABLE`), waits for every
   * lease to be released and closes every pool. Calling it again returns the same promise.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void pools.close());
   * ```
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#notify();
    this.#closing ??= (async () => {
      for (;;) {
        const entries = [...this.#entries.values()];
        if (entries.length === 0) break;
        const opening = entries.find((entry) => entry.state === 'opening');
        if (opening !== undefined) {
          await opening.ready.catch(() => undefined);
          continue;
        }
        const idle = entries.filter((entry) => entry.leases === 0);
        if (idle.length === 0) {
          await this.#waitForChange(undefined, undefined, true);
          continue;
        }
        await Promise.all(idle.map((entry) => this.#closeEntry(entry)));
      }
      while (this.#closingPools > 0) await this.#waitForChange(undefined, undefined, true);
    })();
    return this.#closing;
  }

  /**
   * The current counts; see {@link TenantPoolStats}.
   *
   * @example
   * ```ts
   * pools.stats().connections; // 10
   * ```
   */
  stats(): TenantPoolStats {
    let openPools = 0;
    let openingPools = 0;
    let connections = this.#closingConnections;
    const open: PoolEntry<Pool>[] = [];
    for (const entry of this.#entries.values()) {
      connections += entry.connections;
      if (entry.state === 'open') {
        openPools += 1;
        open.push(entry);
      } else openingPools += 1;
    }
    open.sort((a, b) => a.lastUsedOrder - b.lastUsedOrder);
    return {
      pools: this.#entries.size + this.#closingPools,
      openPools,
      openingPools,
      closingPools: this.#closingPools,
      connections,
      leases: this.#leases,
      waiting: this.#waiters.length,
      openTenants: open.map((entry) => entry.tenantId),
    };
  }

  #assertOpen(): void {
    if (this.#closed) throw new TenantContextError('STORE_UNAVAILABLE', 'The tenant database router is closed');
  }

  #assertUsable(tenantId: string): void {
    this.#assertOpen();
    if (this.#blocked.has(tenantId)) {
      throw new TenantContextError('TENANT_NOT_READY', `The database of tenant ${tenantId} is being closed for removal`, {
        details: { tenantId },
      });
    }
  }

  #connectionsFor(tenantId: string): number {
    const connections = this.#options.connectionsFor(tenantId);
    if (!Number.isInteger(connections) || connections < 1 || connections > this.#options.maxConnections) {
      throw new TenantContextError(
        'CONFIGURATION_INVALID',
        `connectionsPerPool for tenant ${tenantId} must be a positive integer no greater than maxConnections (${this.#options.maxConnections})`,
        { details: { tenantId } },
      );
    }
    return connections;
  }

  #usedConnections(): number {
    let used = this.#closingConnections;
    for (const entry of this.#entries.values()) used += entry.connections;
    return used;
  }

  #fits(connections: number): boolean {
    return (
      this.#entries.size + this.#closingPools + 1 <= this.#options.maxPools &&
      this.#usedConnections() + connections <= this.#options.maxConnections
    );
  }

  /** Starts closing least recently used idle pools until the new pool will fit once they are closed. */
  #makeRoomFor(connections: number): void {
    for (;;) {
      // Pools already closing will make the room once they are closed.
      if (
        this.#entries.size + 1 <= this.#options.maxPools &&
        this.#usedConnections() - this.#closingConnections + connections <= this.#options.maxConnections
      ) {
        return;
      }
      let victim: PoolEntry<Pool> | undefined;
      for (const entry of this.#entries.values()) {
        if (entry.state === 'open' && entry.leases === 0 && (victim === undefined || entry.lastUsedOrder < victim.lastUsedOrder)) {
          victim = entry;
        }
      }
      if (victim === undefined) return;
      void this.#closeEntry(victim);
    }
  }

  #startOpening(tenantId: string, connections: number): void {
    const entry: PoolEntry<Pool> = {
      tenantId,
      connections,
      state: 'opening',
      pool: undefined,
      ready: Promise.resolve(),
      leases: 0,
      lastUsedOrder: ++this.#useCounter,
      idleSince: this.#options.clock.now(),
    };
    // Registered before open() runs, so a synchronous throw in it unregisters a registered entry.
    this.#entries.set(tenantId, entry);
    entry.ready = (async () => {
      let pool: Pool;
      try {
        pool = await this.#options.open(tenantId);
      } catch (error) {
        // Not cached: the next acquisition opens again.
        this.#entries.delete(tenantId);
        this.#notify();
        throw wrapOpenError(error, tenantId);
      }
      entry.pool = pool;
      entry.state = 'open';
      entry.idleSince = this.#options.clock.now();
      this.#notify();
    })();
    // Every waiter awaits `ready` itself; this only stops an unobserved rejection from crashing.
    entry.ready.catch(() => undefined);
  }

  #reserve(entry: PoolEntry<Pool>): void {
    entry.leases += 1;
    this.#leases += 1;
    entry.lastUsedOrder = ++this.#useCounter;
  }

  #unreserve(entry: PoolEntry<Pool>): void {
    entry.leases -= 1;
    this.#leases -= 1;
    entry.lastUsedOrder = ++this.#useCounter;
    entry.idleSince = this.#options.clock.now();
    if (entry.leases === 0) this.#notify();
  }

  /** The lease object of a reservation on an open entry. */
  #leaseOf(entry: PoolEntry<Pool>): TenantPoolLease<Pool> {
    let released = false;
    return {
      tenantId: entry.tenantId,
      pool: entry.pool as Pool,
      release: () => {
        if (released) return;
        released = true;
        this.#unreserve(entry);
      },
    };
  }

  #closeEntry(entry: PoolEntry<Pool>): Promise<void> {
    entry.state = 'closing';
    this.#entries.delete(entry.tenantId);
    this.#closingPools += 1;
    this.#closingConnections += entry.connections;
    this.#closingByTenant.set(entry.tenantId, (this.#closingByTenant.get(entry.tenantId) ?? 0) + 1);
    return (async () => {
      try {
        await this.#options.destroy(entry.pool as Pool, entry.tenantId);
      } catch (error) {
        try {
          this.#options.onDestroyError?.(error, entry.tenantId);
        } catch {
          // A failing observer must not leave the pool counted forever.
        }
      } finally {
        this.#closingPools -= 1;
        this.#closingConnections -= entry.connections;
        const stillClosing = (this.#closingByTenant.get(entry.tenantId) ?? 1) - 1;
        if (stillClosing === 0) this.#closingByTenant.delete(entry.tenantId);
        else this.#closingByTenant.set(entry.tenantId, stillClosing);
        this.#notify();
      }
    })();
  }

  /** Wakes every waiter; each checks again, in the order they came. */
  #notify(): void {
    const waiters = this.#waiters;
    const watchers = this.#watchers;
    this.#waiters = [];
    this.#watchers = [];
    for (const waiter of waiters) waiter.resolve();
    for (const watcher of watchers) watcher.resolve();
  }

  /**
   * Resolves on the next change of the set (a pool opened, closed or became idle); rejects with
   * `TENANT_POOL_EXHAUSTED` at `deadline`, and with `STORE_UNAVAILABLE` once the set is closed
   * (unless `internal`: close and deprovisioning wait through that).
   */
  #waitForChange(deadline: number | undefined, tenantId: string | undefined, internal = false): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        resolve: () => {
          if (timer !== undefined) clearTimeout(timer);
          resolve();
        },
      };
      if (this.#closed && !internal) {
        reject(new TenantContextError('STORE_UNAVAILABLE', 'The tenant database router is closed'));
        return;
      }
      if (deadline !== undefined) {
        const remaining = deadline - performance.now();
        const exhausted = () => {
          this.#waiters = this.#waiters.filter((other) => other !== waiter);
          const { pools, connections } = this.stats();
          reject(
            new TenantContextError(
              'TENANT_POOL_EXHAUSTED',
              `No database pool became free for tenant ${tenantId ?? '?'} within ${this.#options.acquireTimeoutMs} ms ` +
                `(${pools}/${this.#options.maxPools} pools, ${connections}/${this.#options.maxConnections} connections, all in use)`,
              {
                details: {
                  tenantId,
                  pools,
                  connections,
                  maxPools: this.#options.maxPools,
                  maxConnections: this.#options.maxConnections,
                  acquireTimeoutMs: this.#options.acquireTimeoutMs,
                },
              },
            ),
          );
        };
        if (remaining <= 0) {
          exhausted();
          return;
        }
        timer = setTimeout(exhausted, remaining);
      }
      if (internal) this.#watchers.push(waiter);
      else this.#waiters.push(waiter);
    });
  }
}
