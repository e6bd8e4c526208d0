import { TenantkitError, type ErrorResponseBody } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import {
  rateLimitErrorForDecision,
  rateLimitResponseForDecision,
  rateLimitResponseForError,
} from '../../src/http/rate-limit-response.js';
import { decision, outcome } from './decision-fixtures.js';

/** The shape core's bindings send: `{ error: { code, message, details? } }` and nothing else. */
function expectErrorBody(body: ErrorResponseBody): void {
  expect(Object.keys(body)).toEqual(['error']);
  for (const key of Object.keys(body.error)) expect(['code', 'message', 'details']).toContain(key);
  expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  // Survives JSON as it is (no class instances, no undefined fields).
  expect(JSON.parse(JSON.stringify(body))).toEqual(body);
}

describe('rateLimitResponseForDecision', () => {
  it('answers a refusal with 429 RATE_LIMITED, Retry-After and the deciding policy', () => {
    const ip = outcome({ policy: 'ip', allowed: false, remaining: 0, limit: 300, resetMs: 29_100 });
    const refusal = rateLimitResponseForDecision(decision({ outcomes: [outcome({ policy: 'tenant' }), ip], deciding: ip }));
    expect(refusal).toBeDefined();
    expect(refusal!.status).toBe(429);
    expect(refusal!.headers).toEqual({ 'Retry-After': '30' });
    expect(refusal!.body).toEqual({
      error: { code: 'RATE_LIMITED', message: 'Too many requests', details: { policy: 'ip', retryAfterSeconds: 30, limit: 300 } },
    });
    expectErrorBody(refusal!.body);
  });

  it('answers a deny-listed client with 403 CLIENT_DENIED and no wait', () => {
    const refusal = rateLimitResponseForDecision(
      decision({ outcomes: [], allowed: false, reason: 'deny-listed', deciding: undefined, retryAfterMs: 0 }),
    );
    expect(refusal!.status).toBe(403);
    expect(refusal!.headers).toEqual({});
    expect(refusal!.body).toEqual({ error: { code: 'CLIENT_DENIED', message: 'Access denied' } });
    expectErrorBody(refusal!.body);
  });

  it('has nothing to say about admitted decisions (shadow refusals and allow lists included)', () => {
    expect(rateLimitResponseForDecision(decision({ outcomes: [outcome({ policy: 'a' })] }))).toBeUndefined();
    expect(
      rateLimitResponseForDecision(
        decision({
          outcomes: [outcome({ policy: 's', allowed: false, shadow: true })],
          allowed: true,
          reason: 'shadow-limited',
        }),
      ),
    ).toBeUndefined();
    expect(rateLimitResponseForDecision(decision({ outcomes: [], allowed: true, reason: 'allow-listed', deciding: undefined }))).toBeUndefined();
  });

  it('never tells a client to retry after 0 seconds', () => {
    const ip = outcome({ policy: 'ip', allowed: false, remaining: 0, resetMs: 0 });
    const refusal = rateLimitResponseForDecision(decision({ outcomes: [ip], retryAfterMs: 0 }));
    expect(refusal!.headers['Retry-After']).toBe('1');
    expect(refusal!.body.error.details).toMatchObject({ retryAfterSeconds: 1 });
  });
});

describe('rateLimitErrorForDecision', () => {
  it('builds the coded errors enforce throws', () => {
    const ip = outcome({ policy: 'ip', allowed: false, remaining: 0, limit: 5, resetMs: 900_000 });
    const limited = rateLimitErrorForDecision(decision({ outcomes: [ip] }));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited!.code).toBe('RATE_LIMITED');
    expect(limited!.status).toBe(429);
    expect(limited!.details).toEqual({ policy: 'ip', retryAfterSeconds: 900, limit: 5 });

    const denied = rateLimitErrorForDecision(decision({ outcomes: [], allowed: false, reason: 'deny-listed', deciding: undefined }));
    expect(denied!.code).toBe('CLIENT_DENIED');
    expect(denied!.status).toBe(403);
    expect(rateLimitErrorForDecision(decision({ outcomes: [outcome({ policy: 'a' })] }))).toBeUndefined();
  });
});

describe('rateLimitResponseForError', () => {
  it('turns RATE_LIMITED into a 429 with Retry-After from its details', () => {
    const error = new RateLimitError('RATE_LIMITED', 'internal wording', {
      details: { policy: 'login', retryAfterSeconds: 12.2, limit: 5, key: 'tk:rl:login:{alice@example.com}' },
    });
    const refusal = rateLimitResponseForError(error);
    expect(refusal.status).toBe(429);
    expect(refusal.headers).toEqual({ 'Retry-After': '13' });
    // Only the documented fields: a store key in the details never reaches the client.
    expect(refusal.body).toEqual({
      error: { code: 'RATE_LIMITED', message: 'Too many requests', details: { policy: 'login', retryAfterSeconds: 13, limit: 5 } },
    });
    expectErrorBody(refusal.body);
  });

  it('still gives a complete 429 for a RATE_LIMITED error without details', () => {
    const refusal = rateLimitResponseForError(new RateLimitError('RATE_LIMITED', 'x'));
    expect(refusal.status).toBe(429);
    expect(refusal.headers['Retry-After']).toBe('1');
    expect(refusal.body.error.details).toEqual({ retryAfterSeconds: 1 });
  });

  it('answers a store outage with 503 STORE_UNAVAILABLE and a fixed message, never a 429', () => {
    const outage = new RateLimitError('STORE_UNAVAILABLE', 'connect ECONNREFUSED 10.0.0.5:6379', { cause: new Error('redis down') });
    const refusal = rateLimitResponseForError(outage);
    expect(refusal.status).toBe(503);
    expect(refusal.body.error.code).toBe('STORE_UNAVAILABLE');
    expect(JSON.stringify(refusal.body)).not.toContain('10.0.0.5');
    expect(refusal.headers['Retry-After']).toBeUndefined();
    expectErrorBody(refusal.body);
  });

  it('answers CLIENT_DENIED with 403', () => {
    const refusal = rateLimitResponseForError(new RateLimitError('CLIENT_DENIED', 'ip 198.51.100.7 is on the deny list'));
    expect(refusal.status).toBe(403);
    expect(refusal.body).toEqual({ error: { code: 'CLIENT_DENIED', message: 'Access denied' } });
  });

  it('passes other tenantkit errors through with their own status and hides unknown ones behind a 500', () => {
    const scope = rateLimitResponseForError(new TenantkitError('TENANT_SCOPE_REQUIRED', 'No tenant in scope'));
    expect(scope.status).toBe(500);
    expect(scope.body.error.code).toBe('TENANT_SCOPE_REQUIRED');

    const invalid = rateLimitResponseForError(new RateLimitError('RATE_LIMIT_KEY_INVALID', 'The client IP must be an address'));
    expect(invalid.status).toBe(400);

    // A raw driver error or a rate-limiter-flexible result object leaking out is not a 429.
    for (const thrown of [new Error('ECONNRESET'), { msBeforeNext: 1000, remainingPoints: 0 }, 'oops', undefined]) {
      const response = rateLimitResponseForError(thrown);
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
    }
  });
});
