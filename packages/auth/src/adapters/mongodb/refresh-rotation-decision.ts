import type { RefreshFamilyRecord, RefreshTokenRecord } from '../../store.js';

/**
 * What a refresh must do, decided from the presented token and its family as read:
 *
 * - `invalid`: unknown or expired token, missing, revoked or ended family;
 * - `grace`: rotated less than `graceMs` ago, answer with its `successorSealed`;
 * - `reuse`: rotated longer ago, revoke the family;
 * - `rotate`: current, mark it and store `next`;
 * - `mismatch`: current, but `next` is not its successor (another family or generation) — a bug
 *   in the caller, not a client's doing.
 *
 * @example
 * ```ts
 * const step: RefreshRotationStep = { step: 'grace', successorSealed: 'sealed...' };
 * ```
 */
export type RefreshRotationStep =
  | { readonly step: 'invalid' }
  | { readonly step: 'grace'; readonly successorSealed: string | null }
  | { readonly step: 'reuse' }
  | { readonly step: 'rotate' }
  | { readonly step: 'mismatch' };

/**
 * Decides a refresh as the contract's `RefreshRotateOutcome` describes, in the memory store's
 * order (expired or dead family first, then rotated, then the successor check). Pure: the
 * MongoDB store reads the two documents, decides with this, and then writes through filters that
 * re-check what the decision assumed (the token still current for `rotate`, the family still
 * live for `reuse`).
 *
 * @example
 * ```ts
 * decideRefreshRotation(token, family, { next, now, graceMs: 10_000 }); // { step: 'rotate' }
 * ```
 */
export function decideRefreshRotation(
  presented: RefreshTokenRecord | null,
  family: RefreshFamilyRecord | null,
  input: { readonly next: RefreshTokenRecord; readonly now: number; readonly graceMs: number },
): RefreshRotationStep {
  const { next, now, graceMs } = input;
  if (presented === null || family === null || family.id !== presented.familyId) return { step: 'invalid' };
  if (presented.expiresAt <= now || family.revokedAt !== null || family.expiresAt <= now) return { step: 'invalid' };
  if (presented.rotatedAt !== null) {
    return now - presented.rotatedAt < graceMs ? { step: 'grace', successorSealed: presented.successorSealed } : { step: 'reuse' };
  }
  if (next.familyId !== presented.familyId || next.generation !== presented.generation + 1) return { step: 'mismatch' };
  return { step: 'rotate' };
}
