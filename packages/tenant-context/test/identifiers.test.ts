import { describe, expect, it } from 'vitest';
import { TenantContextError } from '../src/errors.js';
import {
  assertTenantId,
  assertTenantSlug,
  defaultReservedSlugs,
  isValidTenantId,
  isValidTenantSlug,
} from '../src/identifiers.js';

describe('isValidTenantSlug', () => {
  it.each(['a', '0', 'acme', 'acme-corp', 'a1-b2-c3', '123', 'a'.repeat(63), 'xy-z--z'])('accepts %j', (slug) => {
    expect(isValidTenantSlug(slug)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['upper case', 'Acme'],
    ['leading hyphen', '-acme'],
    ['trailing hyphen', 'acme-'],
    ['64 characters', 'a'.repeat(64)],
    ['underscore', 'ac_me'],
    ['dot', 'ac.me'],
    ['space', 'ac me'],
    ['punycode prefix', 'xn--bcher-kva'],
    ['hyphens at positions 3-4', 'ab--cd'],
    ['unicode', 'bücher'],
    ['trailing newline', 'acme\n'],
    ['path traversal', '../acme'],
  ])('refuses %s', (_label, slug) => {
    expect(isValidTenantSlug(slug)).toBe(false);
  });

  it.each([undefined, null, 42, {}, ['acme']])('refuses the non-string %j', (value) => {
    expect(isValidTenantSlug(value)).toBe(false);
  });
});

describe('isValidTenantId', () => {
  it.each(['t', 'tnt_01hx', 'A-b_C-9', 'x'.repeat(64)])('accepts %j', (id) => {
    expect(isValidTenantId(id)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'x'.repeat(65)],
    ['path traversal', '../etc'],
    ['slash', 'a/b'],
    ['dot', 'a.b'],
    ['space', 'a b'],
    ['SQL', "a' OR 1=1"],
    ['trailing newline', 'tnt_1\n'],
    ['unicode', 'tnt_ü'],
  ])('refuses %s', (_label, id) => {
    expect(isValidTenantId(id)).toBe(false);
  });

  it.each([undefined, null, 1, { id: 'x' }])('refuses the non-string %j', (value) => {
    expect(isValidTenantId(value)).toBe(false);
  });
});

describe('assertTenantSlug / assertTenantId', () => {
  it('pass valid values through without throwing', () => {
    expect(() => assertTenantSlug('acme')).not.toThrow();
    expect(() => assertTenantId('tnt_1')).not.toThrow();
  });

  it('throw TENANT_IDENTIFIER_INVALID (400) for invalid values', () => {
    for (const call of [() => assertTenantSlug('Acme'), () => assertTenantSlug(7), () => assertTenantId('../x'), () => assertTenantId(null)]) {
      let caught: unknown;
      try {
        call();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(TenantContextError);
      expect(caught).toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID', status: 400 });
    }
  });
});

describe('defaultReservedSlugs', () => {
  it('is frozen and lists common infrastructure names, all valid slugs', () => {
    expect(Object.isFrozen(defaultReservedSlugs)).toBe(true);
    expect(defaultReservedSlugs).toEqual(expect.arrayContaining(['www', 'api', 'admin', 'app']));
    for (const slug of defaultReservedSlugs) expect(isValidTenantSlug(slug)).toBe(true);
  });
});
