import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { PasswordHasher } from './password-hasher.js';
import {
  formatScryptPhc,
  parseScryptPhc,
  scryptLimits,
  scryptMaxMemory,
  scryptParametersWithinLimits,
  type ScryptParameters,
} from './scrypt-phc-string.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

/**
 * Options of {@link createScryptHasher}, validated when it is called (`CONFIGURATION_INVALID`).
 * The defaults are OWASP's scrypt recommendation (N = 2^17, r = 8, p = 1: 128 MiB and roughly
 * 100–200 ms per hash on a server core); lower costs are for tests only.
 *
 * @example
 * ```ts
 * const options: ScryptHasherOptions = { cost: 2 ** 17, blockSize: 8, parallelization: 1 };
 * ```
 */
export interface ScryptHasherOptions {
  /** N, a power of two from 2^1 to 2^20; default 2^17. */
  readonly cost?: number;
  /** r, 1–32; default 8. */
  readonly blockSize?: number;
  /** p, 1–16; default 1. */
  readonly parallelization?: number;
  /** Derived key bytes, 16–64; default 32. */
  readonly keyLength?: number;
  /** Random salt bytes, 16–64; default 16. */
  readonly saltLength?: number;
  /**
   * Longest password accepted, in UTF-8 bytes after NFKC normalization, 1–4096; default 1024.
   * Bounds the work one request can ask for (`hash` throws `VALIDATION_FAILED` above it,
   * `verify` returns `false`).
   */
  readonly maxPasswordBytes?: number;
  /**
   * The most scrypt computations this hasher runs at once (hash, verify and verifyDummy
   * alike), 1–1024; default 4 (libuv's default threadpool size, so hashing cannot take every
   * thread that fs, dns and other crypto work share). Further calls wait in line, first come
   * first served. This bounds scrypt's memory: at most `maxConcurrent × 128 · N · r` bytes
   * (default 4 × 128 MiB = 512 MiB), whatever the number of concurrent requests.
   */
  readonly maxConcurrent?: number;
}


const optionsSchema = z
  .strictObject({
    cost: z
      .int()
      .min(2)
      .max(2 ** scryptLimits.maxLogCost)
      .refine((cost) => (cost & (cost - 1)) === 0, 'must be a power of two')
      .default(2 ** 17),
    blockSize: z.int().min(1).max(scryptLimits.maxBlockSize).default(8),
    parallelization: z.int().min(1).max(scryptLimits.maxParallelization).default(1),
    keyLength: z.int().min(scryptLimits.minHashBytes).max(scryptLimits.maxHashBytes).default(32),
    saltLength: z.int().min(16).max(scryptLimits.maxSaltBytes).default(16),
    maxPasswordBytes: z.int().min(1).max(4096).default(1024),
    maxConcurrent: z.int().min(1).max(1024).default(4),
  })
  .refine(
    (options) => scryptParametersWithinLimits({ logCost: Math.log2(options.cost), blockSize: options.blockSize, parallelization: options.parallelization }),
    `cost · blockSize must stay within ${scryptLimits.maxMemoryBytes / 128} (256 MiB) and cost · blockSize · parallelization within ${scryptLimits.maxWork}`,
  );

function deriveKey(password: string, salt: Buffer, keyLength: number, parameters: ScryptParameters): Promise<Buffer> {
  const options: ScryptOptions = {
    N: 2 ** parameters.logCost,
    r: parameters.blockSize,
    p: parameters.parallelization,
    maxmem: scryptMaxMemory(parameters),
  };
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyLength, options, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}

/** Runs at most `limit` tasks at once; the others wait in line (FIFO). */
function concurrencyLimit(limit: number): <Value>(task: () => Promise<Value>) => Promise<Value> {
  let running = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next === undefined) running -= 1;
    else next(); // the slot passes straight to the next task
  };
  return async (task) => {
    if (running < limit) running += 1;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      release();
    }
  };
}

/**
 * A {@link PasswordHasher} on node:crypto's scrypt, producing PHC strings
 * `$scrypt$ln=17,r=8,p=1$<salt>$<hash>` (standard base64 without padding).
 *
 * - Passwords are NFKC-normalized before hashing, so the same password typed on two keyboards
 *   (composed or decomposed accents, full-width digits) verifies.
 * - `verify` parses strictly and returns `false` for anything malformed, another algorithm, or
 *   parameters beyond ln 20 / 256 MiB / 8× the default work (a planted hash cannot DoS the
 *   server); the comparison is `timingSafeEqual`.
 * - `needsRehash` is true whenever ln, r, p, the salt length or the key length differ from the
 *   current options (and for anything unparsable).
 * - `verifyDummy` runs the same scrypt against a dummy hash made once, lazily, with the current
 *   parameters, for sign-ins to unknown accounts. Its first call computes that hash (one
 *   scrypt, the same work); later calls verify against it.
 * - At most `maxConcurrent` scrypt computations run at once (default 4); more calls queue, so a
 *   burst of requests costs time, not memory (at most `maxConcurrent × 128 · N · r` bytes).
 *
 * @example
 * ```ts
 * const hasher = createScryptHasher(); // N = 2^17, r = 8, p = 1
 * const phc = await hasher.hash('correct horse battery staple');
 * await hasher.verify('correct horse battery staple', phc); // true
 * const testHasher = createScryptHasher({ cost: 2 ** 10 }); // tests only
 * ```
 */
export function createScryptHasher(options: ScryptHasherOptions = {}): PasswordHasher {
  const settings = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createScryptHasher options');
  const current: ScryptParameters = {
    logCost: Math.log2(settings.cost),
    blockSize: settings.blockSize,
    parallelization: settings.parallelization,
  };
  let dummyPhc: Promise<string> | undefined;
  const limited = concurrencyLimit(settings.maxConcurrent);
  const derive = (password: string, salt: Buffer, keyLength: number, parameters: ScryptParameters) =>
    limited(() => deriveKey(password, salt, keyLength, parameters));

  /** The normalized password, or `undefined` when it is over the byte cap. */
  function normalize(password: unknown): string | undefined {
    if (typeof password !== 'string') {
      throw new AuthError('VALIDATION_FAILED', 'The password must be a string');
    }
    const normalized = password.normalize('NFKC');
    return Buffer.byteLength(normalized, 'utf8') > settings.maxPasswordBytes ? undefined : normalized;
  }

  async function hashNormalized(normalized: string): Promise<string> {
    const salt = randomBytes(settings.saltLength);
    const hash = await derive(normalized, salt, settings.keyLength, current);
    return formatScryptPhc({ ...current, salt, hash });
  }

  async function verifyNormalized(normalized: string, phc: string): Promise<boolean> {
    const parsed = parseScryptPhc(phc);
    if (parsed === undefined) return false;
    const derived = await derive(normalized, parsed.salt, parsed.hash.length, parsed);
    return timingSafeEqual(derived, parsed.hash);
  }

  return {
    async hash(password) {
      const normalized = normalize(password);
      if (normalized === undefined) {
        throw new AuthError('VALIDATION_FAILED', `The password is longer than ${settings.maxPasswordBytes} bytes`, {
          details: { maxPasswordBytes: settings.maxPasswordBytes },
        });
      }
      return hashNormalized(normalized);
    },

    async verify(password, phc) {
      const normalized = normalize(password);
      // A password over the cap was never hashed, so it matches nothing.
      if (normalized === undefined) return false;
      return verifyNormalized(normalized, phc);
    },

    needsRehash(phc) {
      const parsed = parseScryptPhc(phc);
      return (
        parsed === undefined ||
        parsed.logCost !== current.logCost ||
        parsed.blockSize !== current.blockSize ||
        parsed.parallelization !== current.parallelization ||
        parsed.salt.length !== settings.saltLength ||
        parsed.hash.length !== settings.keyLength
      );
    },

    async verifyDummy(password) {
      const normalized = normalize(password);
      if (normalized === undefined) return false;
      if (dummyPhc === undefined) {
        // The first call makes the dummy hash (of a random password, never of user input): one
        // scrypt, the same work as the verify later calls do.
        const made = hashNormalized(randomBytes(32).toString('base64url'));
        dummyPhc = made;
        made.catch(() => {
          if (dummyPhc === made) dummyPhc = undefined;
        });
        await made;
        return false;
      }
      await verifyNormalized(normalized, await dummyPhc);
      return false;
    },
  };
}
