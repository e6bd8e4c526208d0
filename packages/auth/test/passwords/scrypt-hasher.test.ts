import { describe, expect, it } from 'vitest';
import { createScryptHasher } from '@tenantkit/auth';

// Small costs keep the suite fast; one test below runs the default parameters.
const hasher = createScryptHasher({ cost: 2 ** 10 });
const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

describe('createScryptHasher: hashing and verifying', () => {
  it('produces a PHC string with the parameters, a 16-byte salt and a 32-byte hash', async () => {
    const phc = await hasher.hash('correct horse battery staple');
    expect(phc).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await hasher.verify('correct horse battery staple', phc)).toBe(true);
    expect(await hasher.verify('correct horse battery stapler', phc)).toBe(false);
    expect(await hasher.verify('', phc)).toBe(false);
  });

  it('salts every hash: the same password hashes differently each time', async () => {
    const [first, second] = await Promise.all([hasher.hash('same password'), hasher.hash('same password')]);
    expect(first).not.toBe(second);
    expect(first.split('$')[3]).not.toBe(second.split('$')[3]);
  });

  it('verifies the RFC 7914 test vector (pleaseletmein / SodiumChloride, N=16384, r=8, p=1)', async () => {
    const derived = Buffer.from(
      '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887',
      'hex',
    );
    const phc = `$scrypt$ln=14,r=8,p=1$${b64(Buffer.from('SodiumChloride'))}$${b64(derived)}`;
    expect(await hasher.verify('pleaseletmein', phc)).toBe(true);
    expect(await hasher.verify('pleaseletmeinn', phc)).toBe(false);
    // A foreign hash with other parameters verifies, and asks to be rehashed.
    expect(hasher.needsRehash(phc)).toBe(true);
  });

  it('normalizes with NFKC: composed and decomposed accents, full-width letters verify alike', async () => {
    const phc = await hasher.hash('caf\u00e9 na\u00efve passphrase');
    expect(await hasher.verify('cafe\u0301 nai\u0308ve passphrase', phc)).toBe(true);
    const fullWidth = await hasher.hash('\uff50\uff41\uff53\uff53\uff17'); // ｐａｓｓ７
    expect(await hasher.verify('pass7', fullWidth)).toBe(true);
  });

  it('checklist: maximum length enforced (1024 UTF-8 bytes after NFKC by default)', async () => {
    expect(await hasher.hash('a'.repeat(1024))).toMatch(/^\$scrypt\$/);
    await expect(hasher.hash('a'.repeat(1025))).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    // Counted in bytes: 512 two-byte characters fit, 513 do not.
    await hasher.hash('\u00e9'.repeat(512));
    await expect(hasher.hash('\u00e9'.repeat(513))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    // After normalization: U+FDFA expands to 18 characters (33 bytes) under NFKC.
    await expect(hasher.hash('\ufdfa'.repeat(32))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const small = createScryptHasher({ cost: 2 ** 10, maxPasswordBytes: 16 });
    const phc = await small.hash('a'.repeat(16));
    // An over-long password was never hashed: verify says no without hashing it.
    expect(await small.verify('a'.repeat(17), phc)).toBe(false);
    expect(await small.verifyDummy('a'.repeat(17))).toBe(false);
  });

  it('refuses a non-string password with VALIDATION_FAILED', async () => {
    await expect(hasher.hash(undefined as unknown as string)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(hasher.verify(42 as unknown as string, '$scrypt$')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('hashes and verifies at the default cost (ln=17, r=8, p=1)', async () => {
    const production = createScryptHasher();
    const phc = await production.hash('correct horse battery staple');
    expect(phc).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$/);
    expect(await production.verify('correct horse battery staple', phc)).toBe(true);
    expect(production.needsRehash(phc)).toBe(false);
  });
});

describe('createScryptHasher: strict parsing of stored hashes', () => {
  const salt = b64(Buffer.alloc(16, 1));
  const hash = b64(Buffer.alloc(32, 2));

  it.each([
    ['empty', ''],
    ['not a PHC string', 'hunter2'],
    ['argon2id', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'],
    ['bcrypt', '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW'],
    ['an unknown parameter', `$scrypt$ln=10,r=8,p=1,x=1$${salt}$${hash}`],
    ['a version field', `$scrypt$v=1$ln=10,r=8,p=1$${salt}$${hash}`],
    ['parameters out of order', `$scrypt$r=8,ln=10,p=1$${salt}$${hash}`],
    ['a missing parameter', `$scrypt$ln=10,r=8$${salt}$${hash}`],
    ['a leading zero', `$scrypt$ln=010,r=8,p=1$${salt}$${hash}`],
    ['a negative cost', `$scrypt$ln=-1,r=8,p=1$${salt}$${hash}`],
    ['base64 padding', `$scrypt$ln=10,r=8,p=1$${salt}==$${hash}`],
    ['base64url characters', `$scrypt$ln=10,r=8,p=1$${salt.replace(/[+/]/g, '-')}_$${hash}`],
    // 16 bytes take 22 characters whose last 4 bits must be zero: 'Q' -> 'R' sets one.
    ['non-canonical base64', `$scrypt$ln=10,r=8,p=1$${salt.slice(0, -1)}R$${hash}`],
    ['a too-short salt', `$scrypt$ln=10,r=8,p=1$${b64(Buffer.alloc(4))}$${hash}`],
    ['a too-short hash', `$scrypt$ln=10,r=8,p=1$${salt}$${b64(Buffer.alloc(8))}`],
    ['a missing hash', `$scrypt$ln=10,r=8,p=1$${salt}`],
    ['trailing text', `$scrypt$ln=10,r=8,p=1$${salt}$${hash}$`],
    ['ln above the cap of 20', `$scrypt$ln=21,r=8,p=1$${salt}$${hash}`],
    ['an absurd ln (a DoS attempt)', `$scrypt$ln=60,r=8,p=1$${salt}$${hash}`],
    ['an absurd r', `$scrypt$ln=10,r=999,p=1$${salt}$${hash}`],
    ['an absurd p', `$scrypt$ln=10,r=8,p=999$${salt}$${hash}`],
    ['1 GiB of memory (ln=20, r=8)', `$scrypt$ln=20,r=8,p=1$${salt}$${hash}`],
    ['too much work (ln=17, r=8, p=16)', `$scrypt$ln=17,r=8,p=16$${salt}$${hash}`],
  ])('verify returns false (never throws, computes nothing) for %s', async (_case, phc) => {
    expect(await hasher.verify('password', phc)).toBe(false);
    expect(hasher.needsRehash(phc)).toBe(true);
  });

  it('verify returns false for a PHC that is not a string', async () => {
    for (const phc of [null, undefined, 42, {}, ['$scrypt$']]) {
      expect(await hasher.verify('password', phc as unknown as string)).toBe(false);
    }
  });
});

describe('createScryptHasher: needsRehash', () => {
  it('is false for the current parameters and true when any parameter differs', async () => {
    const phc = await hasher.hash('correct horse battery staple');
    expect(hasher.needsRehash(phc)).toBe(false);
    expect(createScryptHasher({ cost: 2 ** 11 }).needsRehash(phc)).toBe(true);
    expect(createScryptHasher({ cost: 2 ** 10, blockSize: 4 }).needsRehash(phc)).toBe(true);
    expect(createScryptHasher({ cost: 2 ** 10, parallelization: 2 }).needsRehash(phc)).toBe(true);
    expect(createScryptHasher({ cost: 2 ** 10, keyLength: 64 }).needsRehash(phc)).toBe(true);
    expect(createScryptHasher({ cost: 2 ** 10, saltLength: 32 }).needsRehash(phc)).toBe(true);
    expect(createScryptHasher({ cost: 2 ** 10, maxPasswordBytes: 64 }).needsRehash(phc)).toBe(false);
  });

  it('a hash made with old parameters still verifies under new ones (rehash on login)', async () => {
    const old = await createScryptHasher({ cost: 2 ** 11, blockSize: 4 }).hash('correct horse battery staple');
    expect(await hasher.verify('correct horse battery staple', old)).toBe(true);
    expect(hasher.needsRehash(old)).toBe(true);
    const rehashed = await hasher.hash('correct horse battery staple');
    expect(hasher.needsRehash(rehashed)).toBe(false);
  });
});

describe('createScryptHasher: verifyDummy', () => {
  it('always resolves false, on the first call (which makes the dummy hash) and later ones', async () => {
    const fresh = createScryptHasher({ cost: 2 ** 10 });
    const results = await Promise.all(['a', 'b', 'password', ''].map((password) => fresh.verifyDummy(password)));
    expect(results).toEqual([false, false, false, false]);
    expect(await fresh.verifyDummy('a')).toBe(false);
    await expect(fresh.verifyDummy(7 as unknown as string)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('createScryptHasher: options', () => {
  it.each([
    ['a cost that is not a power of two', { cost: 1000 }],
    ['a cost above 2^20', { cost: 2 ** 21 }],
    ['a cost of 1', { cost: 1 }],
    ['blockSize 0', { blockSize: 0 }],
    ['parallelization 17', { parallelization: 17 }],
    ['keyLength 8', { keyLength: 8 }],
    ['saltLength 8', { saltLength: 8 }],
    ['maxPasswordBytes 0', { maxPasswordBytes: 0 }],
    ['more than 256 MiB (cost 2^20, blockSize 8)', { cost: 2 ** 20, blockSize: 8 }],
    ['an unknown option', { iterations: 3 }],
    ['a string cost', { cost: '131072' }],
  ])('refuses %s with CONFIGURATION_INVALID', (_case, options) => {
    expect(() => createScryptHasher(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
