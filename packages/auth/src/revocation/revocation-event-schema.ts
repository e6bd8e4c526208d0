import { z } from 'zod';
import type { RevocationEvent } from '../store.js';

/** Ids are opaque to revocation; the bound only keeps garbage from growing the view. */
const revocationIdSchema = z.string().min(1).max(512);
const epochMsSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * The shape of a {@link RevocationEvent}, checked wherever one comes from outside the process
 * (a pub/sub message, `announce()` input): strict objects, so an unknown kind or an extra field
 * is refused rather than half-understood.
 *
 * @example
 * ```ts
 * revocationEventSchema.safeParse({ kind: 'jti', id: 'jti_1', until: 1767226500000 }).success; // true
 * ```
 */
export const revocationEventSchema: z.ZodType<RevocationEvent> = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('jti'), id: revocationIdSchema, until: epochMsSchema }),
  z.strictObject({ kind: z.literal('session'), id: revocationIdSchema, until: epochMsSchema }),
  z.strictObject({ kind: z.literal('user-epoch'), id: revocationIdSchema, epoch: epochMsSchema }),
  z.strictObject({ kind: z.literal('tenant-epoch'), id: revocationIdSchema, epoch: epochMsSchema }),
  z.strictObject({ kind: z.literal('api-key'), id: revocationIdSchema }),
  z.strictObject({ kind: z.literal('signing-key-retired'), id: revocationIdSchema }),
]);
