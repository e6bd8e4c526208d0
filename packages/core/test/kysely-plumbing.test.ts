import { describe, expect, it } from 'vitest';
import { TenantkitError, codedErrorFactory } from '@tenantkit/core';
import {
  createColumnValues,
  createDatabaseErrorTranslator,
  insertConflictRetries,
  isDatabaseUnavailable,
  isKysely,
  isMissingSchema,
  isTransactionConflict,
  isUniqueViolation,
  sqliteVersionSupportsStores,
  tablePrefixPattern,
  uniqueViolationTarget,
} from '@tenantkit/core/kysely';

class ExampleError extends TenantkitError<'VALIDATION_FAILED' | 'CONFIGURATION_INVALID' | 'STORE_CONFLICT' | 'STORE_UNAVAILABLE'> {}

const errors = codedErrorFactory(ExampleError);
const driverError = (fields: Record<string, unknown>, message = 'driver') => Object.assign(new Error(message), fields);

describe('driver error classification', () => {
  it('recognises unique violations of every driver', () => {
    for (const fields of [{ code: '23505' }, { code: 'ER_DUP_ENTRY' }, { errno: 1062 }, { code: 'SQLITE_CONSTRAINT_UNIQUE' }, { errcode: 2067 }]) {
      expect(isUniqueViolation(driverError(fields))).toBe(true);
    }
    expect(isUniqueViolation(driverError({ code: '23503' }))).toBe(false);
  });

  it('names the violated key', () => {
    expect(uniqueViolationTarget(driverError({ constraint: 'tenantkit_tenants_slug_key' }))).toBe('tenantkit_tenants_slug_key');
    expect(uniqueViolationTarget(new Error("Duplicate entry 'a' for key 'tenants.slug_key'"))).toBe('slug_key');
    expect(uniqueViolationTarget(new Error('UNIQUE constraint failed: tenants.slug'))).toBe('tenants.slug');
    expect(uniqueViolationTarget('nothing')).toBe('');
  });

  it('tells unavailability, conflicts and a missing schema apart', () => {
    expect(isDatabaseUnavailable(driverError({ code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDatabaseUnavailable(driverError({ code: '08006' }))).toBe(true);
    expect(isDatabaseUnavailable(driverError({ code: 'SQLITE_BUSY' }))).toBe(true);
    expect(isDatabaseUnavailable(driverError({ code: 'SQLITE_BUSY_SNAPSHOT' }))).toBe(false);
    expect(isDatabaseUnavailable(Object.assign(new Error('all failed'), { errors: [driverError({ code: 'ETIMEDOUT' })] }))).toBe(true);
    expect(isTransactionConflict(driverError({ code: '40P01' }))).toBe(true);
    expect(isTransactionConflict(driverError({ code: 'SQLITE_BUSY_SNAPSHOT' }))).toBe(true);
    expect(isMissingSchema(driverError({ code: '42P01' }))).toBe(true);
    expect(isMissingSchema(new Error('table t has no column named x'))).toBe(true);
    expect(isMissingSchema(new Error('syntax error'))).toBe(false);
  });
});

describe('createDatabaseErrorTranslator', () => {
  const { translateDatabaseError, runStoreOperation, migrationFailure } = createDatabaseErrorTranslator({
    errors,
    subject: 'example',
    migrateFunction: 'migrateExampleSchema',
  });

  it('translates into the package class with the driver error as cause', () => {
    const unavailable = driverError({ code: 'ECONNRESET' });
    const translated = translateDatabaseError(unavailable, 'getThing') as ExampleError;
    expect(translated).toBeInstanceOf(ExampleError);
    expect(translated.code).toBe('STORE_UNAVAILABLE');
    expect(translated.message).toBe('The example database cannot be reached');
    expect(translated.cause).toBe(unavailable);
    expect(translated.details).toEqual({ operation: 'getThing' });
    const missing = translateDatabaseError(driverError({ code: 'ER_NO_SUCH_TABLE' }), 'getThing') as ExampleError;
    expect(missing.code).toBe('CONFIGURATION_INVALID');
    expect(missing.message).toContain('run migrateExampleSchema()');
    expect((translateDatabaseError(driverError({ code: '40001' }), 'x') as ExampleError).code).toBe('STORE_CONFLICT');
    expect((translateDatabaseError('not an error', 'x') as ExampleError).code).toBe('STORE_UNAVAILABLE');
    const own = new ExampleError('VALIDATION_FAILED', 'own');
    expect(translateDatabaseError(own, 'x')).toBe(own);
    const bug = new TypeError('bug');
    expect(translateDatabaseError(bug, 'x')).toBe(bug);
  });

  it('runs again after a conflict only as often as allowed, and maps unique violations', async () => {
    let calls = 0;
    const result = await runStoreOperation(
      'insert',
      async () => {
        calls += 1;
        if (calls < 3) throw driverError({ code: 'ER_LOCK_DEADLOCK' });
        return 'done';
      },
      undefined,
      2,
    );
    expect(result).toBe('done');
    await expect(runStoreOperation('insert', async () => Promise.reject(driverError({ code: 'ER_LOCK_DEADLOCK' })))).rejects.toMatchObject({
      code: 'STORE_CONFLICT',
    });
    await expect(
      runStoreOperation('insert', async () => Promise.reject(driverError({ code: '23505' })), () => new ExampleError('STORE_CONFLICT', 'taken')),
    ).rejects.toMatchObject({ message: 'taken' });
    expect(insertConflictRetries({ isTransaction: true })).toBe(0);
    expect(insertConflictRetries({ isTransaction: false })).toBe(2);
  });

  it('names the failed migration', () => {
    const failure = migrationFailure(new Error('boom'), [
      { migrationName: 'a', status: 'Success' },
      { migrationName: 'b', status: 'Error' },
    ]);
    expect(failure.code).toBe('CONFIGURATION_INVALID');
    expect(failure.message).toBe('Example migration b failed');
    expect(failure.details).toEqual({ migrationName: 'b' });
    expect(migrationFailure(driverError({ code: 'ECONNREFUSED' }), undefined).code).toBe('STORE_UNAVAILABLE');
    expect(migrationFailure(new Error('boom'), undefined).message).toBe('Migrating the example schema failed');
  });
});

describe('createColumnValues', () => {
  const { readSafeInteger, readNullableSafeInteger, readText, readNullableText, readJson, writeJson } = createColumnValues(errors);

  it('reads exact values only', () => {
    expect(readSafeInteger('1767268800123', 'created_at')).toBe(1767268800123);
    expect(readSafeInteger(7n, 'n')).toBe(7);
    expect(readNullableSafeInteger(null, 'n')).toBeNull();
    expect(() => readSafeInteger(2n ** 60n, 'n')).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID', details: { column: 'n' } }));
    expect(() => readSafeInteger(1.5, 'n')).toThrow(ExampleError);
    expect(readText(new TextEncoder().encode('acme'), 'slug')).toBe('acme');
    expect(readNullableText(undefined, 'slug')).toBeNull();
    expect(() => readText(new Uint8Array([0xff]), 'slug')).toThrow(ExampleError);
    expect(readJson<{ sso: boolean }>('{"sso":true}', 'features')).toEqual({ sso: true });
    expect(() => readJson('{', 'features')).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('writes JSON or refuses with VALIDATION_FAILED', () => {
    expect(writeJson({ theme: 'dark' }, 'settings')).toBe('{"theme":"dark"}');
    expect(() => writeJson(undefined, 'settings')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => writeJson(1n, 'settings')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('Kysely store arguments', () => {
  it('recognises a Kysely instance by shape and checks prefixes', () => {
    const fn = () => undefined;
    expect(isKysely({ selectFrom: fn, withoutPlugins: fn, transaction: fn, getExecutor: fn })).toBe(true);
    expect(isKysely({ selectFrom: fn })).toBe(false);
    expect(tablePrefixPattern.test('tenantkit_')).toBe(true);
    expect(tablePrefixPattern.test('9x')).toBe(false);
    expect(sqliteVersionSupportsStores('3.35.0')).toBe(true);
    expect(sqliteVersionSupportsStores('3.34.1')).toBe(false);
  });
});
