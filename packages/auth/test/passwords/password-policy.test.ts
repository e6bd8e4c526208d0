import { describe, expect, it } from 'vitest';
import { createPasswordPolicy, defaultPasswordPolicyRules } from '@tenantkit/auth';

const policy = createPasswordPolicy();
/** `length` code points without a short repeated unit (which would count as common). */
const varied = (length: number) => Array.from({ length }, (_, index) => String.fromCharCode(97 + ((index * 7) % 26))).join('');
const emoji = (length: number) => Array.from({ length }, (_, index) => String.fromCodePoint(0x1f600 + index)).join('');
const rulesOf = async (password: string, context: { tenantId: string | null; email?: string } = { tenantId: null }) =>
  (await policy.check(password, context)).map((violation) => violation.rule);

describe('defaultPasswordPolicyRules', () => {
  it('are 12 to 128 characters, no composition rule, the common-password list, a history of 5', async () => {
    expect(defaultPasswordPolicyRules).toEqual({ minLength: 12, maxLength: 128, minCharacterClasses: 0, blockCommonPasswords: true, historySize: 5 });
    expect(Object.isFrozen(defaultPasswordPolicyRules)).toBe(true);
    expect(await policy.rulesFor(null)).toEqual(defaultPasswordPolicyRules);
  });
});

describe('createPasswordPolicy: length', () => {
  it('refuses fewer than minLength and more than maxLength code points', async () => {
    expect(await rulesOf('vivid otter')).toEqual(['min-length']); // 11
    expect(await rulesOf('vivid otters')).toEqual([]); // 12
    expect(await rulesOf(varied(128))).toEqual([]);
    expect(await rulesOf(varied(129))).toEqual(['max-length']);
  });

  it('counts code points after NFKC, not UTF-16 units', async () => {
    expect(await rulesOf(emoji(11))).toEqual(['min-length']); // 22 UTF-16 units, 11 code points
    expect(await rulesOf(emoji(12))).toEqual([]);
    // 'e' + combining acute composes to one code point under NFKC: 11 code points, not 13.
    expect(await rulesOf('e\u0301vwxyze\u0301abcd')).toEqual(['min-length']);
  });
});

describe('createPasswordPolicy: common passwords', () => {
  it.each(['password', 'Password123!', 'PASSWORD2024', 'qwertyuiop', 'QwertyUiop!!!', '123456789012', '!!Password!!', 'iloveyou1234', 'Monkey123456', 'passw0rd', 'abcabcabcabc', 'zzzzzzzzzzzzzz'])(
    'refuses %s (case-insensitive, trailing and leading digits and symbols removed)',
    async (password) => {
      expect(await rulesOf(password)).toContain('common-password');
    },
  );

  it('accepts long uncommon passphrases, and common words inside them', async () => {
    expect(await rulesOf('correct horse battery staple')).toEqual([]);
    expect(await rulesOf('my password is long enough')).toEqual([]);
    expect(await rulesOf('dragonfly-orchestra-42')).toEqual([]);
  });

  it('blockCommonPasswords: false turns the built-in list off; blocklist adds words, matched the same way', async () => {
    const lax = createPasswordPolicy({ rules: { blockCommonPasswords: false, minLength: 8 } });
    expect(await lax.check('password', { tenantId: null })).toEqual([]);
    const branded = createPasswordPolicy({ rules: { blocklist: ['Acme', 'acmecorp'] } });
    for (const password of ['ACMECORP2024', 'acme12345678', '#1Acme!!!!!!']) {
      expect((await branded.check(password, { tenantId: null })).map((violation) => violation.rule)).toEqual(['common-password']);
    }
    expect(await branded.check('acme rocket builders', { tenantId: null })).toEqual([]);
  });
});

describe('createPasswordPolicy: character classes', () => {
  it('requires minCharacterClasses of lowercase, uppercase, digits and symbols', async () => {
    const strict = createPasswordPolicy({ rules: { minCharacterClasses: 3 } });
    const rules = async (password: string) => (await strict.check(password, { tenantId: null })).map((violation) => violation.rule);
    expect(await rules('vividotterparade')).toEqual(['character-classes']);
    expect(await rules('vividotterParade1')).toEqual([]);
    expect(await rules('vivid otter parade1')).toEqual([]);
    expect(await rules('VIVID OTTER PARADE')).toEqual(['character-classes']);
    expect(await rules('\u5bc6\u7801\u5f88\u957f\u5f88\u957f\u5f88\u957f\u5f88\u957f\u5f88\u957f 9')).toEqual([]);
  });
});

describe('createPasswordPolicy: context words', () => {
  it('refuses a password containing the email local part (4 characters or more) or its parts', async () => {
    const email = 'alice.smith+news@example.com';
    expect(await rulesOf('my alice.smith secret', { tenantId: null, email })).toEqual(['contains-context']);
    expect(await rulesOf('ALICE in wonderland 7', { tenantId: null, email })).toEqual(['contains-context']);
    expect(await rulesOf('agent smith returns', { tenantId: null, email })).toEqual(['contains-context']);
    expect(await rulesOf('unrelated passphrase', { tenantId: null, email })).toEqual([]);
    // Shorter local parts are not context words.
    expect(await rulesOf('bob the builder fixes', { tenantId: null, email: 'bob@example.com' })).toEqual([]);
  });
});

describe('createPasswordPolicy: check and assert', () => {
  it('check lists every violation; assert throws PASSWORD_POLICY_VIOLATION with details.violations', async () => {
    const strict = createPasswordPolicy({ rules: { minCharacterClasses: 2 } });
    const violations = await strict.check('dragon', { tenantId: null, email: 'dragon@example.com' });
    expect(violations.map((violation) => violation.rule)).toEqual(['min-length', 'character-classes', 'common-password', 'contains-context']);
    expect(violations.every((violation) => violation.message.length > 0)).toBe(true);
    await expect(strict.assert('dragon', { tenantId: null, email: 'dragon@example.com' })).rejects.toMatchObject({
      code: 'PASSWORD_POLICY_VIOLATION',
      status: 400,
      details: { violations },
    });
    expect(await strict.assert('vivid otter parade 9', { tenantId: null })).toMatchObject({ minLength: 12, minCharacterClasses: 2 });
  });

  it('refuses a non-string password or a bad context with VALIDATION_FAILED', async () => {
    await expect(policy.check(12345 as unknown as string, { tenantId: null })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(policy.check('vivid otter parade', { tenantId: 7 as unknown as string })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(policy.check('vivid otter parade', { tenantId: null, email: {} as string })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(policy.rulesFor('' as string)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('createPasswordPolicy: per-tenant overrides', () => {
  const tenantPolicy = createPasswordPolicy({
    rules: { blocklist: ['acme'] },
    tenantOverrides: async (tenantId) => {
      if (tenantId === 'tnt_bank') return { minLength: 16, minCharacterClasses: 3, blocklist: ['vault'] };
      if (tenantId === 'tnt_short') return { minLength: 8 };
      if (tenantId === 'tnt_weak') return { minLength: 6 };
      if (tenantId === 'tnt_inverted') return { minLength: 40, maxLength: 30 };
      if (tenantId === 'tnt_typo') return { minlength: 20 } as never;
      if (tenantId === 'tnt_code') return { minLength: (() => 20) as never };
      return undefined;
    },
  });

  it('merges a tenant override over the rules; blocklists add up', async () => {
    expect(await tenantPolicy.rulesFor('tnt_bank')).toEqual({ ...defaultPasswordPolicyRules, minLength: 16, minCharacterClasses: 3, blocklist: ['acme', 'vault'] });
    expect(await tenantPolicy.rulesFor('tnt_other')).toEqual({ ...defaultPasswordPolicyRules, blocklist: ['acme'] });
    expect(await tenantPolicy.rulesFor(null)).toEqual({ ...defaultPasswordPolicyRules, blocklist: ['acme'] });
    const bank = (password: string) => tenantPolicy.check(password, { tenantId: 'tnt_bank' });
    expect((await bank('vivid otter parade')).map((violation) => violation.rule)).toEqual(['character-classes']);
    expect((await bank('Vault!!!!!!!!!!!!')).map((violation) => violation.rule)).toEqual(['common-password']);
    expect((await bank('Acme1234567890!!')).map((violation) => violation.rule)).toEqual(['common-password']);
    expect(await bank('Vivid otter parade 9')).toEqual([]);
    expect(await tenantPolicy.check('vivid ot', { tenantId: 'tnt_short' })).toEqual([]);
  });

  it.each(['tnt_weak', 'tnt_inverted', 'tnt_typo', 'tnt_code'])('refuses the invalid override of %s with CONFIGURATION_INVALID', async (tenantId) => {
    await expect(tenantPolicy.rulesFor(tenantId)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(tenantPolicy.check('vivid otter parade', { tenantId })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });
});

describe('createPasswordPolicy: options', () => {
  it.each([
    ['minLength below 8', { rules: { minLength: 7 } }],
    ['minLength above maxLength', { rules: { minLength: 20, maxLength: 16 } }],
    ['maxLength above 256', { rules: { maxLength: 1000 } }],
    ['minCharacterClasses 5', { rules: { minCharacterClasses: 5 } }],
    ['historySize -1', { rules: { historySize: -1 } }],
    ['an unknown rule', { rules: { maxAgeDays: 90 } }],
    ['an unknown option', { rule: {} }],
    ['a tenantOverrides that is not a function', { tenantOverrides: { tnt_bank: { minLength: 16 } } }],
  ])('refuses %s with CONFIGURATION_INVALID', (_case, options) => {
    expect(() => createPasswordPolicy(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
