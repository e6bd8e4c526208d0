/**
 * The scrypt parameters of one PHC string (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`).
 *
 * @example
 * ```ts
 * const parameters: ScryptParameters = { logCost: 17, blockSize: 8, parallelization: 1 };
 * ```
 */
export interface ScryptParameters {
  /** log2 of the CPU/memory cost N. */
  readonly logCost: number;
  /** r. */
  readonly blockSize: number;
  /** p. */
  readonly parallelization: number;
}

/**
 * A parsed scrypt PHC string.
 *
 * @example
 * ```ts
 * const parsed: ScryptPhc | undefined = parseScryptPhc(phc);
 * ```
 */
export interface ScryptPhc extends ScryptParameters {
  readonly salt: Buffer;
  readonly hash: Buffer;
}

/**
 * The bounds every scrypt computation stays within, for our own options and for hashes read
 * from the store (imported from elsewhere, or written by an attacker with database access):
 * verifying a PHC string outside them returns `false` without computing anything, so a planted
 * `ln=30` cannot make one verify allocate gigabytes or run for minutes.
 */
export const scryptLimits = Object.freeze({
  maxLogCost: 20,
  maxBlockSize: 32,
  maxParallelization: 16,
  /** 128·N·r, the size of scrypt's V array: 256 MiB (the default parameters need 128 MiB). */
  maxMemoryBytes: 2 ** 28,
  /** N·r·p, proportional to the CPU time: 8 times the default parameters' 2^20. */
  maxWork: 2 ** 23,
  minSaltBytes: 8,
  maxSaltBytes: 64,
  minHashBytes: 16,
  maxHashBytes: 64,
});

/**
 * Whether the parameters stay within `scryptLimits`.
 *
 * @example
 * ```ts
 * scryptParametersWithinLimits({ logCost: 17, blockSize: 8, parallelization: 1 }); // true
 * ```
 */
export function scryptParametersWithinLimits(parameters: ScryptParameters): boolean {
  const { logCost, blockSize, parallelization } = parameters;
  if (!Number.isInteger(logCost) || logCost < 1 || logCost > scryptLimits.maxLogCost) return false;
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > scryptLimits.maxBlockSize) return false;
  if (!Number.isInteger(parallelization) || parallelization < 1 || parallelization > scryptLimits.maxParallelization) return false;
  const cost = 2 ** logCost;
  return 128 * cost * blockSize <= scryptLimits.maxMemoryBytes && cost * blockSize * parallelization <= scryptLimits.maxWork;
}

/**
 * The `maxmem` node:crypto needs for these parameters: OpenSSL refuses when
 * `128·r·(N + 2) + 128·r·p` exceeds it (node's default of 32 MiB is too small for N = 2^17, r = 8).
 *
 * @example
 * ```ts
 * scryptMaxMemory({ logCost: 17, blockSize: 8, parallelization: 1 }); // a little over 128 MiB
 * ```
 */
export function scryptMaxMemory(parameters: ScryptParameters): number {
  const { logCost, blockSize, parallelization } = parameters;
  return 128 * blockSize * (2 ** logCost + 2 + parallelization) + 64 * 1024;
}

// PHC strings use standard base64 without padding. Decoding with Buffer is lenient (it skips
// invalid characters), so the text must match the alphabet and re-encode to itself.
const B64 = '[A-Za-z0-9+/]+';
const DECIMAL = '(?:0|[1-9][0-9]{0,2})';
const SCRYPT_PHC = new RegExp(`^\\$scrypt\\$ln=(${DECIMAL}),r=(${DECIMAL}),p=(${DECIMAL})\\$(${B64})\\$(${B64})$`);

/**
 * Encodes bytes as PHC base64 (standard alphabet, no padding).
 *
 * @example
 * ```ts
 * encodePhcBase64(Buffer.from('salt')); // 'c2FsdA'
 * ```
 */
export function encodePhcBase64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

function decodePhcBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return encodePhcBase64(bytes) === text ? bytes : undefined;
}

/**
 * Formats a scrypt PHC string.
 *
 * @example
 * ```ts
 * formatScryptPhc({ logCost: 17, blockSize: 8, parallelization: 1, salt, hash }); // '$scrypt$ln=17,r=8,p=1$...$...'
 * ```
 */
export function formatScryptPhc(phc: ScryptPhc): string {
  return `$scrypt$ln=${phc.logCost},r=${phc.blockSize},p=${phc.parallelization}$${encodePhcBase64(phc.salt)}$${encodePhcBase64(phc.hash)}`;
}

/**
 * Parses a scrypt PHC string strictly: exactly `ln`, `r`, `p` in that order, decimal without
 * leading zeros, canonical unpadded base64, salt and hash lengths and parameters within
 * `scryptLimits`. Anything else (another algorithm, extra parameters, a version field,
 * absurd costs) is `undefined`.
 *
 * @example
 * ```ts
 * parseScryptPhc('$scrypt$ln=17,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$...'); // { logCost: 17, ... }
 * parseScryptPhc('$argon2id$v=19$m=65536,t=3,p=4$...'); // undefined
 * ```
 */
export function parseScryptPhc(phc: unknown): ScryptPhc | undefined {
  if (typeof phc !== 'string' || phc.length > 512) return undefined;
  const match = SCRYPT_PHC.exec(phc);
  if (match === null) return undefined;
  const parameters: ScryptParameters = {
    logCost: Number(match[1]),
    blockSize: Number(match[2]),
    parallelization: Number(match[3]),
  };
  if (!scryptParametersWithinLimits(parameters)) return undefined;
  const salt = decodePhcBase64(match[4]!);
  const hash = decodePhcBase64(match[5]!);
  if (salt === undefined || salt.length < scryptLimits.minSaltBytes || salt.length > scryptLimits.maxSaltBytes) return undefined;
  if (hash === undefined || hash.length < scryptLimits.minHashBytes || hash.length > scryptLimits.maxHashBytes) return undefined;
  return { ...parameters, salt, hash };
}
