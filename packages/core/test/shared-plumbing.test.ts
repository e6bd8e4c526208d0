import { describe, expect, it } from 'vitest';
import { TenantkitError, codedErrorFactory, createParseOrThrow, decodeKeysetCursor, encodeKeysetCursor } from '@tenantkit/core';

class ExampleError extends TenantkitError<'VALIDATION_FAILED' | 'CONFIGURATION_INVALID' | 'STORE_CONFLICT' | 'STORE_UNAVAILABLE'> {}

const errors = codedErrorFactory(ExampleError);

// A zod-shaped schema, so core's tests need no validation library either.
const positiveNumber = {
  safeParse: (value: unknown) =>
    typeof value === 'number' && value > 0
      ? ({ success: true, data: value } as const)
      : ({ success: false, error: { issues: [{ path: ['limits', 0], message: 'must be positive' }, { path: [], message: 'bad' }] } } as const),
};

describe('codedErrorFactory', () => {
  it('builds and recognises the package class', () => {
    const cause = new Error('driver');
    const error = errors.create('STORE_UNAVAILABLE', 'down', { cause, details: { operation: 'get' } });
    expect(error).toBeInstanceOf(ExampleError);
    expect(error.code).toBe('STORE_UNAVAILABLE');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ operation: 'get' });
    expect(errors.isOwn(error)).toBe(true);
    expect(errors.isOwn(new TenantkitError('STORE_UNAVAILABLE', 'other class'))).toBe(false);
  });
});

describe('createParseOrThrow', () => {
  const parseOrThrow = createParseOrThrow(errors);

  it('returns the parsed value', () => {
    expect(parseOrThrow(positiveNumber, 3, 'VALIDATION_FAILED', 'limit')).toBe(3);
  });

  it('throws the coded error with each issue path and message, never the value', () => {
    let thrown: unknown;
    try {
      parseOrThrow(positiveNumber, -7, 'CONFIGURATION_INVALID', 'createThing() options');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ExampleError);
    expect((thrown as ExampleError).code).toBe('CONFIGURATION_INVALID');
    expect((thrown as ExampleError).message).toBe('Invalid createThing() options: limits.0: must be positive; bad');
    expect((thrown as ExampleError).details).toEqual({
      issues: [
        { path: 'limits.0', message: 'must be positive' },
        { path: '', message: 'bad' },
      ],
    });
  });
});

describe('keyset cursors', () => {
  it('round-trips a tagged position as unpadded base64url', () => {
    const cursor = encodeKeysetCursor(['t', 1, 'tnt_1']);
    expect(cursor).toBe('WyJ0IiwxLCJ0bnRfMSJd');
    expect(decodeKeysetCursor(cursor)).toEqual(['t', 1, 'tnt_1']);
  });

  it.each([undefined, 42, '', 'WyJ0Il0=', 'Wy!0Il0', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('not json').toString('base64url')])(
    'refuses %j',
    (cursor) => {
      expect(decodeKeysetCursor(cursor)).toBeNull();
    },
  );
});
