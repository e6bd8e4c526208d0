/**
 * Hashes and verifies passwords as PHC strings.
 *
 * @example
 * ```ts
 * const hasher = createScryptHasher();
 * const phc = await hasher.hash('correct horse battery staple');
 * await hasher.verify('correct horse battery staple', phc); // true
 * hasher.needsRehash(phc); // false until the parameters change
 * ```
 */
export interface PasswordHasher {
  /** @throws `VALIDATION_FAILED` for a non-string or a password over the hasher's byte cap. */
  hash(password: string): Promise<string>;
  /** Constant-time compare; `false` (never a throw) for a malformed or foreign PHC string. */
  verify(password: string, phc: string): Promise<boolean>;
  /** Whether `phc` was made with other parameters (or another algorithm) than the current ones. */
  needsRehash(phc: string): boolean;
  /**
   * Spends the same work as a real verify against a fixed dummy hash and returns `false`: the
   * login path for an unknown account, so timing does not reveal whether it exists.
   */
  verifyDummy(password: string): Promise<false>;
}
