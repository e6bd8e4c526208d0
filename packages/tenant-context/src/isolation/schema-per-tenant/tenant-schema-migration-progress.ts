import type { TenantContextError } from '../../errors.js';

/**
 * Where a {@link SchemaPerTenant.migrateAllTenants} run stands, carried by every progress event.
 *
 * @example
 * ```ts
 * const { done, total } = event.counts;
 * console.log(`${done}/${total ?? '?'}`);
 * ```
 */
export interface TenantSchemaMigrationCounts {
  /** Tenants whose migration has started (finished ones included). */
  readonly started: number;
  /** Tenants finished: `migrated + upToDate + failed`. */
  readonly done: number;
  /** Tenants that had pending migrations and now have none. */
  readonly migrated: number;
  /** Tenants that had nothing to do (already migrated, by an earlier run or another process). */
  readonly upToDate: number;
  readonly failed: number;
  /** How many tenants the run has to go through, when known up front (an array, a set or the ownership table); `null` for other iterables. */
  readonly total: number | null;
}

/**
 * One progress event of {@link SchemaPerTenant.migrateAllTenants}; format it with
 * {@link formatTenantSchemaMigrationProgress} for a log line.
 *
 * @example
 * ```ts
 * const onProgress = (event: TenantSchemaMigrationProgress) => {
 *   if (event.type === 'tenant-failed') alert(event.tenantId, event.error);
 * };
 * ```
 */
export type TenantSchemaMigrationProgress =
  | {
      readonly type: 'tenant-started';
      readonly tenantId: string;
      /** The tenant's schema, or `null` when its name could not be computed (the failure follows). */
      readonly schema: string | null;
      readonly counts: TenantSchemaMigrationCounts;
    }
  | {
      readonly type: 'tenant-migrated';
      readonly tenantId: string;
      readonly schema: string;
      /** The migrations this run applied, in order. */
      readonly applied: readonly string[];
      readonly counts: TenantSchemaMigrationCounts;
    }
  | {
      readonly type: 'tenant-up-to-date';
      readonly tenantId: string;
      readonly schema: string;
      readonly counts: TenantSchemaMigrationCounts;
    }
  | {
      readonly type: 'tenant-failed';
      /** The id as given (cut to 64 characters when it is not a valid tenant id). */
      readonly tenantId: string;
      readonly schema: string | null;
      /** Coded (`TENANT_MIGRATION_FAILED`, `TENANT_NOT_FOUND`, `CONFIGURATION_INVALID`, ...), the driver error as `cause`. */
      readonly error: TenantContextError;
      readonly counts: TenantSchemaMigrationCounts;
    };

function causeMessage(error: Error): string {
  const cause: unknown = error.cause;
  return cause instanceof Error ? `: ${cause.message}` : '';
}

/**
 * A one-line, human-readable rendering of a progress event, for a migration script's output.
 * A failure line carries the driver's message (from `cause`), which may quote SQL: it is meant
 * for operators' logs, not for end users.
 *
 * @example
 * ```ts
 * await schemas.migrateAllTenants({ onProgress: (event) => console.log(formatTenantSchemaMigrationProgress(event)) });
 * // [3/120] tnt_acme (t_tnt_acme): migrated 002_invoices, 003_invoice_index
 * ```
 */
export function formatTenantSchemaMigrationProgress(event: TenantSchemaMigrationProgress): string {
  const { done, total } = event.counts;
  const where = event.schema === null ? event.tenantId : `${event.tenantId} (${event.schema})`;
  const prefix = `[${event.type === 'tenant-started' ? event.counts.started : done}/${total ?? '?'}] ${where}`;
  switch (event.type) {
    case 'tenant-started':
      return `${prefix}: migrating`;
    case 'tenant-migrated':
      return `${prefix}: migrated ${event.applied.join(', ')}`;
    case 'tenant-up-to-date':
      return `${prefix}: up to date`;
    case 'tenant-failed':
      return `${prefix}: FAILED (${event.error.code}) ${event.error.message}${causeMessage(event.error)}`;
  }
}
