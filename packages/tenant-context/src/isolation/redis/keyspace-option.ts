import { z } from 'zod';
import { TenantContextError, type TenantContextErrorCode } from '../../errors.js';
import { createTenantKeyspace, isTenantKeyspace, keyspacePrefixSchema, type TenantKeyspace } from './tenant-keyspace.js';

/**
 * How the Redis isolation helpers are told which keyspace to work in: a
 * {@link TenantKeyspace}, or just its prefix.
 *
 * @example
 * ```ts
 * const byPrefix: KeyspaceSelection = { prefix: 'app' };
 * const byKeyspace: KeyspaceSelection = { keyspace: createTenantKeyspace({ prefix: 'app' }) };
 * ```
 */
export type KeyspaceSelection =
  | { keyspace: TenantKeyspace; prefix?: undefined }
  | { prefix: string; keyspace?: undefined };

/**
 * The schema members of a {@link KeyspaceSelection}, for the helpers' option schemas.
 *
 * @example
 * ```ts
 * const schema = z.strictObject({ ...keyspaceSelectionShape, count: z.number().optional() });
 * ```
 */
export const keyspaceSelectionShape = {
  keyspace: z.custom<TenantKeyspace>(isTenantKeyspace, 'must be a keyspace from createTenantKeyspace()').optional(),
  prefix: keyspacePrefixSchema.optional(),
};

/**
 * The keyspace an options object selects, rebuilt from its prefix: patterns and keys are then
 * always built by {@link createTenantKeyspace}, never by an object that only looks like one.
 *
 * @throws TenantContextError with `code` unless exactly one of `keyspace` and `prefix` is given.
 * @example
 * ```ts
 * const keyspace = resolveKeyspace({ prefix: 'app' }, 'VALIDATION_FAILED', 'purgeTenantKeys()');
 * ```
 */
export function resolveKeyspace(
  selection: { keyspace?: TenantKeyspace | undefined; prefix?: string | undefined },
  code: TenantContextErrorCode,
  what: string,
): TenantKeyspace {
  if ((selection.keyspace === undefined) === (selection.prefix === undefined)) {
    throw new TenantContextError(code, `${what} needs exactly one of keyspace and prefix`);
  }
  return createTenantKeyspace({ prefix: selection.keyspace?.prefix ?? (selection.prefix as string) });
}
