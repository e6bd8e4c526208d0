import type { AuthError } from '../errors.js';
import { accessTokenRejection } from './access-token-rejection.js';
import type { AccessTokenClaims } from './access-token-service.js';

/**
 * What the claims of a verified token must match. `expectedFor` gives the issuer and audience of
 * a token's tenant (the per-tenant override, else the service's own).
 */
export interface AccessTokenClaimRules {
  readonly expectedFor: (tenantId: string | null) => { readonly issuer: string; readonly audience: string };
  readonly clockToleranceSeconds: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const NO_STRINGS: readonly string[] = Object.freeze([]);

function invalid(reason: string): AuthError {
  return accessTokenRejection('TOKEN_INVALID', reason);
}

function expired(reason: string): AuthError {
  return accessTokenRejection('TOKEN_EXPIRED', reason);
}

function optionalId(value: unknown, claim: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0) throw invalid(`"${claim}" must be a non-empty string`);
  return value;
}

// Loops rather than every/filter callbacks: no closure per token on the first-sight path.
function optionalStrings(value: unknown, claim: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalid(`"${claim}" must be an array of strings`);
  for (let index = 0; index < value.length; index += 1) {
    if (typeof value[index] !== 'string') throw invalid(`"${claim}" must be an array of strings`);
  }
  return value.length === 0 ? NO_STRINGS : Object.freeze(value as string[]);
}

/** The space-separated scope tokens; empty items (double, leading or trailing spaces) dropped. */
function scopeList(scope: string): readonly string[] {
  const items = scope.split(' ');
  let kept = 0;
  for (let index = 0; index < items.length; index += 1) {
    const item = items[index]!;
    if (item.length > 0) items[kept++] = item;
  }
  items.length = kept;
  return Object.freeze(items);
}

function isWholeSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Reads the payload of a token whose signature is verified into frozen
 * {@link AccessTokenClaims}: every claim of its type, `iss` and `aud` those of the token's tenant,
 * `iat_ms` consistent with `iat`, `exp` and `nbf` within the clock tolerance
 * (`TOKEN_EXPIRED`), nothing issued in the future. Hand-checked, no schema library: this runs
 * for every token seen for the first time.
 *
 * @throws AuthError `TOKEN_INVALID`, `TOKEN_EXPIRED`, with a generic message and the failed check
 *   in `cause`.
 * @example
 * ```ts
 * const claims = readAccessTokenClaims(payload, Date.now(), { expectedFor: () => ({ issuer, audience }), clockToleranceSeconds: 30 });
 * ```
 */
export function readAccessTokenClaims(payload: Uint8Array, nowMs: number, rules: AccessTokenClaimRules): AccessTokenClaims {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(payload));
  } catch {
    throw invalid('the payload is not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('the payload is not a JSON object');
  const claims = raw as Record<string, unknown>;
  const { sub, jti, iat, iat_ms: iatMs, exp, nbf, iss, aud, scope } = claims;
  if (typeof sub !== 'string' || sub.length === 0) throw invalid('"sub" is missing');
  if (typeof jti !== 'string' || jti.length === 0) throw invalid('"jti" is missing');
  const tid = optionalId(claims.tid, 'tid');
  const sid = optionalId(claims.sid, 'sid');
  if (!isWholeSeconds(iat)) throw invalid('"iat" is missing');
  if (!isWholeSeconds(iatMs) || Math.floor(iatMs / 1000) !== iat) throw invalid('"iat_ms" is missing or disagrees with "iat"');
  if (!isWholeSeconds(exp) || exp <= iat) throw invalid('"exp" is missing');
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf))) throw invalid('"nbf" is not a number');

  const expected = rules.expectedFor(tid);
  if (iss !== expected.issuer) throw invalid('unexpected "iss"');
  if (aud !== expected.audience && !(Array.isArray(aud) && aud.includes(expected.audience))) throw invalid('unexpected "aud"');
  if (scope !== undefined && typeof scope !== 'string') throw invalid('"scope" must be a string');
  const roles = optionalStrings(claims.roles, 'roles');
  const amr = optionalStrings(claims.amr, 'amr');

  const toleranceMs = rules.clockToleranceSeconds * 1000;
  if (exp * 1000 + toleranceMs <= nowMs) throw expired('"exp" has passed, beyond the clock tolerance');
  if (nbf !== undefined && nbf * 1000 - toleranceMs > nowMs) throw expired('"nbf" is ahead, beyond the clock tolerance');
  if (iatMs - toleranceMs > nowMs) throw invalid('"iat" is in the future');

  return Object.freeze({
    sub,
    tid,
    sid,
    jti,
    iat,
    iatMs,
    exp,
    iss: expected.issuer,
    aud: expected.audience,
    scope: scope === undefined ? undefined : scopeList(scope),
    roles,
    amr,
  });
}
