import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidTenantId } from '../../../src/identifiers.js';
import {
  assertTenantDatabaseName,
  defaultTenantDatabasePrefix,
  tenantDatabaseName,
} from '../../../src/isolation/database-per-tenant/tenant-database-name.js';

/** The inverse of the encoding, written from its documented rules: if it exists, names are injective. */
function decode(name: string, prefix: string): string {
  expect(name.startsWith(prefix)).toBe(true);
  let tenantId = '';
  const encoded = name.slice(prefix.length);
  for (let index = 0; index < encoded.length; index += 1) {
    const character = encoded[index]!;
    if (character !== '_') {
      tenantId += character;
      continue;
    }
    const escaped = encoded[++index];
    if (escaped === '_') tenantId += '_';
    else if (escaped === '0') tenantId += '-';
    else if (escaped !== undefined && escaped >= 'a' && escaped <= 'z') tenantId += escaped.toUpperCase();
    else throw new Error(`not a valid escape at ${index} in ${name}`);
  }
  return tenantId;
}

const tenantIdArbitrary = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

describe('tenantDatabaseName', () => {
  it('encodes tenant ids as documented', () => {
    expect(tenantDatabaseName('acme')).toBe('tenant_acme');
    expect(tenantDatabaseName('Acme-1')).toBe('tenant__acme_01');
    expect(tenantDatabaseName('tnt_42', { prefix: 'db_' })).toBe('db_tnt__42');
    expect(defaultTenantDatabasePrefix).toBe('tenant_');
  });

  it('keeps ids that differ only in case apart, in lower case', () => {
    const names = ['acme', 'Acme', 'ACME', 'aCmE'].map((tenantId) => tenantDatabaseName(tenantId));
    expect(new Set(names).size).toBe(4);
    for (const name of names) expect(name).toBe(name.toLowerCase());
  });

  it('is injective and decodable for every valid tenant id', () => {
    fc.assert(
      fc.property(tenantIdArbitrary, fc.constantFrom('tenant_', 'db_', 'x'), (tenantId, prefix) => {
        expect(isValidTenantId(tenantId)).toBe(true);
        const name = tenantDatabaseName(tenantId, { prefix, maxBytes: 255 });
        expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(decode(name, prefix)).toBe(tenantId);
      }),
      { numRuns: 2000 },
    );
  });

  it('never maps two different ids to one name', () => {
    fc.assert(
      fc.property(tenantIdArbitrary, tenantIdArbitrary, (first, second) => {
        fc.pre(first !== second);
        expect(tenantDatabaseName(first, { maxBytes: 255 })).not.toBe(tenantDatabaseName(second, { maxBytes: 255 }));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a name over the limit instead of truncating it', () => {
    expect(tenantDatabaseName('a'.repeat(56))).toHaveLength(63);
    expect(() => tenantDatabaseName('a'.repeat(57))).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    // Upper case and "_" take two characters each.
    expect(() => tenantDatabaseName('A'.repeat(30))).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    expect(tenantDatabaseName('a'.repeat(57), { maxBytes: 64 })).toHaveLength(64);
  });

  it('rejects invalid tenant ids, prefixes and limits with coded errors', () => {
    for (const tenantId of ['', '../x', 'a b', 'é', 'a'.repeat(65), null]) {
      expect(() => tenantDatabaseName(tenantId as string)).toThrowError(expect.objectContaining({ code: 'TENANT_IDENTIFIER_INVALID' }));
    }
    for (const prefix of ['', 'Tenant_', '1tenant', 'ten-ant', 'a'.repeat(33), 'tenant"']) {
      expect(() => tenantDatabaseName('acme', { prefix })).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    }
    for (const maxBytes of [0, 256, 1.5, Number.NaN]) {
      expect(() => tenantDatabaseName('acme', { maxBytes })).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    }
  });
});

describe('assertTenantDatabaseName', () => {
  it('accepts lower-case identifiers within the limit only', () => {
    expect(() => assertTenantDatabaseName('tenant_acme', 63)).not.toThrow();
    expect(() => assertTenantDatabaseName('_leading_underscore', 63)).not.toThrow();
    for (const name of ['Tenant', '1tenant', 'ten-ant', 'a"b', 'a`b', 'a;b', 'a b', '', 'ä', 42]) {
      expect(() => assertTenantDatabaseName(name, 63)).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    }
    expect(() => assertTenantDatabaseName('a'.repeat(64), 63)).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
