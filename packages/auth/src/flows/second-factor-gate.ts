import type { AuthUser } from '../auth.js';

/**
 * Decides whether a password sign-in must be completed by a second factor. When `required`
 * answers `true`, `login` issues no session and no tokens: it returns
 * `{ status: 'second-factor-required', pendingToken, methods }`, and the multi-factor step (a
 * later release) consumes the pending token with `createPendingSecondFactorTokens(...).consume`.
 *
 * @example
 * ```ts
 * const secondFactor: SecondFactorGate = {
 *   required: async (user) => (await mfa.enrolledMethods(user.id)).length > 0,
 *   methods: (user) => mfa.enrolledMethods(user.id),
 * };
 * ```
 */
export interface SecondFactorGate {
  required(user: AuthUser): boolean | Promise<boolean>;
  /** The methods the client may offer (`['totp', 'webauthn']`). Default: none listed. */
  methods?(user: AuthUser): readonly string[] | Promise<readonly string[]>;
}
