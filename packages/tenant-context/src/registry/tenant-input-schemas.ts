import { z } from 'zod';
import { isValidTenantId, isValidTenantSlug } from '../identifiers.js';
import { entitlementKeySchema, isPrototypeKey, planKeySchema } from '../plans/entitlement-keys.js';
import { maxTenantSearchLength } from '../store.js';
import { tenantStatuses, type TenantStatus } from '../tenant.js';

export { planKeySchema };

/** A quota value: a whole number of units, or -1 for unlimited. */
export const limitValueSchema = z.number().int().min(-1).max(Number.MAX_SAFE_INTEGER);

export const tenantIdSchema = z.string().refine(isValidTenantId, 'must be 1-64 characters of A-Z a-z 0-9 _ -');
export const tenantSlugSchema = z
  .string()
  .refine(isValidTenantSlug, 'must be 1-63 characters of a-z, 0-9 and inner hyphens');
export const tenantNameSchema = z.string().trim().min(1).max(200);
export const regionSchema = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be a region key').nullable();
/**
 * A record of overrides whose keys are checked before zod sees them: zod's record parser
 * silently skips an own `__proto__` key (as `JSON.parse` produces), which would otherwise turn a
 * prototype-pollution attempt into a quiet success instead of a refusal.
 */
function overridesRecord<Value extends z.ZodType>(value: Value) {
  return z
    .unknown()
    .superRefine((input, ctx) => {
      if (typeof input !== 'object' || input === null) return;
      for (const key of Object.keys(input)) {
        if (isPrototypeKey(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'is a reserved key' });
      }
    })
    .pipe(z.record(entitlementKeySchema, value));
}

export const featureOverridesSchema = overridesRecord(z.boolean());
export const limitOverridesSchema = overridesRecord(limitValueSchema);
export const statusReasonSchema = z.string().trim().min(1).max(500);

export const createTenantInputSchema = z.strictObject({
  id: tenantIdSchema.optional(),
  slug: tenantSlugSchema,
  name: tenantNameSchema,
  plan: planKeySchema.optional(),
  settings: z.unknown().optional(),
  features: featureOverridesSchema.optional(),
  limits: limitOverridesSchema.optional(),
  region: regionSchema.optional(),
  status: z.enum(['provisioning', 'active']).optional(),
});

export const tenantPatchSchema = z.strictObject({
  slug: tenantSlugSchema.optional(),
  name: tenantNameSchema.optional(),
  plan: planKeySchema.optional(),
  settings: z.unknown().optional(),
  features: overridesRecord(z.boolean().nullable()).optional(),
  limits: overridesRecord(limitValueSchema.nullable()).optional(),
  region: regionSchema.optional(),
});

export const tenantStatusSchema = z.enum(tenantStatuses as [TenantStatus, ...TenantStatus[]]);

/**
 * The registry's list query, checked before it reaches a store (stores trust their input, and a
 * SQL adapter would happily run a page of a million rows).
 *
 * @example
 * ```ts
 * listTenantsQuerySchema.parse({ status: ['active'], limit: 20 });
 * ```
 */
export const listTenantsQuerySchema = z.strictObject({
  status: z.array(tenantStatusSchema).max(tenantStatuses.length).optional(),
  plan: planKeySchema.optional(),
  search: z.string().max(maxTenantSearchLength).optional(),
  limit: z.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1024).optional(),
});
