import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { type Clock, systemClock } from '@tenantkit/core';
import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { assertTenantId, isValidTenantId } from '../identifiers.js';
import type { JsonValue } from '../tenant.js';
import { parseOrThrow } from '../validation.js';
import { currentScope, currentTenantId, requireTenantId, runWithTenant } from './tenant-scope.js';

/**
 * A job or event payload sealed to one tenant. It is plain JSON, so it travels through any
 * queue or bus; the signature binds every field, so neither the tenant, the type, the time nor
 * the payload can be changed without {@link TenantEnvelopeSigner.open} refusing it.
 *
 * @example
 * ```ts
 * const envelope: TenantEnvelope = signer.seal('invoice.send', { invoiceId: 'inv_1' });
 * await queue.add('invoice.send', envelope); // a worker calls signer.open(envelope, ...)
 * ```
 */
export interface TenantEnvelope {
  /** Format version. */
  readonly v: 1;
  /** Id of the key that signed it. */
  readonly kid: string;
  /** The tenant the payload belongs to. */
  readonly tid: string;
  /** The job or event type, e.g. `'invoice.send'`; a payload sealed as one type never opens as another. */
  readonly typ: string;
  /** Issue time in epoch milliseconds. */
  readonly iat: number;
  /** The payload as a JSON string: the signature covers these exact bytes. */
  readonly body: string;
  /** base64url HMAC-SHA256 over a domain-separated encoding of all other fields. */
  readonly sig: string;
}

/**
 * What {@link TenantEnvelopeSigner.open} returns once an envelope is verified.
 *
 * @example
 * ```ts
 * const { tenantId, payload } = signer.open(job.data, { type: 'invoice.send' });
 * ```
 */
export interface OpenedTenantEnvelope {
  tenantId: string;
  type: string;
  /** The payload, parsed from the verified body. Validate its shape with your own schema. */
  payload: JsonValue;
  /** Issue time in epoch milliseconds. */
  issuedAt: number;
}

/**
 * What the opener expects of an envelope.
 *
 * @example
 * ```ts
 * signer.open(message, { type: 'usage.recorded', tenantId: partitionTenantId });
 * ```
 */
export interface TenantEnvelopeExpectation {
  /** The only type accepted. */
  type: string;
  /**
   * The only tenant accepted, e.g. the tenant a queue partition belongs to. Inside a tenant
   * scope the current tenant is required as well, whether or not this is given.
   */
  tenantId?: string;
}

/**
 * Options of {@link TenantEnvelopeSigner.seal}.
 *
 * @example
 * ```ts
 * runAsSystem({ reason: 'fan-out' }, () => signer.seal('report.build', {}, { tenantId: 'tnt_acme' }));
 * ```
 */
export interface SealTenantEnvelopeOptions {
  /**
   * The tenant to seal for. Default: the current tenant. Another tenant may only be named from
   * the system scope; inside a tenant scope it must equal the current tenant.
   */
  tenantId?: string;
}

/**
 * Options of {@link createTenantEnvelopeSigner}.
 *
 * @example
 * ```ts
 * createTenantEnvelopeSigner({
 *   keys: { '2026-01': process.env.ENVELOPE_KEY_2026_01!, '2025-07': process.env.ENVELOPE_KEY_2025_07! },
 *   activeKeyId: '2026-01',
 * });
 * ```
 */
export interface TenantEnvelopeSignerOptions {
  /**
   * Signing secrets by key id, each at least 32 bytes (strings count as UTF-8). Every key listed
   * opens envelopes; keep a retired key here until its last envelope has expired.
   */
  keys: Readonly<Record<string, string | Uint8Array>>;
  /** The key new envelopes are sealed with; must be one of `keys`. */
  activeKeyId: string;
  /** How long an envelope stays valid after it was sealed. Default: 24 hours. */
  maxAgeMs?: number;
  /** How far in the future an issue time may lie (clock drift between hosts). Default: 30 seconds. */
  maxClockSkewMs?: number;
  /** Largest payload, in UTF-8 bytes of its JSON. Default: 256 KiB. */
  maxBodyBytes?: number;
  clock?: Clock;
}

/**
 * Seals job and event payloads to a tenant and opens them again in the worker, so a job cannot
 * be replayed into another tenant, retyped, altered or kept beyond its age limit.
 *
 * It does not stop the same envelope from being delivered twice to the same tenant: give jobs
 * an id in the payload and make their handlers idempotent.
 *
 * @example
 * ```ts
 * // producer, inside a request's tenant scope
 * await queue.add('invoice.send', signer.seal('invoice.send', { invoiceId }));
 * // worker, outside any scope
 * worker.process('invoice.send', (job) =>
 *   signer.runInEnvelopeScope(job.data, { type: 'invoice.send' }, ({ payload }) => sendInvoice(payload)),
 * );
 * ```
 */
export interface TenantEnvelopeSigner {
  /**
   * The key id new envelopes are sealed with.
   *
   * @example
   * ```ts
   * log.info({ kid: signer.activeKeyId }, 'sealing jobs');
   * ```
   */
  readonly activeKeyId: string;
  /**
   * Seals `payload` for the current tenant (or `options.tenantId`, see
   * {@link SealTenantEnvelopeOptions}).
   *
   * @throws `TENANT_SCOPE_REQUIRED` outside a tenant scope without an explicit tenant, or with one
   *   outside the system scope; `TENANT_SCOPE_CONFLICT` when naming another tenant inside a tenant
   *   scope; `TENANT_IDENTIFIER_INVALID`; `VALIDATION_FAILED` for a bad type or a payload that is
   *   not plain JSON or is too large.
   * @example
   * ```ts
   * const envelope = signer.seal('invoice.send', { invoiceId: 'inv_1' });
   * ```
   */
  seal(type: string, payload: JsonValue, options?: SealTenantEnvelopeOptions): TenantEnvelope;
  /**
   * Verifies an untrusted value as an envelope of the expected type (and tenant) and returns its
   * contents. Pass the parsed object, not a JSON string.
   *
   * @throws `TENANT_ENVELOPE_INVALID` for anything wrong with the envelope (`details.reason` says
   *   what: `malformed`, `unknown-key`, `bad-signature`, `type-mismatch`, `tenant-mismatch`,
   *   `expired`, `issued-in-future`); `VALIDATION_FAILED` for a bad `expect`.
   * @example
   * ```ts
   * const { tenantId, payload } = signer.open(JSON.parse(message), { type: 'usage.recorded' });
   * ```
   */
  open(envelope: unknown, expect: TenantEnvelopeExpectation): OpenedTenantEnvelope;
  /**
   * Opens the envelope, then runs `fn` inside the envelope tenant's scope: how a worker restores
   * the scope the job was sealed in. Verification errors are thrown synchronously, before `fn`.
   *
   * @example
   * ```ts
   * await signer.runInEnvelopeScope(job.data, { type: 'invoice.send' }, async ({ payload }) => {
   *   await invoices.send(payload); // tenant-scoped stores see the envelope's tenant
   * });
   * ```
   */
  runInEnvelopeScope<R>(
    envelope: unknown,
    expect: TenantEnvelopeExpectation,
    fn: (opened: OpenedTenantEnvelope) => R,
  ): R;
}

/**
 * Why {@link TenantEnvelopeSigner.open} refused an envelope; found in `details.reason` of the
 * `TENANT_ENVELOPE_INVALID` error, for logs and metrics. It never says anything about a key.
 *
 * @example
 * ```ts
 * if (isTenantkitError(err, 'TENANT_ENVELOPE_INVALID') && err.details?.reason === 'expired') dropJob(job);
 * ```
 */
export type TenantEnvelopeRejectionReason =
  | 'malformed'
  | 'unknown-key'
  | 'bad-signature'
  | 'type-mismatch'
  | 'tenant-mismatch'
  | 'expired'
  | 'issued-in-future';

const MIN_SECRET_BYTES = 32;
const DAY_MS = 24 * 60 * 60 * 1000;
// 32 bytes of HMAC-SHA256 are exactly 43 unpadded base64url characters.
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{43}$/;
// Separates this MAC from any other use of the same secret; bump with the format version.
const DOMAIN_LABEL = 'tenantkit/tenant-envelope/v1';

const keyIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be 1-64 characters of A-Z a-z 0-9 . _ : -');
const envelopeTypeSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ : / -');
const secretSchema = z
  .union([z.string(), z.instanceof(Uint8Array)])
  .refine(
    (secret) => (typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret.byteLength) >= MIN_SECRET_BYTES,
    `must be at least ${MIN_SECRET_BYTES} bytes`,
  );

const optionsSchema = z
  .object({
    keys: z
      .record(keyIdSchema, secretSchema)
      .refine((keys) => Object.keys(keys).length > 0, 'needs at least one key'),
    activeKeyId: keyIdSchema,
    maxAgeMs: z.number().int().min(1000).max(365 * DAY_MS).optional(),
    maxClockSkewMs: z.number().int().min(0).max(15 * 60 * 1000).optional(),
    maxBodyBytes: z.number().int().min(64).max(16 * 1024 * 1024).optional(),
    clock: z.custom<Clock>((value) => typeof (value as Clock | undefined)?.now === 'function', 'must have now()').optional(),
  })
  .refine((options) => Object.hasOwn(options.keys, options.activeKeyId), {
    message: 'must name one of keys',
    path: ['activeKeyId'],
  });

const expectationSchema = z.object({
  type: envelopeTypeSchema,
  tenantId: z.string().refine(isValidTenantId, 'must be a valid tenant id').optional(),
});

/**
 * Creates a {@link TenantEnvelopeSigner}. Options are validated here, so a short secret or a
 * missing active key fails at startup, not on the first job.
 *
 * @throws `CONFIGURATION_INVALID` for bad options (messages never contain secrets).
 * @example
 * ```ts
 * const signer = createTenantEnvelopeSigner({
 *   keys: { k2026: process.env.TENANT_ENVELOPE_SECRET! }, // >= 32 bytes, e.g. createSecretToken(32)
 *   activeKeyId: 'k2026',
 *   maxAgeMs: 6 * 60 * 60 * 1000,
 * });
 * ```
 */
export function createTenantEnvelopeSigner(options: TenantEnvelopeSignerOptions): TenantEnvelopeSigner {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'tenant envelope signer options');
  // A Map, so a kid such as "__proto__" or "constructor" can never resolve to something inherited;
  // KeyObjects copy the secret, so later changes to the caller's buffer change nothing.
  const keys = new Map<string, KeyObject>();
  for (const [kid, secret] of Object.entries(parsed.keys)) {
    keys.set(kid, createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)));
  }
  const activeKeyId = parsed.activeKeyId;
  const maxAgeMs = parsed.maxAgeMs ?? DAY_MS;
  const maxClockSkewMs = parsed.maxClockSkewMs ?? 30_000;
  const maxBodyBytes = parsed.maxBodyBytes ?? 256 * 1024;
  const clock = parsed.clock ?? systemClock;

  const envelopeSchema = z.strictObject({
    v: z.literal(1),
    kid: z.string().max(64),
    tid: z.string().refine(isValidTenantId),
    typ: envelopeTypeSchema,
    iat: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    // Counted in UTF-16 units first (aborting) so an oversized body is refused before it is
    // measured in bytes or hashed.
    body: z
      .string()
      .min(1, { abort: true })
      .max(maxBodyBytes, { abort: true })
      .refine((body) => Buffer.byteLength(body, 'utf8') <= maxBodyBytes),
    sig: z.string().regex(SIGNATURE_PATTERN),
  });

  function sign(key: KeyObject, fields: Omit<TenantEnvelope, 'sig'>): string {
    return createHmac('sha256', key).update(signingInput(fields)).digest('base64url');
  }

  function seal(type: string, payload: JsonValue, sealOptions?: SealTenantEnvelopeOptions): TenantEnvelope {
    const typ = parseOrThrow(envelopeTypeSchema, type, 'VALIDATION_FAILED', 'envelope type');
    const tid = tenantToSealFor(sealOptions);
    assertJsonValue(payload);
    const body = JSON.stringify(payload);
    if (Buffer.byteLength(body, 'utf8') > maxBodyBytes) {
      throw new TenantContextError('VALIDATION_FAILED', `The envelope payload is larger than ${maxBodyBytes} bytes of JSON`);
    }
    const key = keys.get(activeKeyId);
    if (key === undefined) {
      // Unreachable: the options schema guarantees the active key exists.
      throw new TenantContextError('CONFIGURATION_INVALID', 'The active envelope key is missing');
    }
    const iat = Math.floor(clock.now());
    if (!Number.isSafeInteger(iat) || iat < 0) {
      // An envelope with such a time could never be opened; say so where the clock is at fault.
      throw new TenantContextError('CONFIGURATION_INVALID', 'The clock returned an invalid time');
    }
    const fields = { v: 1 as const, kid: activeKeyId, tid, typ, iat, body };
    return Object.freeze({ ...fields, sig: sign(key, fields) });
  }

  function open(envelope: unknown, expect: TenantEnvelopeExpectation): OpenedTenantEnvelope {
    const expected = parseOrThrow(expectationSchema, expect, 'VALIDATION_FAILED', 'envelope expectation');
    let parsedEnvelope: z.output<typeof envelopeSchema>;
    try {
      const result = envelopeSchema.safeParse(envelope);
      if (!result.success) refuseEnvelope('malformed');
      parsedEnvelope = result.data;
    } catch (error) {
      if (error instanceof TenantContextError) throw error;
      // Proxies or throwing getters: still an invalid envelope, never a TypeError.
      refuseEnvelope('malformed');
    }
    const { kid, tid, typ, iat, body, sig } = parsedEnvelope;

    // Authenticate before interpreting any field.
    const key = keys.get(kid);
    if (key === undefined) refuseEnvelope('unknown-key');
    const expectedSig = Buffer.from(sign(key, { v: 1, kid, tid, typ, iat, body }), 'ascii');
    const givenSig = Buffer.from(sig, 'ascii');
    // Comparing the canonical encodings also refuses the non-canonical spellings of the last
    // base64url character that would decode to the same bytes.
    if (givenSig.length !== expectedSig.length || !timingSafeEqual(givenSig, expectedSig)) refuseEnvelope('bad-signature');

    if (typ !== expected.type) refuseEnvelope('type-mismatch');
    const scopeTenantId = currentTenantId();
    if ((expected.tenantId !== undefined && tid !== expected.tenantId) || (scopeTenantId !== undefined && tid !== scopeTenantId)) {
      refuseEnvelope('tenant-mismatch');
    }
    const now = clock.now();
    if (iat - now > maxClockSkewMs) refuseEnvelope('issued-in-future');
    if (now - iat > maxAgeMs) refuseEnvelope('expired');

    let payload: JsonValue;
    try {
      payload = JSON.parse(body) as JsonValue;
    } catch {
      // Only a holder of the key could have signed a body that is not JSON.
      refuseEnvelope('malformed');
    }
    return { tenantId: tid, type: typ, payload, issuedAt: iat };
  }

  return Object.freeze({
    activeKeyId,
    seal,
    open,
    runInEnvelopeScope<R>(envelope: unknown, expect: TenantEnvelopeExpectation, fn: (opened: OpenedTenantEnvelope) => R): R {
      const opened = open(envelope, expect);
      return runWithTenant(opened.tenantId, () => fn(opened));
    },
  });
}

/** The tenant `seal()` may seal for, enforcing that only the system scope names another tenant. */
function tenantToSealFor(options: SealTenantEnvelopeOptions | undefined): string {
  const explicit = options?.tenantId;
  if (explicit === undefined) return requireTenantId();
  assertTenantId(explicit);
  const scope = currentScope();
  if (scope?.kind === 'system') return explicit;
  if (scope?.kind === 'tenant') {
    if (scope.tenantId === explicit) return explicit;
    throw new TenantContextError(
      'TENANT_SCOPE_CONFLICT',
      'Cannot seal an envelope for another tenant inside a tenant scope; use runAsSystem for cross-tenant work',
    );
  }
  throw new TenantContextError(
    'TENANT_SCOPE_REQUIRED',
    'Sealing an envelope for a named tenant needs that tenant\'s scope or the system scope',
  );
}

/**
 * The bytes the signature covers: a fixed label, then every field as a 4-byte big-endian byte
 * length followed by its UTF-8 bytes, in a fixed order. No field can bleed into its neighbour,
 * whatever characters it holds.
 */
function signingInput(fields: Omit<TenantEnvelope, 'sig'>): Buffer {
  const parts = [DOMAIN_LABEL, String(fields.v), fields.kid, fields.tid, fields.typ, String(fields.iat), fields.body];
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}

function refuseEnvelope(reason: TenantEnvelopeRejectionReason): never {
  throw new TenantContextError('TENANT_ENVELOPE_INVALID', `Invalid tenant envelope (${reason})`, {
    details: { reason },
  });
}

const MAX_PAYLOAD_DEPTH = 64;

/**
 * Throws `VALIDATION_FAILED` unless `value` survives a JSON round trip unchanged: plain objects,
 * arrays, strings, finite numbers, booleans and null. Dates, Maps, `undefined`, `toJSON` and
 * cycles would be silently changed or crash `JSON.stringify`.
 */
function assertJsonValue(value: unknown, depth = 0): asserts value is JsonValue {
  const fail = (what: string): never => {
    throw new TenantContextError('VALIDATION_FAILED', `The envelope payload must be plain JSON: ${what}`);
  };
  if (depth > MAX_PAYLOAD_DEPTH) fail(`nested deeper than ${MAX_PAYLOAD_DEPTH} levels (or cyclic)`);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('numbers must be finite');
    return;
  }
  if (typeof value !== 'object') fail(`${typeof value} is not JSON`);
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      // Holes in sparse arrays read as undefined and fail here, as they would turn into null.
      assertJsonValue(value[index], depth + 1);
    }
    return;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) fail('only plain objects and arrays are allowed');
  for (const key of Object.keys(value as object)) {
    assertJsonValue((value as Record<string, unknown>)[key], depth + 1);
  }
}
