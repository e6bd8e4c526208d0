import { z } from 'zod';
import { userIdSchema } from '../memberships/membership-service.js';
import {
  featureOverridesSchema,
  limitOverridesSchema,
  planKeySchema,
  regionSchema,
  statusReasonSchema,
  tenantNameSchema,
  tenantSlugSchema,
} from '../registry/tenant-input-schemas.js';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * A JSON object whose own keys are checked before zod sees them: zod's record parser silently
 * drops an own `__proto__` key (as `JSON.parse` makes), turning a pollution attempt into a
 * quiet success instead of a refusal.
 */
const jsonObjectSchema = z
  .unknown()
  .superRefine((input, ctx) => {
    if (typeof input !== 'object' || input === null) return;
    for (const key of Object.keys(input)) {
      if (FORBIDDEN_KEYS.has(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'is a reserved key' });
    }
  })
  .pipe(z.record(z.string(), z.json()));

/**
 * The most characters of JSON an onboarding input may take. The input is copied into every
 * run write, so it must stay a small document; 256 KiB is far above any sensible settings
 * object.
 *
 * @example
 * ```ts
 * if (JSON.stringify(input).length > MAX_RUN_INPUT_JSON_LENGTH) throw new Error('too big');
 * ```
 */
export const MAX_RUN_INPUT_JSON_LENGTH = 256 * 1024;

/**
 * Onboarding input: the registry's own rules for tenant fields, plus the admin's user id and
 * free JSON metadata for hooks. Settings are only checked to be JSON here; the registry's
 * settings schema checks them in the `create-record` step.
 *
 * @example
 * ```ts
 * onboardingInputSchema.parse({ slug: 'acme', name: 'Acme', adminUserId: 'usr_1' });
 * ```
 */
export const onboardingInputSchema = z.strictObject({
  slug: tenantSlugSchema,
  name: tenantNameSchema,
  plan: planKeySchema.optional(),
  settings: jsonObjectSchema.optional(),
  features: featureOverridesSchema.optional(),
  limits: limitOverridesSchema.optional(),
  region: regionSchema.optional(),
  adminUserId: userIdSchema,
  metadata: jsonObjectSchema.optional(),
});

/**
 * Options of `startOffboarding`.
 *
 * @example
 * ```ts
 * offboardingOptionsSchema.parse({ reason: 'contract ended', requestedBy: 'usr_ops' });
 * ```
 */
export const offboardingOptionsSchema = z.strictObject({
  reason: statusReasonSchema,
  requestedBy: userIdSchema.optional(),
});

/**
 * A hook's name: the part after the phase in its step name, so it must be short, printable
 * and free of the `:` separator.
 *
 * @example
 * ```ts
 * stepHookNameSchema.parse('welcome-mail');
 * ```
 */
export const stepHookNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1-63 characters of a-z 0-9 . _ -, starting with a letter or digit');

/**
 * What an offboarding hook may return.
 *
 * @example
 * ```ts
 * artifactReferenceSchema.parse({ location: 's3://exports/tnt_1.zip' });
 * ```
 */
export const artifactReferenceSchema = z.strictObject({
  location: z.string().min(1).max(2048),
  details: jsonObjectSchema.optional(),
});

/**
 * A lifecycle run id as the stores hold it (their columns take 128 characters).
 *
 * @example
 * ```ts
 * runIdSchema.parse('run_0k3x9');
 * ```
 */
export const runIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 _ -');
