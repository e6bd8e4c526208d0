import { type Clock, createId, systemClock } from '@tenantkit/core';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { SigningKeySet } from '../keys/signing-key-set.js';
import type { RevocationService } from '../revocation/revocation-service.js';
import { parseFlowInput } from './parse-flow-input.js';

/** The JWT `typ` of a pending sign-in: no access-token verifier accepts it. */
const PENDING_TOKEN_TYPE = 'second-factor-pending+jwt';

/**
 * What a pending second-factor token proves: `userId` passed the password check (with `amr`) at
 * `issuedAt`, for `tenantId`.
 *
 * @example
 * ```ts
 * const pending: PendingSecondFactor = { userId: 'usr_1', tenantId: 'tnt_acme', amr: ['pwd'], tokenId: 'pnd_1', issuedAt: 0, expiresAt: 300_000 };
 * ```
 */
export interface PendingSecondFactor {
  readonly userId: string;
  readonly tenantId: string | null;
  readonly amr: readonly string[];
  /** The token's `jti` (revoked once consumed). */
  readonly tokenId: string;
  /** Epoch milliseconds. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/**
 * Options of {@link createPendingSecondFactorTokens}. Two instances with the same keys, issuer
 * and revocation service read each other's tokens (the token is stateless).
 *
 * @example
 * ```ts
 * const options: PendingSecondFactorTokensOptions = { keys, issuer: 'https://auth.example.com', revocation, ttlSeconds: 300 };
 * ```
 */
export interface PendingSecondFactorTokensOptions {
  readonly keys: SigningKeySet;
  /** Both `iss` and `aud` of the token: it is meant for the auth server only, never an API. */
  readonly issuer: string;
  readonly revocation: RevocationService;
  /** Default 300 (5 minutes), at most 900. */
  readonly ttlSeconds?: number;
  readonly clock?: Clock;
}

/**
 * The half-finished sign-in that `login` hands out as `pendingToken` when a second factor is
 * required, and that the multi-factor step consumes.
 *
 * @example
 * ```ts
 * const pending = await pendingTokens.consume(body.pendingToken); // then check the TOTP code for pending.userId
 * ```
 */
export interface PendingSecondFactorTokens {
  /** Signs a pending token with the active key. @throws `SIGNING_KEY_UNAVAILABLE` */
  issue(input: { readonly userId: string; readonly tenantId: string | null; readonly amr: readonly string[] }): Promise<{ readonly token: string; readonly expiresAt: number }>;
  /**
   * Verifies a pending token and revokes it (by jti) so it works once; a user-epoch revocation
   * (password reset, `revokeUser`) kills it too.
   * @throws `TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`
   */
  consume(token: string): Promise<PendingSecondFactor>;
}

const optionsSchema = z.object({
  keys: z.custom<SigningKeySet>((value) => typeof (value as SigningKeySet | null)?.signingKey === 'function', 'must be a SigningKeySet'),
  issuer: z.string().min(1).max(2048),
  revocation: z.custom<RevocationService>((value) => typeof (value as RevocationService | null)?.isRevoked === 'function', 'must be a RevocationService'),
  ttlSeconds: z.number().int().min(30).max(900).optional(),
  clock: z.custom<Clock>((value) => typeof (value as Clock | null)?.now === 'function', 'must have now()').optional(),
});

const pendingClaimsSchema = z.object({
  sub: z.string().min(1),
  jti: z.string().min(1),
  exp: z.number(),
  tid: z.string().min(1).nullable(),
  amr: z.array(z.string()),
  iat_ms: z.number().int(),
});

const invalid = () => new AuthError('TOKEN_INVALID', 'The pending sign-in token is invalid');

/**
 * Creates the pending second-factor tokens: short-lived JWTs signed with the access-token keys,
 * with their own `typ` and with `aud` = the issuer, so they can never pass as access tokens.
 *
 * Why a JWT and not a stored one-time token: the one-time token purposes are fixed
 * (`'password-reset' | 'email-verification' | 'invitation'`) and a pending sign-in must never be
 * usable as any of them. Single use is enforced by revoking the jti on consume; two consumes
 * racing inside the same instant can both succeed, which the second-factor check that follows
 * still guards.
 *
 * @throws `CONFIGURATION_INVALID`
 * @example
 * ```ts
 * const pendingTokens = createPendingSecondFactorTokens({ keys, issuer: 'https://auth.example.com', revocation: auth.revocation });
 * const { token } = await pendingTokens.issue({ userId: 'usr_1', tenantId: null, amr: ['pwd'] });
 * ```
 */
export function createPendingSecondFactorTokens(options: PendingSecondFactorTokensOptions): PendingSecondFactorTokens {
  const checked = parseFlowInput(optionsSchema, options, 'CONFIGURATION_INVALID', 'pending second-factor token options');
  const { keys, issuer, revocation } = options;
  const clock = options.clock ?? systemClock;
  const ttlMs = (checked.ttlSeconds ?? 300) * 1000;

  return {
    async issue(input) {
      const signing = keys.signingKey();
      const now = clock.now();
      const expiresAt = now + ttlMs;
      const token = await new SignJWT({ tid: input.tenantId, amr: [...input.amr], iat_ms: now })
        .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: PENDING_TOKEN_TYPE })
        .setIssuer(issuer)
        .setAudience(issuer)
        .setSubject(input.userId)
        .setJti(createId('pnd'))
        .setIssuedAt(Math.floor(now / 1000))
        .setExpirationTime(Math.floor(expiresAt / 1000))
        .sign(signing.key);
      return { token, expiresAt: Math.floor(expiresAt / 1000) * 1000 };
    },

    async consume(token) {
      if (typeof token !== 'string' || token.length === 0 || token.length > 8192) throw invalid();
      let kid: string | undefined;
      try {
        kid = decodeProtectedHeader(token).kid;
      } catch {
        throw invalid();
      }
      const verification = kid === undefined ? undefined : keys.verificationKey(kid);
      if (verification === undefined) throw invalid();
      let payload: unknown;
      try {
        ({ payload } = await jwtVerify(token, verification.key, {
          algorithms: [verification.alg],
          issuer,
          audience: issuer,
          typ: PENDING_TOKEN_TYPE,
          currentDate: new Date(clock.now()),
          requiredClaims: ['sub', 'jti', 'exp', 'iat'],
        }));
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw new AuthError('TOKEN_EXPIRED', 'The pending sign-in has expired');
        throw invalid();
      }
      const claims = pendingClaimsSchema.safeParse(payload);
      if (!claims.success) throw invalid();
      const { sub, jti, exp, tid, amr, iat_ms: issuedAt } = claims.data;
      const subject = { jti, sid: null, sub, tid, issuedAtMs: issuedAt };
      if (await revocation.isRevoked(subject)) throw new AuthError('TOKEN_REVOKED', 'The pending sign-in was already used or revoked');
      await revocation.revokeToken(jti, exp * 1000);
      return { userId: sub, tenantId: tid, amr, tokenId: jti, issuedAt, expiresAt: exp * 1000 };
    },
  };
}
