import { TenantContextError } from '../../errors.js';
import { copyQueryValue } from './checked-query-copy.js';
import { assertTenantSafeCollation } from './collation-guard.js';

/**
 * Options that carry expressions or filters the server evaluates: a find projection may compute
 * fields (`$function` included), `let` variables are expressions, `arrayFilters` are filters,
 * and `sort` may hold `$meta`. The rest (session, hint, write concern, ...) is passed on
 * untouched.
 */
const expressionOptions = ['projection', 'let', 'arrayFilters', 'sort'] as const;

/** Driver options that send the command to another database, outside the wrapped collection. */
const redirectingOptions = ['dbName', 'authdb'] as const;

function violation(where: string, problem: string): TenantContextError {
  return new TenantContextError('TENANT_ISOLATION_VIOLATION', `${where} ${problem}`, { details: { path: where } });
}

/**
 * The driver options of one call, checked for what could take the call outside the tenant:
 * - `projection`, `let`, `arrayFilters` and `sort` are replaced by checked copies, so that
 *   server-side JavaScript cannot ride in through them;
 * - a `collation` that could compare two tenant ids as equal is refused (see
 *   {@link assertTenantSafeCollation});
 * - `explain` is refused: a plan's statistics count the documents of every tenant it examined;
 * - `dbName` and `authdb` are refused: they run the command against another database.
 * Returns `options` itself when nothing needed copying.
 *
 * @throws TenantContextError `VALIDATION_FAILED` when options are not an object;
 *   `TENANT_ISOLATION_VIOLATION` for any of the above.
 *
 * @example
 * ```ts
 * checkedOperationOptions({ projection: { total: 1 }, session }, 'find options'); // a copy
 * checkedOperationOptions({ collation: { locale: 'en', strength: 2 } }, 'find options'); // throws
 * ```
 */
export function checkedOperationOptions<Options extends object>(options: Options | undefined, what: string): Options | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TenantContextError('VALIDATION_FAILED', `${what} must be an object`, { details: { path: what } });
  }
  const record = options as Record<string, unknown>;
  for (const name of redirectingOptions) {
    if (record[name] !== undefined) throw violation(`${what}.${name}`, 'runs the command against another database');
  }
  if (record['explain'] !== undefined && record['explain'] !== false) {
    throw violation(`${what}.explain`, "is refused: plan statistics count every tenant's documents the plan examined");
  }
  if (record['collation'] !== undefined) assertTenantSafeCollation(record['collation'], `${what}.collation`);
  let copy: Record<string, unknown> | undefined;
  for (const name of expressionOptions) {
    const value = record[name];
    if (value === undefined) continue;
    copy ??= { ...record };
    copy[name] = copyQueryValue(value, `${what}.${name}`);
  }
  return (copy as Options | undefined) ?? options;
}
