import { z } from 'zod';

/**
 * The longest password any flow accepts as input, in UTF-16 code units: four times the longest
 * `maxLength` a policy may set (256 code points; surrogate pairs and combining marks make the
 * raw input longer than its NFKC form). Anything longer is refused with `VALIDATION_FAILED`
 * before the policy or the hasher sees it, at sign-up and at login alike, so a megabyte
 * "password" costs nothing and says nothing about the account. The policy's own `maxLength`
 * (`PASSWORD_POLICY_VIOLATION`) then applies where a password is *set*; at login only this cap
 * and the hasher's byte cap apply, so a password set under a laxer tenant override still signs
 * in everywhere.
 *
 * @example
 * ```ts
 * if (password.length > maxPasswordInputLength) throw new AuthError('VALIDATION_FAILED', 'Password too long');
 * ```
 */
export const maxPasswordInputLength = 1024;

/**
 * A password as flows take it: a non-empty string of at most {@link maxPasswordInputLength}
 * code units (no trimming: whitespace is part of a password).
 *
 * @example
 * ```ts
 * passwordInputSchema.parse('correct horse battery staple');
 * ```
 */
export const passwordInputSchema = z.string().min(1).max(maxPasswordInputLength);

/**
 * An id as flows take it (user, tenant, session): 1-128 characters; the owning service checks
 * the exact format.
 *
 * @example
 * ```ts
 * flowIdSchema.parse('usr_1');
 * ```
 */
export const flowIdSchema = z.string().min(1).max(128);

/**
 * An optional tenant: a tenant id, `null` or absent (both meaning "no tenant").
 *
 * @example
 * ```ts
 * optionalTenantIdSchema.parse(undefined); // null
 * ```
 */
export const optionalTenantIdSchema = flowIdSchema.nullish().transform((value) => value ?? null);

/**
 * An opaque secret a client presents (session cookie, refresh, one-time or pending token).
 *
 * @example
 * ```ts
 * presentedSecretSchema.parse(cookieValue);
 * ```
 */
export const presentedSecretSchema = z.string().min(1).max(4096);
