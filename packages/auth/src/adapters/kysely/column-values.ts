import { codedErrorFactory } from '@tenantkit/core';
import { createColumnValues } from '@tenantkit/core/kysely';
import { AuthError } from '../../errors.js';

/**
 * Strict conversions between record fields and column values (see `createColumnValues` in
 * `@tenantkit/core/kysely`), throwing {@link AuthError}.
 *
 * @example
 * ```ts
 * readSafeInteger('1767268800123', 'created_at'); // 1767268800123
 * ```
 */
export const { readSafeInteger, readNullableSafeInteger, readText, readNullableText, readJson, writeJson } = createColumnValues(
  codedErrorFactory(AuthError),
);
