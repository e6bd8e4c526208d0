import { createHash } from 'node:crypto';

/**
 * How many buckets a percentage rollout divides subjects into: 10,000, so percentages have
 * two decimals of resolution (12.34 % = buckets 0 to 1233).
 *
 * @example
 * ```ts
 * const inRollout = rolloutBucket('new-editor', tenant.id) < 25 * (rolloutBucketCount / 100);
 * ```
 */
export const rolloutBucketCount = 10_000;

/**
 * The stable rollout bucket (`0` to `9999`) of a subject for a flag: the first 32 bits of
 * SHA-256 over `` `${flag}:${subjectKey}` ``, modulo 10,000. SHA-256 is fixed by its
 * specification, so the bucket is the same in every process, platform and release; the flag
 * name is part of the input so one subject does not land early in every rollout at once.
 * A subject is in a rollout of `p` % when its bucket is below `p * 100`, so raising the
 * percentage only ever adds subjects.
 *
 * @example
 * ```ts
 * rolloutBucket('new-editor', 'tnt_acme'); // the same number forever
 * ```
 */
export function rolloutBucket(flag: string, subjectKey: string): number {
  const digest = createHash('sha256').update(`${flag}:${subjectKey}`, 'utf8').digest();
  // 2^32 mod 10,000 = 7,296, so the modulo bias is under 2e-6 per bucket: negligible.
  return digest.readUInt32BE(0) % rolloutBucketCount;
}
