import type { TableNode } from 'kysely';
import { TenantContextError } from '../../errors.js';

/**
 * Builds the `TENANT_ISOLATION_VIOLATION` error the plugin throws.
 *
 * @example
 * ```ts
 * throw isolationViolation('UPDATE may not change the tenant column tenant_id of projects');
 * ```
 */
export function isolationViolation(message: string): TenantContextError {
  return new TenantContextError('TENANT_ISOLATION_VIOLATION', message);
}

/**
 * The name a table is written as in messages.
 *
 * @example
 * ```ts
 * tableLabel(TableNode.createWithSchema('app', 'projects')); // 'app.projects'
 * ```
 */
export function tableLabel(table: TableNode): string {
  const { schema, identifier } = table.table;
  return schema === undefined ? identifier.name : `${schema.name}.${identifier.name}`;
}
