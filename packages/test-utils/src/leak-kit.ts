import { runWithTenant } from '@tenantkit/tenant-context';
import fc from 'fast-check';

/**
 * One tenant-owned record the leak kit writes and reads back.
 *
 * @example
 * ```ts
 * const record: LeakKitRecord = { id: 'rec_1', value: 'tnt_leak_a#7#x' };
 * ```
 */
export interface LeakKitRecord {
  readonly id: string;
  readonly value: string;
}

/**
 * What the leak kit drives: one isolation strategy on one adapter, reduced to five record
 * operations. Every call except {@link LeakKitTarget.reset} runs inside
 * `runWithTenant(tenant, ...)`, and the target must read the tenant from that scope only — its
 * queries carry no tenant filter of their own, so whatever isolates is the strategy under test.
 *
 * @example
 * ```ts
 * const target: LeakKitTarget = {
 *   reset: () => runAsSystem({ reason: 'leak-kit reset' }, () => admin.deleteFrom('leak_records').execute()).then(() => undefined),
 *   insert: async (record) => { await db.insertInto('leak_records').values(record).execute(); },
 *   get: (id) => db.selectFrom('leak_records').select(['id', 'value']).where('id', '=', id).executeTakeFirst(),
 *   list: () => db.selectFrom('leak_records').select(['id', 'value']).execute(),
 *   update: async (id, value) => Number((await db.updateTable('leak_records').set({ value }).where('id', '=', id).executeTakeFirst()).numUpdatedRows),
 *   remove: async (id) => Number((await db.deleteFrom('leak_records').where('id', '=', id).executeTakeFirst()).numDeletedRows),
 * };
 * ```
 */
export interface LeakKitTarget {
  /**
   * Deletes every record of every tenant. Called outside any tenant scope before each random
   * run; open `runAsSystem` or use an unscoped admin handle.
   */
  reset(): Promise<void>;
  /**
   * Inserts a record for the tenant in scope. The harness only inserts ids the tenant does not
   * hold yet; ids are shared across tenants, so the same id exists in several tenants at once.
   */
  insert(record: LeakKitRecord): Promise<void>;
  /** The record with this id as the tenant in scope sees it, or `undefined`. */
  get(id: string): Promise<LeakKitRecord | undefined>;
  /** Every record the tenant in scope sees, in any order. */
  list(): Promise<readonly LeakKitRecord[]>;
  /** Sets the value of the record with this id; resolves how many records changed. */
  update(id: string, value: string): Promise<number>;
  /** Deletes the record with this id; resolves how many records were deleted. */
  remove(id: string): Promise<number>;
  /** How many records the tenant in scope sees (optional). */
  count?(): Promise<number>;
  /**
   * A hostile write (optional): the same insert, but claiming `foreignTenantId` explicitly (an
   * explicit tenant column value, a foreign tenant field). It must reject with code
   * `TENANT_ISOLATION_VIOLATION` and write nothing anywhere.
   */
  insertClaimingTenant?(record: LeakKitRecord, foreignTenantId: string): Promise<void>;
}

/**
 * Options of {@link runLeakKit}.
 *
 * @example
 * ```ts
 * const options: LeakKitOptions = { tenants: ['tnt_a', 'tnt_b'], operations: 10_000, concurrent: true };
 * ```
 */
export interface LeakKitOptions {
  /**
   * The tenants to drive, at least two. The default has three, one of whose ids is a prefix of
   * another's (`tnt_leak_a`, `tnt_leak_ab`), which catches prefix-matching key schemes.
   */
  tenants?: readonly string[];
  /** Total random operations over all runs; default 10,000. */
  operations?: number;
  /** Operations per random run (each run starts from {@link LeakKitTarget.reset}); default 200. */
  operationsPerRun?: number;
  /**
   * When true (the default), each step runs one operation for every tenant at the same time,
   * so pooled connections, caches and scopes are shared under interleaving.
   */
  concurrent?: boolean;
  /** fast-check seed, to replay a failure. */
  seed?: number;
  /** How many distinct record ids the tenants share; default 6. */
  idPoolSize?: number;
  /** Check that `list()` and `insert()` outside any scope reject with TENANT_SCOPE_REQUIRED; default true. */
  expectFailClosed?: boolean;
}

/**
 * What a passing {@link runLeakKit} ran.
 *
 * @example
 * ```ts
 * const report: LeakKitReport = await runLeakKit(target);
 * expect(report.operations).toBeGreaterThanOrEqual(10_000);
 * ```
 */
export interface LeakKitReport {
  /** Random operations executed and checked (hostile writes included). */
  readonly operations: number;
  /** Random runs (each from an empty store). */
  readonly runs: number;
  /** Hostile writes that were refused as required. */
  readonly refusedHostileWrites: number;
}

type OperationKind = 'insert' | 'get' | 'list' | 'update' | 'remove' | 'count' | 'insertClaimingTenant';

interface LeakKitOperation {
  readonly kind: OperationKind;
  readonly id: number;
  readonly foreign: number;
  readonly suffix: string;
}

type TenantModel = Map<string, string>;

/** A failure of the leak kit: a leak or a divergence from the per-tenant model. */
class LeakDetected extends Error {
  override name = 'LeakDetected';
}

const defaultTenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b'] as const;

function describeValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function errorCode(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/**
 * Drives two or more tenants through random sequences of inserts, reads, lists, updates,
 * deletes and (when the target offers it) hostile writes, each inside `runWithTenant`, and
 * compares every answer with a per-tenant model. It rejects with a descriptive error on any
 * cross-tenant read (a value written by another tenant comes back), any cross-tenant write (an
 * update or delete reports rows the tenant does not own, or another tenant's data changes), a
 * hostile write that is not refused, or any other divergence. Every random run ends with a full
 * read-back of every tenant.
 *
 * Values carry the writing tenant's id, so a leaked read names where it came from.
 *
 * @example
 * ```ts
 * it('leaks nothing over 10,000 random operations', async () => {
 *   const report = await runLeakKit(target);
 *   expect(report.operations).toBeGreaterThanOrEqual(10_000);
 * }, 120_000);
 * ```
 */
export async function runLeakKit(target: LeakKitTarget, options: LeakKitOptions = {}): Promise<LeakKitReport> {
  const tenants = [...(options.tenants ?? defaultTenants)];
  if (tenants.length < 2 || new Set(tenants).size !== tenants.length) {
    throw new TypeError('runLeakKit needs at least two distinct tenants');
  }
  const totalOperations = options.operations ?? 10_000;
  const operationsPerRun = options.operationsPerRun ?? 200;
  const concurrent = options.concurrent ?? true;
  const idPoolSize = options.idPoolSize ?? 6;
  if (!(totalOperations > 0 && operationsPerRun > 0 && idPoolSize > 0)) {
    throw new TypeError('runLeakKit: operations, operationsPerRun and idPoolSize must be positive');
  }
  const ids = Array.from({ length: idPoolSize }, (_, index) => `rec_${index}`);
  const kinds: OperationKind[] = ['insert', 'insert', 'get', 'list', 'update', 'remove'];
  if (target.count !== undefined) kinds.push('count');
  if (target.insertClaimingTenant !== undefined) kinds.push('insertClaimingTenant');

  if (options.expectFailClosed ?? true) await expectFailClosed(target);

  const operation: fc.Arbitrary<LeakKitOperation> = fc.record({
    kind: fc.constantFrom(...kinds),
    id: fc.nat({ max: idPoolSize - 1 }),
    foreign: fc.nat({ max: tenants.length - 2 }),
    suffix: fc.string({ maxLength: 6 }),
  });
  // A step holds one operation per tenant (concurrent) or one operation for one tenant.
  const step = concurrent
    ? fc.array(operation, { minLength: tenants.length, maxLength: tenants.length }).map((ops) => ops.map((op, tenant) => ({ tenant, op })))
    : fc.tuple(fc.nat({ max: tenants.length - 1 }), operation).map(([tenant, op]) => [{ tenant, op }]);
  const stepsPerRun = Math.max(1, Math.ceil(operationsPerRun / (concurrent ? tenants.length : 1)));
  const runs = Math.ceil(totalOperations / (stepsPerRun * (concurrent ? tenants.length : 1)));

  let executed = 0;
  let refusedHostileWrites = 0;
  let sequence = 0;

  const property = fc.asyncProperty(fc.array(step, { minLength: stepsPerRun, maxLength: stepsPerRun }), async (steps) => {
    await target.reset();
    const models = new Map<string, TenantModel>(tenants.map((tenant) => [tenant, new Map()]));
    const ownerOf = new Map<string, string>();
    let runOperations = 0;
    let runRefused = 0;
    for (const stepOperations of steps) {
      await Promise.all(
        stepOperations.map(async ({ tenant: tenantIndex, op }) => {
          const tenant = tenants[tenantIndex]!;
          const others = tenants.filter((other) => other !== tenant);
          const foreignTenant = others[op.foreign % others.length]!;
          const model = models.get(tenant)!;
          const id = ids[op.id]!;
          const value = `${tenant}#${++sequence}#${op.suffix}`;
          ownerOf.set(value, tenant);
          const context = `tenant ${tenant}, ${op.kind}(${id})`;
          const refused = await runWithTenant(tenant, () =>
            applyOperation({ target, op, id, value, foreignTenant, model, ownerOf, context, tenant }),
          );
          runOperations += 1;
          if (refused) runRefused += 1;
        }),
      );
    }
    // Full read-back: every tenant sees exactly its own model.
    for (const tenant of tenants) {
      const listed = await runWithTenant(tenant, () => target.list());
      compareList(listed, models.get(tenant)!, ownerOf, tenant, `final read-back of tenant ${tenant}`);
    }
    executed += runOperations;
    refusedHostileWrites += runRefused;
  });

  // No shrinking (endOnFailure): against a real database it would replay hundreds of runs.
  // The first failing run's own error is what a reader needs, plus the seed to replay it.
  const details = await fc.check(property, {
    numRuns: runs,
    endOnFailure: true,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  });
  if (details.failed) {
    const original = details.errorInstance;
    const reason = original instanceof Error ? original.message : describeValue(original);
    throw new LeakDetected(`${reason} (leak kit run ${details.numRuns} of ${runs}; replay with { seed: ${details.seed} })`, {
      cause: original,
    });
  }
  return { operations: executed, runs, refusedHostileWrites };
}

async function expectFailClosed(target: LeakKitTarget): Promise<void> {
  for (const [name, call] of [
    ['list()', () => target.list()],
    ['insert()', () => target.insert({ id: 'rec_unscoped', value: 'unscoped' })],
  ] as const) {
    let outcome: unknown;
    try {
      await call();
      outcome = 'resolved';
    } catch (error) {
      if (errorCode(error) === 'TENANT_SCOPE_REQUIRED') continue;
      outcome = error;
    }
    throw new LeakDetected(
      `Fail-closed check: ${name} outside any tenant scope must reject with TENANT_SCOPE_REQUIRED, got ${
        outcome instanceof Error ? `${outcome.name}: ${outcome.message}` : describeValue(outcome)
      }`,
    );
  }
}

interface OperationInput {
  readonly target: LeakKitTarget;
  readonly op: LeakKitOperation;
  readonly id: string;
  readonly value: string;
  readonly tenant: string;
  readonly foreignTenant: string;
  readonly model: TenantModel;
  readonly ownerOf: ReadonlyMap<string, string>;
  readonly context: string;
}

/** Runs one operation and checks it; resolves true when it was a hostile write that was refused. */
async function applyOperation(input: OperationInput): Promise<boolean> {
  const { target, op, id, value, model, ownerOf, context, tenant } = input;
  switch (op.kind) {
    case 'insert': {
      // The harness never inserts a duplicate: an existing id becomes an update of it.
      if (model.has(id)) return applyOperation({ ...input, op: { ...op, kind: 'update' } });
      await target.insert({ id, value });
      model.set(id, value);
      return false;
    }
    case 'get': {
      const found = await target.get(id);
      const expected = model.get(id);
      if (found === undefined || found === null) {
        if (expected !== undefined) throw new LeakDetected(`${context}: expected ${describeValue(expected)}, found nothing`);
        return false;
      }
      checkOwnValue(found, ownerOf, tenant, context);
      if (found.id !== id || found.value !== expected) {
        throw new LeakDetected(`${context}: expected ${describeValue(expected ?? null)}, found ${describeValue(found)}`);
      }
      return false;
    }
    case 'list': {
      compareList(await target.list(), model, ownerOf, tenant, context);
      return false;
    }
    case 'count': {
      const counted = await target.count!();
      if (counted !== model.size) throw new LeakDetected(`${context}: count ${counted}, the tenant holds ${model.size}`);
      return false;
    }
    case 'update': {
      const changed = await target.update(id, value);
      const expected = model.has(id) ? 1 : 0;
      if (changed !== expected) {
        throw new LeakDetected(`${context}: update changed ${changed} rows, the tenant holds ${expected} (cross-tenant write?)`);
      }
      if (expected === 1) model.set(id, value);
      return false;
    }
    case 'remove': {
      const removed = await target.remove(id);
      const expected = model.has(id) ? 1 : 0;
      if (removed !== expected) {
        throw new LeakDetected(`${context}: delete removed ${removed} rows, the tenant holds ${expected} (cross-tenant write?)`);
      }
      model.delete(id);
      return false;
    }
    case 'insertClaimingTenant': {
      let outcome: unknown = 'resolved';
      try {
        await target.insertClaimingTenant!({ id, value }, input.foreignTenant);
      } catch (error) {
        if (errorCode(error) === 'TENANT_ISOLATION_VIOLATION') return true;
        outcome = error;
      }
      throw new LeakDetected(
        `${context}: a write claiming tenant ${input.foreignTenant} must reject with TENANT_ISOLATION_VIOLATION, got ${
          outcome instanceof Error ? `${outcome.name}: ${outcome.message}` : describeValue(outcome)
        }`,
      );
    }
  }
}

function checkOwnValue(record: LeakKitRecord, ownerOf: ReadonlyMap<string, string>, tenant: string, context: string): void {
  const owner = ownerOf.get(record.value);
  if (owner !== undefined && owner !== tenant) {
    throw new LeakDetected(`${context}: CROSS-TENANT READ, saw ${describeValue(record)} written by tenant ${owner}`);
  }
}

function compareList(
  listed: readonly LeakKitRecord[],
  model: TenantModel,
  ownerOf: ReadonlyMap<string, string>,
  tenant: string,
  context: string,
): void {
  for (const record of listed) checkOwnValue(record, ownerOf, tenant, context);
  const seen = new Map<string, string>();
  for (const record of listed) {
    if (seen.has(record.id)) throw new LeakDetected(`${context}: id ${record.id} listed twice`);
    seen.set(record.id, record.value);
  }
  const matches = seen.size === model.size && [...model].every(([id, value]) => seen.get(id) === value);
  if (!matches) {
    throw new LeakDetected(
      `${context}: listed ${describeValue(Object.fromEntries(seen))}, the tenant holds ${describeValue(Object.fromEntries(model))}`,
    );
  }
}
