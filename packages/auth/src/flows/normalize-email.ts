import { z } from 'zod';
import { parseFlowInput } from './parse-flow-input.js';

/** RFC 5321 caps a forward path at 256 octets, two of which are the angle brackets. */
const MAX_EMAIL_LENGTH = 254;

const normalizedEmailSchema = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.string().min(3).max(MAX_EMAIL_LENGTH).pipe(z.email()));

/**
 * Normalizes an email the way accounts store it (trimmed, lowercased) and checks that it is a
 * plausible address of at most 254 characters.
 *
 * Lowercasing the local part is a deliberate simplification: almost no mail system treats it
 * case-sensitively, and two accounts differing only in case would be an account-takeover risk.
 *
 * @throws `VALIDATION_FAILED`
 * @example
 * ```ts
 * normalizeEmail('  Alice@Example.COM '); // 'alice@example.com'
 * ```
 */
export function normalizeEmail(email: unknown): string {
  return parseFlowInput(normalizedEmailSchema, email, 'VALIDATION_FAILED', 'email');
}
