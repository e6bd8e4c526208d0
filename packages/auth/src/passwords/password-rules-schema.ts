import { z } from 'zod';

/** The shortest `minLength` any rules (defaults or a tenant's override) may set: NIST 800-63B's floor. */
export const minimumPasswordLength = 8;

/**
 * The longest `maxLength` rules may set, in code points: 256 code points are at most 1024 UTF-8
 * bytes, the scrypt hasher's default cap.
 */
export const maximumPasswordLength = 256;

/**
 * The fields of `PasswordPolicyRules`, each optional: what `rules` and a tenant override may
 * give. Unknown keys are refused, so a misspelt `minlength` cannot silently do nothing.
 *
 * @example
 * ```ts
 * partialPasswordRulesSchema.safeParse({ minLength: 16 }).success; // true
 * ```
 */
export const partialPasswordRulesSchema = z.strictObject({
  minLength: z.int().min(minimumPasswordLength, `must be at least ${minimumPasswordLength}`).max(maximumPasswordLength).optional(),
  maxLength: z.int().min(minimumPasswordLength).max(maximumPasswordLength).optional(),
  minCharacterClasses: z.int().min(0).max(4).optional(),
  blockCommonPasswords: z.boolean().optional(),
  blocklist: z.array(z.string().min(1).max(maximumPasswordLength)).max(100_000).readonly().optional(),
  historySize: z.int().min(0).max(24).optional(),
});
