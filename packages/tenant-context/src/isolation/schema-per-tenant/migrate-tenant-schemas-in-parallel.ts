import { TenantContextError } from '../../errors.js';
import { isValidTenantId } from '../../identifiers.js';
import type { TenantSchemaMigrationCounts, TenantSchemaMigrationProgress } from './tenant-schema-migration-progress.js';

/**
 * A tenant {@link SchemaPerTenant.migrateAllTenants} could not migrate.
 *
 * @example
 * ```ts
 * for (const failure of report.failures) console.error(failure.tenantId, failure.error.code);
 * ```
 */
export interface TenantSchemaMigrationFailure {
  readonly tenantId: string;
  readonly schema: string | null;
  /** The migration that failed, when one did (rather than, say, a missing schema). */
  readonly migration: string | null;
  readonly error: TenantContextError;
}

/**
 * What a {@link SchemaPerTenant.migrateAllTenants} run did. A run that resolves went through
 * every tenant without a failure; one that did not rejects with `TENANT_MIGRATION_FAILED`
 * whose `details` hold the same counts and the failed tenants.
 *
 * @example
 * ```ts
 * const report = await schemas.migrateAllTenants();
 * console.log(`${report.migrated} migrated, ${report.upToDate} already up to date`);
 * ```
 */
export interface TenantSchemaMigrationReport {
  readonly migrated: number;
  readonly upToDate: number;
  readonly failed: number;
  /** Every failed tenant (empty in a report a run resolves with). */
  readonly failures: readonly TenantSchemaMigrationFailure[];
  /** Whether the run went through every tenant (false after an abort, `stopOnError` or a failing tenant source). */
  readonly complete: boolean;
}

/** What one tenant's migration resolved. */
export interface TenantSchemaMigrationOutcome {
  readonly schema: string;
  readonly applied: readonly string[];
}

/** What {@link migrateTenantSchemasInParallel} needs. */
export interface ParallelTenantSchemaMigrationInput {
  readonly tenants: AsyncIterable<unknown>;
  readonly total: number | null;
  readonly concurrency: number;
  readonly stopOnError: boolean;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((event: TenantSchemaMigrationProgress) => void) | undefined;
  /** The tenant's schema name for events, or `null` when it cannot be computed. */
  schemaOf(tenantId: string): string | null;
  migrateOne(tenantId: string): Promise<TenantSchemaMigrationOutcome>;
}

const SOURCE_DONE = Symbol('tenant source exhausted');
const MAX_FAILURES_IN_DETAILS = 100;

function asCodedFailure(error: unknown, tenantId: string, schema: string | null): TenantContextError {
  if (error instanceof TenantContextError) return error;
  return new TenantContextError('TENANT_MIGRATION_FAILED', `Migrating the schema of tenant "${tenantId}" failed`, {
    cause: error,
    details: { tenantId, schema, migration: null },
  });
}

function migrationOf(error: TenantContextError): string | null {
  const migration = error.details?.migration;
  return typeof migration === 'string' ? migration : null;
}

/**
 * Migrates tenants from `tenants` with at most `concurrency` migrations running at once.
 *
 * Tenants are pulled from the source one at a time as workers free up, so a source of a
 * million ids is never held in memory. A failing tenant is recorded and the others go on,
 * unless `stopOnError`; an abort stops pulling new tenants and waits for the running ones
 * (a migration is one transaction: it either commits or rolls back, and is never cut off
 * halfway). Progress listeners that throw are ignored: they observe, they never break a run.
 */
export async function migrateTenantSchemasInParallel(input: ParallelTenantSchemaMigrationInput): Promise<TenantSchemaMigrationReport> {
  const { tenants, total, concurrency, stopOnError, signal, onProgress, schemaOf, migrateOne } = input;
  let started = 0;
  let migrated = 0;
  let upToDate = 0;
  const failures: TenantSchemaMigrationFailure[] = [];
  let exhausted = false;
  let stoppedBy: 'error' | 'abort' | 'source' | undefined;
  let sourceError: unknown;

  const counts = (): TenantSchemaMigrationCounts =>
    Object.freeze({ started, done: migrated + upToDate + failures.length, migrated, upToDate, failed: failures.length, total });
  const emit = (event: TenantSchemaMigrationProgress): void => {
    if (onProgress === undefined) return;
    try {
      onProgress(Object.freeze(event));
    } catch {
      // An observer must never break the run it observes.
    }
  };
  const recordFailure = (tenantId: string, schema: string | null, error: unknown): void => {
    const coded = asCodedFailure(error, tenantId, schema);
    failures.push(Object.freeze({ tenantId, schema, migration: migrationOf(coded), error: coded }));
    emit({ type: 'tenant-failed', tenantId, schema, error: coded, counts: counts() });
    if (stopOnError) stoppedBy ??= 'error';
  };

  // A function, not a narrowed property: the signal can abort across every await below.
  const aborted = (): boolean => signal?.aborted === true;
  const iterator = tenants[Symbol.asyncIterator]();
  // Pulls are serialized: several workers share one iterator, and not every async iterator
  // tolerates overlapping next() calls.
  let pulling: Promise<unknown> = Promise.resolve();
  const pull = (): Promise<unknown> => {
    const next = pulling.then(async () => {
      if (exhausted) return SOURCE_DONE;
      const result = await iterator.next();
      if (result.done === true) {
        exhausted = true;
        return SOURCE_DONE;
      }
      return result.value;
    });
    pulling = next.catch(() => undefined);
    return next;
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (stoppedBy !== undefined) return;
      if (aborted()) {
        stoppedBy ??= 'abort';
        return;
      }
      let entry: unknown;
      try {
        entry = await pull();
      } catch (error) {
        sourceError ??= error;
        stoppedBy ??= 'source';
        return;
      }
      if (entry === SOURCE_DONE) return;
      if (aborted()) {
        // Pulled but not started: a resumed run picks it up again.
        stoppedBy ??= 'abort';
        return;
      }
      if (!isValidTenantId(entry)) {
        started += 1;
        recordFailure(
          String(entry).slice(0, 64),
          null,
          new TenantContextError('TENANT_IDENTIFIER_INVALID', 'The tenant source yielded a malformed tenant id', { details: { schema: null, migration: null } }),
        );
        continue;
      }
      const tenantId = entry;
      const expectedSchema = schemaOf(tenantId);
      started += 1;
      emit({ type: 'tenant-started', tenantId, schema: expectedSchema, counts: counts() });
      try {
        const { schema, applied } = await migrateOne(tenantId);
        if (applied.length > 0) {
          migrated += 1;
          emit({ type: 'tenant-migrated', tenantId, schema, applied: Object.freeze([...applied]), counts: counts() });
        } else {
          upToDate += 1;
          emit({ type: 'tenant-up-to-date', tenantId, schema, counts: counts() });
        }
      } catch (error) {
        recordFailure(tenantId, expectedSchema, error);
      }
    }
  };

  if (aborted()) stoppedBy = 'abort';
  else await Promise.all(Array.from({ length: concurrency }, () => worker()));
  if (!exhausted) {
    try {
      await iterator.return?.();
    } catch {
      // Closing the source is a courtesy (a generator's finally, a cursor); the run's outcome stands.
    }
  }

  const report: TenantSchemaMigrationReport = Object.freeze({
    migrated,
    upToDate,
    failed: failures.length,
    failures: Object.freeze([...failures]),
    complete: stoppedBy === undefined,
  });
  if (stoppedBy === undefined && failures.length === 0) return report;

  const details = {
    migrated,
    upToDate,
    failed: failures.length,
    complete: report.complete,
    stoppedBy: stoppedBy ?? null,
    // Capped, so a run where every tenant failed does not make a megabyte error body.
    failures: failures.slice(0, MAX_FAILURES_IN_DETAILS).map(({ tenantId, schema, migration, error }) => ({ tenantId, schema, migration, code: error.code })),
    failuresOmitted: Math.max(0, failures.length - MAX_FAILURES_IN_DETAILS),
  };
  const finished = migrated + upToDate + failures.length;
  const failedPart =
    failures.length === 0
      ? ''
      : `${failures.length} tenant(s) failed (${failures
          .slice(0, 5)
          .map((failure) => failure.tenantId)
          .join(', ')}${failures.length > 5 ? ', ...' : ''})`;
  let message: string;
  if (stoppedBy === 'source') message = `Reading the tenants to migrate failed after ${finished} tenant(s)`;
  else if (stoppedBy === 'abort') message = `The tenant schema migration run was aborted after ${finished} tenant(s)`;
  else if (stoppedBy === 'error') message = `The tenant schema migration run stopped at the first failure after ${finished} tenant(s)`;
  else message = `${failedPart} while the others were migrated; run again to retry them`;
  if (stoppedBy !== undefined) message += `${failedPart === '' ? '' : `; ${failedPart}`}; run again to resume`;
  let cause: unknown;
  if (stoppedBy === 'source') cause = sourceError;
  else if (failures.length === 1) cause = failures[0]?.error;
  else if (failures.length > 1) cause = new AggregateError(failures.map((failure) => failure.error), failedPart);
  else cause = signal?.reason;
  throw new TenantContextError('TENANT_MIGRATION_FAILED', message, { cause, details });
}
