import { describe, expect, it } from 'vitest';
import { TenantkitError, codedErrorFactory } from '@tenantkit/core';
import {
  bsonReadOptions,
  createMongoErrorTranslator,
  duplicateKeyFields,
  hasMongoErrorLabel,
  isDuplicateKeyError,
  isDuplicateKeyErrorIn,
  isMongoUnavailableError,
} from '@tenantkit/core/mongodb';

class ExampleError extends TenantkitError<'VALIDATION_FAILED' | 'CONFIGURATION_INVALID' | 'STORE_CONFLICT' | 'STORE_UNAVAILABLE'> {}

const mongoError = (fields: Record<string, unknown>, message = 'driver') => Object.assign(new Error(message), fields);

describe('MongoDB error classification', () => {
  it('recognises duplicates, their keys and their collection', () => {
    const duplicate = mongoError({ code: 11000, keyPattern: { tenantId: 1, slug: 1 } }, 'E11000 duplicate key error collection: app.tenantkit_groups index: x');
    expect(isDuplicateKeyError(duplicate)).toBe(true);
    expect(duplicateKeyFields(duplicate)).toEqual(['tenantId', 'slug']);
    expect(isDuplicateKeyErrorIn(duplicate, 'tenantkit_groups')).toBe(true);
    expect(isDuplicateKeyErrorIn(duplicate, 'tenantkit_roles')).toBe(false);
    expect(isDuplicateKeyError({ code: 11000 })).toBe(false);
  });

  it('recognises unavailability by name, code and label', () => {
    expect(isMongoUnavailableError(mongoError({ name: 'MongoServerSelectionError' }))).toBe(true);
    expect(isMongoUnavailableError(mongoError({ code: 91 }))).toBe(true);
    expect(isMongoUnavailableError(mongoError({ errorLabels: ['RetryableWriteError'] }))).toBe(true);
    expect(isMongoUnavailableError(mongoError({ errorLabels: ['TransientTransactionError'] }))).toBe(false);
    expect(hasMongoErrorLabel(mongoError({ errorLabels: ['TransientTransactionError'] }), 'TransientTransactionError')).toBe(true);
  });

  it('reads with plain JS values', () => {
    expect(bsonReadOptions).toMatchObject({ promoteValues: true, promoteLongs: true, useBigInt64: false });
    expect(Object.isFrozen(bsonReadOptions)).toBe(true);
  });
});

describe('createMongoErrorTranslator', () => {
  const { translateMongoError, runMongoOperation } = createMongoErrorTranslator({ errors: codedErrorFactory(ExampleError) });

  it('translates into the package class, keeping the cause', async () => {
    const down = mongoError({ name: 'MongoNetworkError' });
    const translated = translateMongoError(down) as ExampleError;
    expect(translated).toBeInstanceOf(ExampleError);
    expect(translated.code).toBe('STORE_UNAVAILABLE');
    expect(translated.cause).toBe(down);
    expect((translateMongoError('x') as ExampleError).code).toBe('STORE_UNAVAILABLE');
    const bug = new TypeError('bug');
    expect(translateMongoError(bug)).toBe(bug);
    const duplicate = mongoError({ code: 11000, keyPattern: { slug: 1 } });
    expect(translateMongoError(duplicate)).toBe(duplicate);
    await expect(
      runMongoOperation(async () => Promise.reject(duplicate), (fields) => new ExampleError('STORE_CONFLICT', `taken: ${fields?.join()}`)),
    ).rejects.toMatchObject({ code: 'STORE_CONFLICT', message: 'taken: slug' });
  });

  it('takes a wider notion of unavailability when asked', () => {
    const { translateMongoError: translateWide } = createMongoErrorTranslator({
      errors: codedErrorFactory(ExampleError),
      isUnavailable: (error) => isMongoUnavailableError(error) || hasMongoErrorLabel(error, 'TransientTransactionError'),
    });
    expect((translateWide(mongoError({ errorLabels: ['TransientTransactionError'] })) as ExampleError).code).toBe('STORE_UNAVAILABLE');
  });
});
