import type { Insertable, Kysely } from 'kysely';
import { TenantContextError } from '../../errors.js';
import type { LifecycleArtifact, LifecycleRun, LifecycleRunKind, LifecycleRunState } from '../../lifecycle/lifecycle-run.js';
import type { LifecycleRunQuery, LifecycleRunStore } from '../../store.js';
import { assertExpectedVersion, assertLeaseExpiredBefore, assertPageLimit } from '../store-argument-guards.js';
import { readJson, readNullableSafeInteger, readNullableText, readSafeInteger, readText, writeJson } from './column-values.js';
import { runStoreOperation } from './database-errors.js';
import { resolveKyselyStoreContext, type KyselyStoreContext, type KyselyTenantContextOptions } from './kysely-store-context.js';
import { assertStorableLifecycleRun } from './record-schemas.js';
import type { LifecycleRunsTable, TenantContextRow } from './schema.js';

function lifecycleRunFromRow(row: TenantContextRow<'lifecycle_runs'>): LifecycleRun {
  // `null` (or no column at all, on a schema read before migration 0002) means none: the
  // property is left out, as the memory store leaves it out.
  const artifacts =
    row.artifacts === null || row.artifacts === undefined ? undefined : readJson<LifecycleArtifact[]>(row.artifacts, 'artifacts');
  return {
    id: readText(row.id, 'id'),
    kind: readText(row.kind, 'kind') as LifecycleRunKind,
    tenantId: readText(row.tenant_id, 'tenant_id'),
    state: readText(row.state, 'state') as LifecycleRunState,
    completedSteps: readJson<string[]>(row.completed_steps, 'completed_steps'),
    compensatedSteps: readJson<string[]>(row.compensated_steps, 'compensated_steps'),
    input: readJson<LifecycleRun['input']>(row.input, 'input'),
    error: row.error === null ? null : readJson<LifecycleRun['error']>(row.error, 'error'),
    ...(artifacts === undefined ? {} : { artifacts }),
    leaseOwner: readNullableText(row.lease_owner, 'lease_owner'),
    leaseExpiresAt: readNullableSafeInteger(row.lease_expires_at, 'lease_expires_at'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    updatedAt: readSafeInteger(row.updated_at, 'updated_at'),
    version: readSafeInteger(row.version, 'version'),
  };
}

/** The columns of a run; validates first, so nothing unstorable reaches the database. */
function lifecycleRunToRow(run: LifecycleRun): Insertable<LifecycleRunsTable> {
  assertStorableLifecycleRun(run);
  return {
    id: run.id,
    tenant_id: run.tenantId,
    kind: run.kind,
    state: run.state,
    completed_steps: writeJson(run.completedSteps, 'completed steps'),
    compensated_steps: writeJson(run.compensatedSteps, 'compensated steps'),
    input: writeJson(run.input, 'run input'),
    error: run.error === null ? null : writeJson(run.error, 'run error'),
    // Written on every update, so an update without artifacts clears them, as it does in memory.
    artifacts: run.artifacts === undefined ? null : writeJson(run.artifacts, 'run artifacts'),
    lease_owner: run.leaseOwner,
    lease_expires_at: run.leaseExpiresAt,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
    version: run.version,
  };
}

/**
 * The {@link LifecycleRunStore} over an already resolved context.
 *
 * @example
 * ```ts
 * const store = createKyselyLifecycleRunStore(resolveKyselyStoreContext(db, undefined, 'kyselyLifecycleRunStore'));
 * ```
 */
export function createKyselyLifecycleRunStore(context: KyselyStoreContext): LifecycleRunStore {
  const { db, tables } = context;

  return {
    async insertRun(run) {
      const row = lifecycleRunToRow(run);
      await runStoreOperation(
        'insertRun',
        () => db.insertInto(tables.lifecycle_runs).values(row).execute(),
        (error) =>
          new TenantContextError('STORE_CONFLICT', 'A lifecycle run with this id already exists', {
            cause: error,
            details: { runId: run.id },
          }),
      );
    },

    async getRun(id) {
      const row = await runStoreOperation('getRun', () =>
        db.selectFrom(tables.lifecycle_runs).selectAll().where('id', '=', id).executeTakeFirst(),
      );
      return row === undefined ? null : lifecycleRunFromRow(row);
    },

    async updateRun(run, expectedVersion) {
      assertExpectedVersion(run.version, expectedVersion);
      const { id, ...columns } = lifecycleRunToRow(run);
      // The version always changes, so MySQL's affected-row count is 1 exactly when the
      // compare-and-set matched, whichever way the client counts rows.
      const result = await runStoreOperation('updateRun', () =>
        db
          .updateTable(tables.lifecycle_runs)
          .set(columns)
          .where('id', '=', id)
          .where('version', '=', expectedVersion)
          .executeTakeFirst(),
      );
      return result.numUpdatedRows > 0n;
    },

    async listRuns(query: LifecycleRunQuery) {
      assertPageLimit(query.limit);
      const { leaseExpiredBefore } = query;
      if (leaseExpiredBefore !== undefined) assertLeaseExpiredBefore(leaseExpiredBefore);
      if (query.state !== undefined && query.state.length === 0) return [];
      const rows = await runStoreOperation('listRuns', () => {
        let select = db.selectFrom(tables.lifecycle_runs).selectAll();
        if (query.tenantId !== undefined) select = select.where('tenant_id', '=', query.tenantId);
        if (query.kind !== undefined) select = select.where('kind', '=', query.kind);
        if (query.state !== undefined) select = select.where('state', 'in', [...query.state]);
        // No index of its own: crash recovery asks for unfinished states, which the
        // (state, created_at, id) index narrows to the few runs in flight, and the rows among
        // them that live workers hold are skipped as they are read. ("null or below t" is no
        // single index range either, so a wider index would buy little.)
        if (leaseExpiredBefore !== undefined) {
          select = select.where(({ eb, or }) =>
            or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', leaseExpiredBefore)]),
          );
        }
        return select.orderBy('created_at').orderBy('id').limit(query.limit).execute();
      });
      return rows.map(lifecycleRunFromRow);
    },
  };
}

/**
 * A {@link LifecycleRunStore} on a Kysely instance: onboarding and offboarding runs with
 * compare-and-set updates on `version`, so two workers never both advance one run. Create the
 * tables first with `migrateTenantContextSchema(db)`; see `kyselyTenantStore` for how `db` is used.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for invalid options or an unrecognized dialect.
 *
 * @example
 * ```ts
 * import { kyselyLifecycleRunStore } from '@tenantkit/tenant-context/kysely';
 *
 * const runs = kyselyLifecycleRunStore(db);
 * const stuck = await runs.listRuns({ state: ['running', 'compensating'], limit: 100 });
 * ```
 */
export function kyselyLifecycleRunStore(db: Kysely<any>, options?: KyselyTenantContextOptions): LifecycleRunStore {
  return createKyselyLifecycleRunStore(resolveKyselyStoreContext(db, options, 'kyselyLifecycleRunStore'));
}
