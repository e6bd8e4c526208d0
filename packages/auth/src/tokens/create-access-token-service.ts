import { type Clock, createId, systemClock } from '@tenantkit/core';
import { currentTenantId } from '@tenantkit/tenant-context';
import { CompactSign, type CompactJWSHeaderParameters, type CompactVerifyResult, compactVerify } from 'jose';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { SigningKeySet } from '../keys/signing-key-set.js';
import type { RevocationService } from '../revocation/revocation-service.js';
import type { AccessTokenClaims, AccessTokenService } from './access-token-service.js';
import { accessTokenRejection } from './access-token-rejection.js';
import { readAccessTokenClaims } from './read-access-token-claims.js';
import { type VerifiedTokenEntry, createVerifiedTokenCache } from './verified-token-cache.js';
import { createWebCryptoKeyCache } from './web-crypto-key-cache.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

/**
 * A tenant's own issuer and audience (either may be left to the service's).
 *
 * @example
 * ```ts
 * const resolveIssuer = (tenantId: string): TenantTokenIssuer | undefined => ({ audience: `https://${tenantId}.api.example.com` });
 * ```
 */
export interface TenantTokenIssuer {
  readonly issuer?: string;
  readonly audience?: string;
}

/**
 * Options of {@link createAccessTokenService}, validated when it is called
 * (`CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const options: AccessTokenServiceOptions = {
 *   keys,
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   revocation,
 *   ttlSeconds: 600,
 * };
 * ```
 */
export interface AccessTokenServiceOptions {
  readonly keys: SigningKeySet;
  /** Default `iss` of issued tokens and the `iss` verify requires. */
  readonly issuer: string;
  /** Default `aud` of issued tokens and the `aud` verify requires. */
  readonly audience: string;
  /** Lifetime of issued tokens, 1-86 400 seconds. Default 900. */
  readonly ttlSeconds?: number;
  /** Leeway on `exp`, `nbf` and `iat` for clock skew between machines, 0-300 seconds. Default 30. */
  readonly clockToleranceSeconds?: number;
  readonly revocation: RevocationService;
  /**
   * A tenant's own issuer and/or audience (`undefined`: the defaults). Used when issuing for a
   * tenant and when verifying a token of that tenant. Must be deterministic: a verified token is
   * cached with the answer it got.
   */
  readonly tenantIssuer?: (tenantId: string) => TenantTokenIssuer | undefined;
  /** The verified-token cache: `false` turns it off. Default `{ maxEntries: 10_000 }`. */
  readonly cache?: { readonly maxEntries?: number } | false;
  readonly clock?: Clock;
}


const hasMethods = (value: unknown, names: readonly string[]) =>
  typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

const issuerSchema = z.string().min(1).max(2048);

const optionsSchema = z.strictObject({
  keys: z.custom<SigningKeySet>(
    (value) => hasMethods(value, ['rotate', 'retire', 'jwks', 'list', 'verificationKey', 'signingKey', 'onRetired']),
    'must be a SigningKeySet',
  ),
  issuer: issuerSchema,
  audience: issuerSchema,
  ttlSeconds: z.int().min(1).max(86_400).optional(),
  clockToleranceSeconds: z.int().min(0).max(300).optional(),
  revocation: z.custom<RevocationService>(
    (value) => hasMethods(value, ['revokeToken', 'isRevoked', 'onEvent']),
    'must be a RevocationService',
  ),
  tenantIssuer: z.custom<AccessTokenServiceOptions['tenantIssuer']>((value) => typeof value === 'function', 'must be a function').optional(),
  cache: z.union([z.literal(false), z.strictObject({ maxEntries: z.int().min(1).max(10_000_000).optional() })]).optional(),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
});

/** What `issuerSchema` accepts, or `undefined`. */
const isOptionalIssuer = (value: unknown): value is string | undefined =>
  value === undefined || (typeof value === 'string' && value.length >= 1 && value.length <= 2048);

/**
 * A `tenantIssuer` answer, hand-checked rather than by a schema: it runs on every first-sight
 * verify of a tenant's token.
 */
const refuseTenantIssuer = () =>
  new AuthError('CONFIGURATION_INVALID', 'tenantIssuer must return { issuer?, audience? } of non-empty strings, or undefined');

function checkedTenantIssuer(value: unknown): TenantTokenIssuer {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw refuseTenantIssuer();
  const { issuer, audience } = value as Record<string, unknown>;
  if (!isOptionalIssuer(issuer) || !isOptionalIssuer(audience)) throw refuseTenantIssuer();
  for (const name in value) if (name !== 'issuer' && name !== 'audience') throw refuseTenantIssuer();
  return value as TenantTokenIssuer;
}

const idSchema = z.string().min(1).max(512);
/** RFC 6749 section 3.3 scope-token characters: no space, quote or backslash. */
const scopeSchema = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'must be a scope token (no spaces)');

const issueInputSchema = z.strictObject({
  userId: idSchema,
  tenantId: idSchema.nullable(),
  sessionId: idSchema.nullable(),
  scopes: z.array(scopeSchema).max(256).optional(),
  roles: z.array(z.string().min(1).max(256)).max(256).optional(),
  amr: z.array(z.string().min(1).max(64)).max(16).optional(),
  ttlSeconds: z.int().min(1).optional(),
});

/** Every algorithm a keyset may hold; the one a token may use is the one of the key its kid names. */
const VERIFY_OPTIONS = { algorithms: ['EdDSA', 'ES256', 'RS256', 'HS256'] };
/** Longer strings are not our tokens; refusing them first bounds the work garbage costs. */
const MAX_TOKEN_LENGTH = 16_384;
const encoder = new TextEncoder();

/** Generic toward the client; which check failed is in `cause`, for logs only. */
function tokenInvalid(reason: string, cause?: unknown): AuthError {
  return accessTokenRejection('TOKEN_INVALID', reason, cause);
}

/** RFC 9068: `at+jwt`, or the full media type `application/at+jwt` (media types ignore case). */
function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === 'at+jwt' || lower === 'application/at+jwt';
}

const revokedError = () => accessTokenRejection('TOKEN_REVOKED', 'revoked by jti, session, user epoch or tenant epoch');
const tenantMismatch = () => tokenInvalid('issued for another tenant');

/**
 * Creates the {@link AccessTokenService}: RFC 9068 access tokens (`typ: at+jwt`) signed with
 * the keyset's active key, verified with the algorithm pinned to the key their `kid` names.
 *
 * Verify refuses (`TOKEN_INVALID` unless said): a malformed token; `alg` other than that of the
 * kid's key (so `none` and an HS256 token "signed" with a public key fail); an unknown or
 * retired kid; any `crit` or `b64` header (no extension is understood); `typ` other than
 * `at+jwt` (ID tokens, refresh tokens); a bad signature; `iss` / `aud` other than those of the
 * token's tenant; `exp` passed or `nbf` ahead beyond the clock tolerance (`TOKEN_EXPIRED`); a
 * `tid` other than the requested tenant (or the ambient tenant scope); a revoked token
 * (`TOKEN_REVOKED`). Header parameters that point at keys (`jku`, `x5u`, `jwk`, `x5c`) are
 * never read: only the keyset's keys verify. The error messages are generic ("The access token
 * is invalid", "… expired", "… was revoked"), so a 401 body never tells which check failed; the
 * precise reason is the error's `cause` (an `Error`), for logs.
 *
 * A verified token is cached (bounded LRU keyed by the token's SHA-256, until its exp): a
 * repeated verify re-checks expiry, that its kid still verifies, the tenant and revocation,
 * and returns the same frozen claims. Entries of a retired key are flushed when the keyset
 * retires it, and when a `signing-key-retired` revocation event arrives (which also retires
 * that kid in this process's keyset, unless it is the active key).
 *
 * @throws AuthError `CONFIGURATION_INVALID` for invalid options.
 * @example
 * ```ts
 * const tokens = createAccessTokenService({
 *   keys: await createSigningKeySet({ keys: [await generateSigningKey()] }),
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   revocation: createRevocationService({ store: memoryRevocationStore() }),
 * });
 * const { token } = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_acme', sessionId: 'ses_1', amr: ['pwd'] });
 * const claims = await tokens.verify(token, { tenantId: 'tnt_acme' });
 * ```
 */
export function createAccessTokenService(options: AccessTokenServiceOptions): AccessTokenService {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createAccessTokenService options');
  const { keys, revocation, tenantIssuer } = parsed;
  const clock = parsed.clock ?? systemClock;
  const ttlSeconds = parsed.ttlSeconds ?? 900;
  const clockToleranceSeconds = parsed.clockToleranceSeconds ?? 30;
  const toleranceMs = clockToleranceSeconds * 1000;
  const defaults = Object.freeze({ issuer: parsed.issuer, audience: parsed.audience });
  const cache = parsed.cache === false ? undefined : createVerifiedTokenCache(parsed.cache?.maxEntries ?? 10_000);
  const cryptoKeys = createWebCryptoKeyCache();

  const expectedFor = (tenantId: string | null): { readonly issuer: string; readonly audience: string } => {
    if (tenantId === null || tenantIssuer === undefined) return defaults;
    let override: unknown;
    try {
      override = tenantIssuer(tenantId);
    } catch (error) {
      throw new AuthError('CONFIGURATION_INVALID', 'tenantIssuer threw', { cause: error });
    }
    if (override === undefined) return defaults;
    const checked = checkedTenantIssuer(override);
    return { issuer: checked.issuer ?? defaults.issuer, audience: checked.audience ?? defaults.audience };
  };
  const claimRules = { expectedFor, clockToleranceSeconds };

  const stopRetired = keys.onRetired((kid) => cache?.flushKid(kid));
  const stopEvents = revocation.onEvent((event) => {
    if (event.kind !== 'signing-key-retired') return;
    if (event.id !== keys.activeKid) keys.retire(event.id);
    cache?.flushKid(event.id);
  });

  const requestedTenant = (verifyOptions: { readonly tenantId?: string | null } | undefined): string | null | undefined => {
    const requested = verifyOptions?.tenantId;
    if (requested === undefined) return currentTenantId();
    if (requested !== null && typeof requested !== 'string') throw new AuthError('VALIDATION_FAILED', 'verify(): tenantId must be a string or null');
    return requested;
  };

  const toEntry = (payload: Uint8Array, kid: string, key: VerifiedTokenEntry['key'], cacheKey: string | undefined, nowMs: number): VerifiedTokenEntry => {
    const claims = readAccessTokenClaims(payload, nowMs, claimRules);
    const entry: VerifiedTokenEntry = {
      jti: claims.jti,
      sid: claims.sid,
      sub: claims.sub,
      tid: claims.tid,
      issuedAtMs: claims.iatMs,
      claims,
      kid,
      key,
      expiresAtMs: claims.exp * 1000 + toleranceMs,
    };
    if (cache !== undefined && cacheKey !== undefined) cache.set(cacheKey, entry);
    return entry;
  };

  /**
   * Checks the protected header (parsed once, by jose) and names the key of its kid. One function
   * for every token rather than a closure per verify: this is the first-sight path.
   */
  const resolveVerificationKey = (header: CompactJWSHeaderParameters) => {
    // jose has refused unknown crit names already; we understand no extension at all.
    if (header.crit !== undefined || header.b64 !== undefined) throw tokenInvalid('"crit" and "b64" are not supported');
    if (!isAccessTokenType(header.typ)) throw tokenInvalid('"typ" is not at+jwt');
    if (typeof header.kid !== 'string') throw tokenInvalid('"kid" is missing');
    const verification = keys.verificationKey(header.kid);
    if (verification === undefined) throw tokenInvalid('unknown or retired "kid"');
    // Pinned: the key decides the algorithm, the header only has to agree.
    if (header.alg !== verification.alg) throw tokenInvalid('"alg" is not the algorithm of the key');
    return cryptoKeys.get(verification.alg, verification.key, 'verify');
  };

  /**
   * Signature, header and claims: everything about the token itself, nothing about the request.
   * One jose compactVerify with the key the kid names, one JSON.parse of the payload, claims
   * checked by hand.
   */
  const verifyToken = async (token: string, cacheKey: string | undefined, nowMs: number): Promise<VerifiedTokenEntry> => {
    let verified: CompactVerifyResult;
    try {
      verified = await compactVerify(token, resolveVerificationKey, VERIFY_OPTIONS);
    } catch (error) {
      if (error instanceof AuthError) throw error;
      throw tokenInvalid('malformed or bad signature', error);
    }
    const kid = verified.protectedHeader.kid as string;
    // The key that verified (kids are never reused), unless it was retired meanwhile.
    const verification = keys.verificationKey(kid);
    if (verification === undefined) throw tokenInvalid('unknown or retired "kid"');
    return toEntry(verified.payload, kid, verification.key, cacheKey, nowMs);
  };

  return {
    keys,

    async issue(input) {
      const checked = parseOrThrow(issueInputSchema, input, 'VALIDATION_FAILED', 'access token input');
      const signing = keys.signingKey();
      // Whole milliseconds: iat_ms is checked as an integer on verify.
      const nowMs = Math.floor(clock.now());
      const iat = Math.floor(nowMs / 1000);
      const exp = iat + Math.min(checked.ttlSeconds ?? ttlSeconds, ttlSeconds);
      const { issuer, audience } = expectedFor(checked.tenantId);
      const jti = createId('jti');
      const payload: Record<string, unknown> = { iss: issuer, sub: checked.userId, aud: audience, exp, iat, iat_ms: nowMs, jti };
      if (checked.tenantId !== null) payload.tid = checked.tenantId;
      if (checked.sessionId !== null) payload.sid = checked.sessionId;
      if (checked.scopes !== undefined) payload.scope = checked.scopes.join(' ');
      if (checked.roles !== undefined) payload.roles = checked.roles;
      if (checked.amr !== undefined) payload.amr = checked.amr;
      let token: string;
      try {
        token = await new CompactSign(encoder.encode(JSON.stringify(payload)))
          .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'at+jwt' })
          .sign(await cryptoKeys.get(signing.alg, signing.key, 'sign'));
      } catch (error) {
        throw new AuthError('SIGNING_KEY_UNAVAILABLE', 'The active key could not sign the access token', { cause: error });
      }
      const claims: AccessTokenClaims = Object.freeze({
        sub: checked.userId,
        tid: checked.tenantId,
        sid: checked.sessionId,
        jti,
        iat,
        iatMs: nowMs,
        exp,
        iss: issuer,
        aud: audience,
        scope: checked.scopes === undefined ? undefined : Object.freeze([...checked.scopes]),
        roles: checked.roles === undefined ? undefined : Object.freeze([...checked.roles]),
        amr: checked.amr === undefined ? undefined : Object.freeze([...checked.amr]),
      });
      return Object.freeze({ token, claims, expiresAt: exp * 1000 });
    },

    async verify(token, verifyOptions) {
      if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw tokenInvalid('not a compact JWS');
      const tenant = requestedTenant(verifyOptions);
      const nowMs = clock.now();
      // Hashed once: the same key looks the token up and, on a miss, stores it.
      const cacheKey = cache?.keyOf(token);
      let entry = cacheKey === undefined ? undefined : cache!.get(cacheKey, nowMs);
      if (entry !== undefined && keys.verificationKey(entry.kid)?.key !== entry.key) {
        // Retired (its grace window ended at the keyset's clock) or replaced since it was cached.
        cache!.delete(cacheKey!);
        throw tokenInvalid('unknown or retired "kid"');
      }
      if (entry === undefined) entry = await verifyToken(token, cacheKey, nowMs);
      if (tenant !== undefined && entry.claims.tid !== tenant) throw tenantMismatch();
      const revoked = revocation.isRevoked(entry);
      if (revoked === true || (revoked !== false && (await revoked))) throw revokedError();
      return entry.claims;
    },

    async revoke(claims) {
      const jti = (claims as { jti?: unknown } | null)?.jti;
      const exp = (claims as { exp?: unknown } | null)?.exp;
      if (typeof jti !== 'string' || jti.length === 0 || typeof exp !== 'number' || !Number.isSafeInteger(exp) || exp < 0) {
        throw new AuthError('VALIDATION_FAILED', 'revoke() takes claims with a jti and an exp (seconds)');
      }
      // Kept past exp by the tolerance: verify still accepts the token until then.
      await revocation.revokeToken(jti, exp * 1000 + toleranceMs);
    },

    clearCache() {
      cache?.clear();
    },

    async close() {
      stopRetired();
      stopEvents();
      cache?.clear();
    },
  };
}
