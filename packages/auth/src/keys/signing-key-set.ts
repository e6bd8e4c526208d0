import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/**
 * The JWS algorithms auth signs and verifies with. Verification is pinned per key: a token is
 * checked only with the algorithm of the key its `kid` names, never the one its header asks for.
 *
 * @example
 * ```ts
 * const alg: SigningAlgorithm = 'EdDSA';
 * ```
 */
export type SigningAlgorithm = 'EdDSA' | 'ES256' | 'RS256' | 'HS256';

/**
 * One key of a {@link SigningKeySet}, as configuration gives it. Asymmetric keys take a private
 * key (KeyObject, PEM string or private JWK; the public half is derived); HS256 takes a secret of
 * at least 32 bytes.
 *
 * @example
 * ```ts
 * const key: SigningKeyInput = { kid: '2026-12', alg: 'EdDSA', privateKey: process.env.JWT_PRIVATE_KEY_PEM! };
 * ```
 */
export interface SigningKeyInput {
  /** Opaque key id, 1–128 printable ASCII characters; never interpreted as a path, URL or query. */
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey?: KeyObject | JWK | string;
  /** A verify-only key may give only its public key. */
  readonly publicKey?: KeyObject | JWK | string;
  readonly secret?: Uint8Array | string;
  /**
   * `active` (signs; exactly one), or `verify-only` (verifies until `verifyUntil`, epoch ms; no
   * `verifyUntil` = until retired).
   */
  readonly status?: 'active' | 'verify-only';
  readonly verifyUntil?: number;
}

/**
 * A public key as the keyset reports it (for JWKS, admin screens, logs). Never holds secret
 * material.
 *
 * @example
 * ```ts
 * keys.list(); // [{ kid: '2026-12', alg: 'EdDSA', status: 'active', verifyUntil: null }]
 * ```
 */
export interface SigningKeyInfo {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly status: 'active' | 'verify-only';
  readonly verifyUntil: number | null;
}

/**
 * The keys tokens are signed and verified with: one active key signs; older keys keep verifying
 * for a grace window after a rotation, then stop. Retiring a key (explicitly, or by its grace
 * window ending) flushes every cached verification made with it.
 *
 * @example
 * ```ts
 * const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: 'k1' })] });
 * await keys.rotate(await generateSigningKey({ kid: 'k2' }), { graceMs: 15 * 60_000 });
 * keys.jwks(); // { keys: [{ kid: 'k2', ... }, { kid: 'k1', ... }] }
 * ```
 */
export interface SigningKeySet {
  /** The kid new tokens are signed with. */
  readonly activeKid: string;
  /**
   * Makes `next` the active key; the previous active key verifies for `graceMs` more, then is
   * retired. @throws `CONFIGURATION_INVALID` for a bad key or a kid already in the set.
   */
  rotate(next: SigningKeyInput, options: { readonly graceMs: number }): Promise<void>;
  /** Stops accepting `kid` now (cannot retire the active key). @returns whether it was present. */
  retire(kid: string): boolean;
  /** Public JWKS of every key that still verifies (HS256 keys are never published). */
  jwks(): { readonly keys: readonly JWK[] };
  list(): readonly SigningKeyInfo[];
  /**
   * The verification key and pinned algorithm for `kid`, or `undefined` when the kid is unknown,
   * retired or past `verifyUntil` at the keyset's clock. Constant-time in the number of keys is
   * not required; treats `kid` as an opaque map key.
   */
  verificationKey(kid: string): { readonly alg: SigningAlgorithm; readonly key: KeyObject | Uint8Array } | undefined;
  /** The active signing key. */
  signingKey(): { readonly kid: string; readonly alg: SigningAlgorithm; readonly key: KeyObject | Uint8Array };
  /** Called with a kid when it stops verifying (retired or grace window over). @returns unsubscribe. */
  onRetired(listener: (kid: string) => void): () => void;
}
