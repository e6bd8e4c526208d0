import { describe, expect, it, vi } from 'vitest';
import {
  TenantkitError,
  createId,
  createManualClock,
  createSecretToken,
  errorHttpStatus,
  httpStatusForCode,
  isTenantkitError,
  toErrorResponse,
} from '@tenantkit/core';

class ExampleError extends TenantkitError<'TENANT_NOT_FOUND' | 'QUOTA_EXCEEDED'> {}

describe('TenantkitError', () => {
  it('carries code, status from the one table, concrete name and cause', () => {
    const cause = new Error('driver said no');
    const error = new ExampleError('TENANT_NOT_FOUND', 'Unknown tenant', { cause, details: { tenantId: 't1' } });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('TENANT_NOT_FOUND');
    expect(error.status).toBe(404);
    expect(error.name).toBe('ExampleError');
    expect(error.cause).toBe(cause);
    expect(error.toResponseBody()).toEqual({
      error: { code: 'TENANT_NOT_FOUND', message: 'Unknown tenant', details: { tenantId: 't1' } },
    });
  });

  it('omits details and cause when not given', () => {
    const error = new TenantkitError('QUOTA_EXCEEDED', 'Over quota');
    expect('cause' in error).toBe(false);
    expect(error.toResponseBody()).toEqual({ error: { code: 'QUOTA_EXCEEDED', message: 'Over quota' } });
  });

  it('maps every code to an HTTP status in the 4xx/5xx range', () => {
    for (const [code, status] of Object.entries(errorHttpStatus)) {
      expect(httpStatusForCode(code), code).toBe(status);
      expect(status >= 400 && status <= 599, code).toBe(true);
    }
    expect(httpStatusForCode('NOT_A_CODE')).toBe(500);
    expect(httpStatusForCode('toString')).toBe(500);
  });

  it('isTenantkitError narrows by shape and optional code', () => {
    const error = new ExampleError('QUOTA_EXCEEDED', 'x');
    expect(isTenantkitError(error)).toBe(true);
    expect(isTenantkitError(error, 'QUOTA_EXCEEDED')).toBe(true);
    expect(isTenantkitError(error, 'TENANT_NOT_FOUND')).toBe(false);
    expect(isTenantkitError(new Error('plain'))).toBe(false);
    expect(isTenantkitError({ code: 'QUOTA_EXCEEDED', status: 403 })).toBe(false);
    // Another library's error with the same shape (an HTTP client's, say) is not ours.
    expect(isTenantkitError(Object.assign(new Error('upstream said 403'), { code: 'QUOTA_EXCEEDED', status: 403 }))).toBe(false);
    expect(toErrorResponse(Object.assign(new Error('upstream'), { code: 'TENANT_NOT_FOUND', status: 404 })).status).toBe(500);
  });

  it('recognises an error thrown by another copy of the package through its brand', async () => {
    vi.resetModules();
    const copy = await import('../src/tenantkit-error.js');
    expect(copy.TenantkitError).not.toBe(TenantkitError);
    const foreign = new copy.TenantkitError('TENANT_SUSPENDED', 'suspended');
    expect(foreign instanceof TenantkitError).toBe(false);
    expect(isTenantkitError(foreign, 'TENANT_SUSPENDED')).toBe(true);
    expect(toErrorResponse(foreign).status).toBe(403);
  });

  it('toErrorResponse hides unknown errors behind a generic 500', () => {
    expect(toErrorResponse(new Error('connection string postgres://secret'))).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } },
    });
    expect(toErrorResponse(new ExampleError('TENANT_NOT_FOUND', 'gone')).status).toBe(404);
  });
});

describe('clock and ids', () => {
  it('manual clock moves only when told, and refuses bad input', () => {
    const clock = createManualClock(1000);
    expect(clock.now()).toBe(1000);
    clock.advance(500);
    expect(clock.now()).toBe(1500);
    clock.set(42);
    expect(clock.now()).toBe(42);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.set(Number.NaN)).toThrow(RangeError);
  });

  it('createId makes 20 unbiased base36 characters after the prefix, all distinct', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => createId('tnt')));
    expect(ids.size).toBe(2000);
    for (const id of ids) expect(id).toMatch(/^tnt_[0-9a-z]{20}$/);
    expect(createId()).toMatch(/^[0-9a-z]{20}$/);
  });

  it('createSecretToken encodes the requested entropy and refuses weak sizes', () => {
    expect(createSecretToken(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(() => createSecretToken(8)).toThrow(RangeError);
    expect(() => createSecretToken(1.5)).toThrow(RangeError);
  });
});
