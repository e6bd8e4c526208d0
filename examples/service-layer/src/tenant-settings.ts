import { z } from 'zod';

/** The example's per-tenant settings; the registry validates every write against it. */
export const tenantSettingsSchema = z.strictObject({
  brandColor: z
    .string()
    .regex(/^#[0-9a-f]{6}$/i)
    .default('#4f46e5'),
  timezone: z.string().min(1).max(64).default('UTC'),
});

export type TenantSettings = z.infer<typeof tenantSettingsSchema>;
