import { isBuiltInCommonPassword } from './common-passwords.js';
import type { PasswordPolicyRules, PasswordViolation } from './password-policy.js';

/** Context words shorter than this are not refused (`ana` in `banana` is chance, not reuse). */
const MIN_CONTEXT_WORD_LENGTH = 4;

// One short unit over and over (`aaaaaaaaaaaa`, `abcabcabcabc`, `12121212`) is as guessable as
// the list's entries, whatever its length.
const REPEATED_SHORT_UNIT = /^(.{1,3})\1+$/su;
const TRAILING_NON_LETTERS = /[^\p{L}]+$/u;
const LEADING_NON_LETTERS = /^[^\p{L}]+/u;
const CONTEXT_SEPARATORS = /[._+-]+/;

const CHARACTER_CLASSES = [
  // Letters without case (CJK, Arabic…) count as lowercase, so scripts without case can still
  // reach two classes with digits.
  { name: 'lowercase', pattern: /[\p{Ll}\p{Lo}\p{Lm}]/u },
  { name: 'uppercase', pattern: /[\p{Lu}\p{Lt}]/u },
  { name: 'digits', pattern: /\p{N}/u },
  { name: 'symbols', pattern: /[^\p{L}\p{N}]/u },
] as const;

/**
 * The forms a password is looked up in the blocklists by: the whole (lowercased) password,
 * then without trailing digits and symbols (`password123!` → `password`), then without leading
 * ones either (`!1password1` → `password`).
 */
function blocklistForms(lowercased: string): readonly string[] {
  const trailingStripped = lowercased.replace(TRAILING_NON_LETTERS, '');
  const bothStripped = trailingStripped.replace(LEADING_NON_LETTERS, '');
  return [lowercased, trailingStripped, bothStripped].filter((form) => form.length > 0);
}

/**
 * The words of an email a password may not contain: the local part (its `+tag` removed) and
 * its `.`/`_`/`-` separated parts, each of at least 4 code points.
 */
function contextWords(email: string | undefined): readonly string[] {
  if (email === undefined) return [];
  const normalized = email.normalize('NFKC').trim().toLowerCase();
  const at = normalized.lastIndexOf('@');
  const local = (at === -1 ? normalized : normalized.slice(0, at)).split('+')[0] ?? '';
  const words = new Set([local, ...local.split(CONTEXT_SEPARATORS)]);
  return [...words].filter((word) => [...word].length >= MIN_CONTEXT_WORD_LENGTH);
}

/**
 * Every rule `password` breaks under `rules` (empty when it is acceptable). Lengths count code
 * points after NFKC normalization; the built-in list and `blocklist` match case-insensitively,
 * as the whole password and also with leading and trailing digits and symbols removed (with the
 * built-in list, one unit of 1–3 characters repeated counts as common too); the email's local
 * part may not appear anywhere in it.
 *
 * @example
 * ```ts
 * findPasswordViolations('Password123!', defaultPasswordPolicyRules, { email: 'a@b.c', blocklists: [] });
 * // [{ rule: 'common-password', message: 'This password is too common; choose another' }]
 * ```
 */
export function findPasswordViolations(
  password: string,
  rules: PasswordPolicyRules,
  context: { readonly email?: string | undefined; readonly blocklists: readonly ReadonlySet<string>[] },
): readonly PasswordViolation[] {
  const normalized = password.normalize('NFKC');
  const length = [...normalized].length;
  const violations: PasswordViolation[] = [];

  if (length < rules.minLength) {
    violations.push({ rule: 'min-length', message: `Use at least ${rules.minLength} characters` });
  }
  if (length > rules.maxLength) {
    violations.push({ rule: 'max-length', message: `Use at most ${rules.maxLength} characters` });
  }
  if (rules.minCharacterClasses > 0) {
    const present = CHARACTER_CLASSES.filter((characterClass) => characterClass.pattern.test(normalized)).length;
    if (present < rules.minCharacterClasses) {
      violations.push({
        rule: 'character-classes',
        message: `Use at least ${rules.minCharacterClasses} of: lowercase letters, uppercase letters, digits, symbols`,
      });
    }
  }

  const lowercased = normalized.toLowerCase();
  const forms = blocklistForms(lowercased);
  const common =
    (rules.blockCommonPasswords && (REPEATED_SHORT_UNIT.test(lowercased) || forms.some(isBuiltInCommonPassword))) ||
    context.blocklists.some((blocklist) => forms.some((form) => blocklist.has(form)));
  if (common) {
    violations.push({ rule: 'common-password', message: 'This password is too common; choose another' });
  }

  if (contextWords(context.email).some((word) => lowercased.includes(word))) {
    violations.push({ rule: 'contains-context', message: 'Do not use your email address in your password' });
  }
  return violations;
}

/**
 * The lookup form of blocklist entries: NFKC, lowercased.
 *
 * @example
 * ```ts
 * compileBlocklist(['Acme', 'ACME corp']); // Set { 'acme', 'acme corp' }
 * ```
 */
export function compileBlocklist(words: readonly string[] | undefined): ReadonlySet<string> {
  return new Set((words ?? []).map((word) => word.normalize('NFKC').toLowerCase()));
}
