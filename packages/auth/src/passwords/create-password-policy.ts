import { z } from 'zod';
import { AuthError } from '../errors.js';
import { defaultPasswordPolicyRules } from './default-password-policy-rules.js';
import { compileBlocklist, findPasswordViolations } from './find-password-violations.js';
import type { PasswordPolicy, PasswordPolicyRules } from './password-policy.js';
import { partialPasswordRulesSchema } from './password-rules-schema.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

/**
 * A tenant's changes to the password rules: looked up on every check (cache inside it if the
 * lookup is slow), `undefined` for none. The result is data only: it is validated and merged
 * over the defaults, never executed.
 *
 * @example
 * ```ts
 * const tenantOverrides: PasswordPolicyTenantOverrides = async (tenantId) => (await tenants.get(tenantId))?.settings.passwordRules;
 * ```
 */
export type PasswordPolicyTenantOverrides = (
  tenantId: string,
) => Partial<PasswordPolicyRules> | undefined | Promise<Partial<PasswordPolicyRules> | undefined>;

/**
 * Options of {@link createPasswordPolicy}, validated when it is called (`CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const options: PasswordPolicyOptions = { rules: { minLength: 14, blocklist: ['acme'] } };
 * ```
 */
export interface PasswordPolicyOptions {
  /** Changes to {@link defaultPasswordPolicyRules}; `minLength` may not go below 8. */
  readonly rules?: Partial<PasswordPolicyRules>;
  /**
   * Per-tenant changes, merged over `rules`: each field replaces the default, except
   * `blocklist`, which adds to it (a tenant cannot unblock the application's words).
   * An override that breaks the rules' bounds (`minLength` below 8, `minLength` above
   * `maxLength`, unknown fields) makes the check throw `CONFIGURATION_INVALID`.
   */
  readonly tenantOverrides?: PasswordPolicyTenantOverrides;
}


const optionsSchema = z.strictObject({
  rules: partialPasswordRulesSchema.optional(),
  tenantOverrides: z.custom<PasswordPolicyTenantOverrides>((value) => typeof value === 'function', 'must be a function').optional(),
});

const contextSchema = z.object({
  tenantId: z.string().min(1).nullable().optional(),
  email: z.string().max(1024).optional(),
});

interface CompiledRules {
  readonly rules: PasswordPolicyRules;
  /** The blocklists in lookup form: the application's, then the tenant's additions. */
  readonly blocklists: readonly ReadonlySet<string>[];
}

type RulesChange = z.infer<typeof partialPasswordRulesSchema>;

function mergeRules(base: PasswordPolicyRules, change: RulesChange, what: string): PasswordPolicyRules {
  const { blocklist, ...fields } = change;
  const words = blocklist === undefined ? base.blocklist : [...new Set([...(base.blocklist ?? []), ...blocklist])];
  const merged: PasswordPolicyRules = Object.freeze({
    ...base,
    ...fields,
    ...(words === undefined || words.length === 0 ? {} : { blocklist: Object.isFrozen(words) ? words : Object.freeze(words) }),
  });
  if (merged.minLength > merged.maxLength) {
    throw new AuthError('CONFIGURATION_INVALID', `Invalid ${what}: minLength (${merged.minLength}) is above maxLength (${merged.maxLength})`, {
      details: { issues: [{ path: 'minLength', message: 'must not exceed maxLength' }] },
    });
  }
  return merged;
}

/**
 * A {@link PasswordPolicy}: length (code points after NFKC), optional character classes, the
 * built-in common-password list and your `blocklist` (case-insensitive, also with leading and
 * trailing digits and symbols removed, so `Password123!` is common), and no password containing
 * the email's local part (or its `.`/`_`/`-` parts) of 4 characters or more. Rules start from
 * {@link defaultPasswordPolicyRules}; tenants may override them within bounds.
 *
 * @example
 * ```ts
 * const policy = createPasswordPolicy({
 *   rules: { blocklist: ['acme'] },
 *   tenantOverrides: (tenantId) => (tenantId === 'tnt_bank' ? { minLength: 16, minCharacterClasses: 3 } : undefined),
 * });
 * await policy.check('Password123!', { tenantId: null }); // [{ rule: 'min-length', ... }, { rule: 'common-password', ... }]
 * const rules = await policy.assert('vivid otter parade', { tenantId: 'tnt_acme', email: 'alice@example.com' });
 * ```
 */
export function createPasswordPolicy(options: PasswordPolicyOptions = {}): PasswordPolicy {
  const settings = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createPasswordPolicy options');
  const baseRules = mergeRules(defaultPasswordPolicyRules, settings.rules ?? {}, 'createPasswordPolicy options');
  const base: CompiledRules = { rules: baseRules, blocklists: [compileBlocklist(baseRules.blocklist)] };
  const { tenantOverrides } = settings;

  async function compiledFor(tenantId: string | null): Promise<CompiledRules> {
    if (tenantId === null || tenantOverrides === undefined) return base;
    const override: unknown = await tenantOverrides(tenantId);
    if (override === undefined) return base;
    const what = `password policy override of tenant ${JSON.stringify(tenantId)}`;
    const change = parseOrThrow(partialPasswordRulesSchema, override, 'CONFIGURATION_INVALID', what);
    // The application's blocklist is compiled once; only the tenant's additions are compiled here.
    const blocklists = change.blocklist === undefined ? base.blocklists : [...base.blocklists, compileBlocklist(change.blocklist)];
    return { rules: mergeRules(base.rules, change, what), blocklists };
  }

  function parseContext(context: unknown): { readonly tenantId: string | null; readonly email: string | undefined } {
    const parsed = parseOrThrow(contextSchema, context, 'VALIDATION_FAILED', 'password policy context');
    return { tenantId: parsed.tenantId ?? null, email: parsed.email };
  }

  async function violationsOf(password: unknown, context: unknown) {
    if (typeof password !== 'string') throw new AuthError('VALIDATION_FAILED', 'The password must be a string');
    const { tenantId, email } = parseContext(context);
    const compiled = await compiledFor(tenantId);
    return { rules: compiled.rules, violations: findPasswordViolations(password, compiled.rules, { email, blocklists: compiled.blocklists }) };
  }

  return {
    async rulesFor(tenantId) {
      if (tenantId !== null && (typeof tenantId !== 'string' || tenantId.length === 0)) {
        throw new AuthError('VALIDATION_FAILED', 'The tenant id must be a non-empty string or null');
      }
      return (await compiledFor(tenantId)).rules;
    },

    async check(password, context) {
      return (await violationsOf(password, context)).violations;
    },

    async assert(password, context) {
      const { rules, violations } = await violationsOf(password, context);
      if (violations.length > 0) {
        throw new AuthError('PASSWORD_POLICY_VIOLATION', 'The password does not meet the password policy', { details: { violations } });
      }
      return rules;
    },
  };
}
