import { describe, expect, it } from 'vitest';
import { principalCacheKey } from '../../src/authorizer/principal-identity.js';

// principalCacheKey remembers the key of a frozen principal object; the answer must stay the one
// a fresh computation gives.
describe('principalCacheKey memo of frozen principals', () => {
  it('gives a frozen principal the same key as an equal unfrozen one, per tenant', () => {
    const frozen = Object.freeze({ kind: 'user' as const, id: 'usr_1', scopes: Object.freeze(['docs:read']) });
    const plain = { kind: 'user' as const, id: 'usr_1', scopes: ['docs:read'] };
    expect(principalCacheKey('tnt_a', frozen)).toBe(principalCacheKey('tnt_a', plain));
    expect(principalCacheKey('tnt_a', frozen)).toBe(principalCacheKey('tnt_a', plain));
    // Another tenant after the memo: its own key, not the remembered one.
    expect(principalCacheKey('tnt_b', frozen)).toBe(principalCacheKey('tnt_b', plain));
    expect(principalCacheKey('tnt_b', frozen)).not.toBe(principalCacheKey('tnt_a', plain));
  });

  it('recomputes for a frozen principal whose scopes or attributes can still change', () => {
    const scopes = ['docs:read'];
    const principal = Object.freeze({ id: 'usr_1', scopes });
    const before = principalCacheKey('tnt_a', principal);
    scopes.push('docs:update');
    expect(principalCacheKey('tnt_a', principal)).not.toBe(before);

    const attributes = { dept: 'sales' };
    const withAttributes = Object.freeze({ id: 'usr_1', attributes });
    const first = principalCacheKey('tnt_a', withAttributes);
    attributes.dept = 'support';
    expect(principalCacheKey('tnt_a', withAttributes)).not.toBe(first);
  });

  it('recomputes for an unfrozen principal that changed', () => {
    const principal: { id: string; grantsFrom?: string | null } = { id: 'key_1' };
    const before = principalCacheKey('tnt_a', principal);
    principal.grantsFrom = 'usr_2';
    expect(principalCacheKey('tnt_a', principal)).not.toBe(before);
  });
});
