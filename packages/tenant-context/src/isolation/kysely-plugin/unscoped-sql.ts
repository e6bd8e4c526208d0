import { randomUUID } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import { TenantContextError } from '../../errors.js';

/**
 * The tagged template {@link unscopedSql} returns: Kysely's `sql` tag, marked.
 *
 * @example
 * ```ts
 * const reportSql: UnscopedSqlTag = unscopedSql('usage report filters tenant_id itself');
 * ```
 */
export type UnscopedSqlTag = <T = unknown>(fragments: TemplateStringsArray, ...parameters: unknown[]) => RawBuilder<T>;

// The nonce makes the marker impossible to type by hand or to reach through data: only
// unscopedSql() in this process knows it. It is shared through a global symbol so that the ESM
// and CJS builds (or two copies of the package) recognise each other's markers.
const NONCE_KEY = Symbol.for('@tenantkit/tenant-context/unscoped-sql-nonce@1');
const nonceHolder = globalThis as typeof globalThis & { [NONCE_KEY]?: string };
const nonce: string = (nonceHolder[NONCE_KEY] ??= randomUUID());
const MARKER_PREFIX = `/* tenantkit:unscoped-sql ${nonce} reason: `;
const MARKER_SUFFIX = ' */ ';

// Printable ASCII without `*` and `/`, so the reason can never close (or open) the comment.
const REASON_PATTERN = /^[\x20-\x29\x2b-\x2e\x30-\x7e]{1,200}$/;

/**
 * Kysely's `sql` tag for raw SQL that deliberately names tenant-scoped tables. The tenant
 * isolation plugin refuses raw SQL that mentions a tenant-scoped table
 * (`TENANT_ISOLATION_VIOLATION`); SQL written with this tag passes, because its author has
 * written the tenant filter (or the cross-tenant intent) by hand. Every use is reported to the
 * plugin's `onUnscopedQuery` hook with the reason, and the reason travels with the statement as
 * an SQL comment, so database logs show it too. Grep for `unscopedSql(` to audit them all.
 *
 * The mark covers the whole template, including `sql.table()`, `sql.ref()` and nested `sql`
 * fragments interpolated into it. Query builders interpolated into it stay scoped as usual.
 *
 * @param reason why this SQL may name tenant-scoped tables: 1-200 printable ASCII characters
 *   without `*` or `/` (it becomes part of an SQL comment). Otherwise `VALIDATION_FAILED`.
 * @example
 * ```ts
 * const tenantId = requireTenantId();
 * const { rows } = await unscopedSql('monthly usage, filtered by tenant_id by hand')<{ total: number }>`
 *   select count(*) as total from projects where tenant_id = ${tenantId}
 * `.execute(db);
 * ```
 */
export function unscopedSql(reason: string): UnscopedSqlTag {
  if (typeof reason !== 'string' || reason.trim() === '' || !REASON_PATTERN.test(reason)) {
    throw new TenantContextError(
      'VALIDATION_FAILED',
      'unscopedSql() needs a reason of 1-200 printable ASCII characters without "*" or "/"',
    );
  }
  const marker = `${MARKER_PREFIX}${reason}${MARKER_SUFFIX}`;
  return <T = unknown>(fragments: TemplateStringsArray, ...parameters: unknown[]): RawBuilder<T> => {
    const marked = [`${marker}${fragments[0] ?? ''}`, ...fragments.slice(1)];
    const template = Object.freeze(Object.assign(marked, { raw: Object.freeze([...marked]) })) as unknown as TemplateStringsArray;
    return sql<T>(template, ...parameters);
  };
}

/**
 * The reason of an {@link unscopedSql} marker at the start of a raw node's first fragment, or
 * `undefined` when the fragments carry no marker of this process.
 *
 * @example
 * ```ts
 * readUnscopedSqlReason(rawNode.sqlFragments); // 'usage report' | undefined
 * ```
 */
export function readUnscopedSqlReason(fragments: readonly string[]): string | undefined {
  const first = fragments[0];
  if (first === undefined || !first.startsWith(MARKER_PREFIX)) return undefined;
  const end = first.indexOf(MARKER_SUFFIX, MARKER_PREFIX.length);
  if (end === -1) return undefined;
  const reason = first.slice(MARKER_PREFIX.length, end);
  return REASON_PATTERN.test(reason) ? reason : undefined;
}
