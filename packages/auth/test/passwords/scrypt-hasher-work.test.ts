import * as crypto from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';

// Records every scrypt call the hasher makes (parameters only), so the tests can show that an
// unknown account costs exactly the work of a known one, and that a refused hash costs none.
const calls: { N: number; r: number; p: number; keyLength: number; maxmem: number }[] = [];
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  return {
    ...actual,
    scrypt: (...args: Parameters<typeof actual.scrypt>) => {
      const [, , keyLength, options] = args as unknown as [unknown, unknown, number, crypto.ScryptOptions];
      calls.push({ N: options.N!, r: options.r!, p: options.p!, keyLength, maxmem: options.maxmem! });
      return (actual.scrypt as (...rest: unknown[]) => void)(...args);
    },
  };
});

const { createScryptHasher } = await import('@tenantkit/auth');

describe('checklist: same response and similar timing for unknown accounts (dummy hash)', () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it('verifyDummy runs one scrypt with the current parameters, exactly as verify of a real hash does', async () => {
    const hasher = createScryptHasher({ cost: 2 ** 11, blockSize: 4 });
    const phc = await hasher.hash('correct horse battery staple');
    calls.length = 0;

    expect(await hasher.verify('wrong password', phc)).toBe(false);
    const known = [...calls];
    calls.length = 0;
    // The first dummy call makes the dummy hash (one scrypt), later ones verify against it.
    expect(await hasher.verifyDummy('wrong password')).toBe(false);
    expect(await hasher.verifyDummy('wrong password')).toBe(false);
    expect(await hasher.verifyDummy('another guess')).toBe(false);

    expect(known).toEqual([expect.objectContaining({ N: 2 ** 11, r: 4, p: 1, keyLength: 32 })]);
    expect(calls).toEqual([known[0], known[0], known[0]]);
  });

  it('a refused stored hash (absurd cost, malformed) costs no scrypt at all', async () => {
    const hasher = createScryptHasher({ cost: 2 ** 10 });
    const salt = Buffer.alloc(16).toString('base64').replace(/=+$/, '');
    const hash = Buffer.alloc(32).toString('base64').replace(/=+$/, '');
    expect(await hasher.verify('password', `$scrypt$ln=40,r=8,p=1$${salt}$${hash}`)).toBe(false);
    expect(await hasher.verify('password', `$scrypt$ln=20,r=32,p=16$${salt}$${hash}`)).toBe(false);
    expect(await hasher.verify('password', 'not a hash')).toBe(false);
    expect(calls).toEqual([]);
  });

  it('passes maxmem computed from the parameters (the default 32 MiB would refuse N=2^17, r=8)', async () => {
    const hasher = createScryptHasher();
    await hasher.hash('correct horse battery staple');
    expect(calls).toEqual([expect.objectContaining({ N: 2 ** 17, r: 8, p: 1, keyLength: 32 })]);
    expect(calls[0]!.maxmem).toBeGreaterThan(128 * 2 ** 17 * 8);
    expect(calls[0]!.maxmem).toBeLessThan(2 * 128 * 2 ** 17 * 8);
  });
});
