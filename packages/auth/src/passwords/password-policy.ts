/**
 * One rule a password broke.
 *
 * @example
 * ```ts
 * const violation: PasswordViolation = { rule: 'min-length', message: 'Use at least 12 characters' };
 * ```
 */
export interface PasswordViolation {
  readonly rule: 'min-length' | 'max-length' | 'character-classes' | 'common-password' | 'contains-context' | 'reused';
  readonly message: string;
}

/**
 * Password rules. Lengths count Unicode code points after NFKC normalization; `maxLength` also
 * bounds the work of hashing (the hasher caps bytes as well).
 *
 * @example
 * ```ts
 * const rules: PasswordPolicyRules = { minLength: 12, maxLength: 128, minCharacterClasses: 0, blockCommonPasswords: true, historySize: 5 };
 * ```
 */
export interface PasswordPolicyRules {
  readonly minLength: number;
  readonly maxLength: number;
  /** How many of lower, upper, digit, symbol must appear (0–4). */
  readonly minCharacterClasses: number;
  readonly blockCommonPasswords: boolean;
  /** Extra words to refuse (case-insensitive, whole password). */
  readonly blocklist?: readonly string[];
  /** How many earlier passwords may not be reused (0 = none). */
  readonly historySize: number;
}

/**
 * Checks passwords against the rules, with per-tenant overrides.
 *
 * @example
 * ```ts
 * const policy = createPasswordPolicy({ rules: { minLength: 12 }, tenantOverrides: (tenantId) => tenantId === 'tnt_bank' ? { minLength: 16 } : undefined });
 * await policy.check('hunter2', { tenantId: 'tnt_bank', email: 'a@b.c' }); // [{ rule: 'min-length', ... }, { rule: 'common-password', ... }]
 * ```
 */
export interface PasswordPolicy {
  /** The rules that apply in `tenantId` (defaults merged with the tenant's override). */
  rulesFor(tenantId: string | null): Promise<PasswordPolicyRules>;
  /** Every violation (empty = acceptable). Context words (the email's local part) are refused. */
  check(password: string, context: { readonly tenantId: string | null; readonly email?: string }): Promise<readonly PasswordViolation[]>;
  /** @throws `PASSWORD_POLICY_VIOLATION` with `details.violations` */
  assert(password: string, context: { readonly tenantId: string | null; readonly email?: string }): Promise<PasswordPolicyRules>;
}
