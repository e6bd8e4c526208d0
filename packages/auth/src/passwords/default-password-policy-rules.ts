import type { PasswordPolicyRules } from './password-policy.js';

/**
 * The rules `createPasswordPolicy` starts from.
 *
 * - `minLength: 12`. NIST SP 800-63B sets a floor of 8 (revision 4 asks 15 when the password is
 *   the only factor) and puts the weight on length plus a blocklist rather than composition
 *   rules; OWASP ASVS (V2.1.1) asks 12. Twelve is what ASVS requires, comfortably above NIST's
 *   floor, and still a length people accept without writing it down; raise it (per tenant, too)
 *   where the password is the only factor. No override may go below 8.
 * - `maxLength: 128`: long passphrases and password managers fit (ASVS asks at least 64), while
 *   the work of hashing stays bounded.
 * - `minCharacterClasses: 0`: composition rules make passwords harder to remember and barely
 *   stronger (NIST 800-63B: "SHALL NOT impose other composition rules").
 * - `blockCommonPasswords: true`: the built-in list, case-insensitive, also with trailing digits
 *   and symbols removed.
 * - `historySize: 5`: the last five passwords (the current one included) cannot be reused.
 *
 * @example
 * ```ts
 * const policy = createPasswordPolicy({ rules: { ...defaultPasswordPolicyRules, minLength: 15 } });
 * ```
 */
export const defaultPasswordPolicyRules: PasswordPolicyRules = Object.freeze({
  minLength: 12,
  maxLength: 128,
  minCharacterClasses: 0,
  blockCommonPasswords: true,
  historySize: 5,
});
