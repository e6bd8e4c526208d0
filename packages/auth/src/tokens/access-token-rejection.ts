import { AuthError } from '../errors.js';

/**
 * The client-facing messages of a refused access token. They never say which check failed:
 * "issued for another tenant" would confirm that a stolen token is genuine and name where to
 * use it, "unknown or retired kid" would map the keyset. The bindings send `code` and `message`
 * (and `details`, which these errors never carry) in the 401 body.
 */
const MESSAGES = {
  TOKEN_INVALID: 'The access token is invalid',
  TOKEN_EXPIRED: 'The access token expired',
  TOKEN_REVOKED: 'The access token was revoked',
} as const;

/**
 * A refused access token: a generic message for the client, and the precise reason in `cause`
 * (an `Error` whose message says which check failed, with the underlying error, if any, as its
 * own `cause`) for logs. `cause` is never serialised into a response body.
 *
 * @example
 * ```ts
 * throw accessTokenRejection('TOKEN_INVALID', 'issued for another tenant');
 * // err.message === 'The access token is invalid'; (err.cause as Error).message === 'issued for another tenant'
 * ```
 */
export function accessTokenRejection(code: keyof typeof MESSAGES, reason: string, underlying?: unknown): AuthError {
  const cause = new Error(reason, underlying === undefined ? undefined : { cause: underlying });
  cause.name = 'AccessTokenRejectionReason';
  return new AuthError(code, MESSAGES[code], { cause });
}
