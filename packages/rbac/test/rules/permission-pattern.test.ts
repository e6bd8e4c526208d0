import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assertConcretePermission,
  isConcretePermission,
  parsePermission,
  parsePermissionPattern,
  patternCovers,
  patternsOverlap,
  patternSubsumes,
  RbacError,
} from '../../src/index.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(RbacError);
    return (err as RbacError).code;
  }
  return undefined;
}

// The reference semantics, written as plainly as possible.
function referenceCovers(pattern: string, permission: string): boolean {
  const p = pattern.split(':');
  const q = permission.split(':');
  if (p.length > q.length) return false;
  return p.every((segment, index) => segment === '*' || segment === q[index]);
}

describe('parsePermissionPattern', () => {
  it.each(['*', 'docs', 'docs:*', '*:read', 'docs:read', 'docs:read:own', '*:*:*', 'a1:b_c-d:0x', 'x'.repeat(64) + ':y'])('accepts %s', (pattern) => {
    expect(parsePermissionPattern(pattern).source).toBe(pattern);
  });

  it('marks only the lone * as matching everything', () => {
    expect(parsePermissionPattern('*').matchesEverything).toBe(true);
    expect(parsePermissionPattern('*:*').matchesEverything).toBe(false);
  });

  it.each([
    ['', 'empty'],
    ['docs:', 'segment 2 is empty'],
    [':read', 'segment 1 is empty'],
    ['docs::read', 'segment 2 is empty'],
    ['doc*:read', 'mixes "*"'],
    ['docs:re*', 'mixes "*"'],
    ['**:read', 'mixes "*"'],
    ['Docs:read', 'a-z 0-9'],
    ['docs:read:own:extra', 'more than 3 segments'],
    ['-docs:read', 'starting with'],
    ['_docs:read', 'starting with'],
    ['docs read', 'a-z 0-9'],
    ['docs.read', 'a-z 0-9'],
    ['x'.repeat(65) + ':read', 'a-z 0-9'],
    ['!docs:read', 'a-z 0-9'],
    ['dócs:read', 'a-z 0-9'],
    ['docs:read\n', 'a-z 0-9'],
  ])('rejects %j with PERMISSION_INVALID (%s)', (pattern, message) => {
    expect(() => parsePermissionPattern(pattern)).toThrow(message);
    expect(codeOf(() => parsePermissionPattern(pattern))).toBe('PERMISSION_INVALID');
  });

  it.each([null, undefined, 42, {}, ['docs:read']])('rejects a non-string (%j)', (value) => {
    expect(codeOf(() => parsePermissionPattern(value))).toBe('PERMISSION_INVALID');
  });

  it('rejects an over-long pattern before splitting it', () => {
    expect(codeOf(() => parsePermissionPattern('a:'.repeat(10_000)))).toBe('PERMISSION_INVALID');
  });
});

describe('assertConcretePermission', () => {
  it.each(['docs:read', 'docs:read:own'])('accepts %s', (permission) => {
    expect(() => assertConcretePermission(permission)).not.toThrow();
    expect(isConcretePermission(permission)).toBe(true);
    expect(parsePermission(permission)).toEqual(permission.split(':'));
  });

  it.each([
    ['docs', 'at least resource:action'],
    ['*', 'at least resource:action'],
    ['docs:*', 'concrete'],
    ['*:read', 'concrete'],
    ['docs:read:*', 'concrete'],
    ['docs:read:own:x', 'more than 3'],
    ['', 'empty'],
    ['DOCS:read', 'a-z 0-9'],
    ['docs:', 'empty'],
  ])('rejects %j (%s)', (permission, message) => {
    expect(() => assertConcretePermission(permission)).toThrow(message);
    expect(codeOf(() => assertConcretePermission(permission))).toBe('PERMISSION_INVALID');
    expect(isConcretePermission(permission)).toBe(false);
  });
});

describe('patternCovers', () => {
  it.each([
    ['*', 'docs:read', true],
    ['*', 'docs:read:own', true],
    ['docs', 'docs:read', true],
    ['docs:*', 'docs:read', true],
    ['docs:*', 'docs:read:own', true],
    ['docs:read', 'docs:read:own', true],
    ['*:read', 'billing:read', true],
    ['*:read', 'billing:read:all', true],
    ['*:*:own', 'docs:read:own', true],
    ['docs:*:*', 'docs:read', false],
    ['docs:read:own', 'docs:read', false],
    ['doc:*', 'document:read', false],
    ['docs:*', 'documents:read', false],
    ['docs:re', 'docs:read', false],
    ['*:read', 'docs:readall', false],
    ['*:read', 'docs:write', false],
    ['docs:read:own', 'docs:read:owner', false],
    ['docs:*', 'billing:read', false],
  ])('%s covers %s: %s', (pattern, permission, expected) => {
    expect(patternCovers(pattern, permission)).toBe(expected);
  });

  it('rejects a wildcard in the checked permission', () => {
    expect(codeOf(() => patternCovers('*', 'docs:*'))).toBe('PERMISSION_INVALID');
  });

  const segment = fc.constantFrom('a', 'b', 'ab', 'doc', 'docs', 'document', 'read', 're', 'x-1', 'x_1');
  const patternArb = fc.array(fc.oneof(segment, fc.constant('*')), { minLength: 1, maxLength: 3 }).map((s) => s.join(':'));
  const permissionArb = fc.array(segment, { minLength: 2, maxLength: 3 }).map((s) => s.join(':'));

  it('agrees with a reference matcher on random patterns and permissions', () => {
    fc.assert(
      fc.property(patternArb, permissionArb, (pattern, permission) => {
        expect(patternCovers(pattern, permission)).toBe(referenceCovers(pattern, permission));
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets a wildcard match a prefix or cross a segment', () => {
    fc.assert(
      fc.property(segment, segment, segment, (a, b, action) => {
        fc.pre(a !== b);
        // `a:*` covers only permissions whose first segment is exactly `a`.
        expect(patternCovers(`${a}:*`, `${b}:${action}`)).toBe(false);
        expect(patternCovers(`${a}:*`, `${a}${b}:${action}`)).toBe(false);
        expect(patternCovers(`*:${a}`, `${action}:${b}`)).toBe(false);
      }),
    );
  });

  // Brute force over a small universe: subsumption and overlap must agree with the sets of
  // permissions the patterns cover.
  const universe: string[] = [];
  const names = ['a', 'b', 'c'];
  for (const x of names) for (const y of names) {
    universe.push(`${x}:${y}`);
    for (const z of names) universe.push(`${x}:${y}:${z}`);
  }
  const smallPattern = fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 1, maxLength: 3 }).map((s) => s.join(':'));

  it('patternSubsumes agrees with set inclusion', () => {
    fc.assert(
      fc.property(smallPattern, smallPattern, (general, specific) => {
        const inner = universe.filter((p) => referenceCovers(specific, p));
        const expected = inner.every((p) => referenceCovers(general, p));
        expect(patternSubsumes(general, specific)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('patternsOverlap agrees with set intersection', () => {
    fc.assert(
      fc.property(smallPattern, smallPattern, (a, b) => {
        const expected = universe.some((p) => referenceCovers(a, p) && referenceCovers(b, p));
        expect(patternsOverlap(a, b)).toBe(expected);
        expect(patternsOverlap(b, a)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['*', '*:*', true],
    ['*:*', '*', true],
    ['docs', 'docs:*', true],
    ['docs:*', 'docs', true],
    ['docs:*', 'docs:*:*', true],
    ['docs:*:*', 'docs:*', false],
    ['docs:read', 'docs:*', false],
    ['*:read', 'docs:read:own', true],
  ])('patternSubsumes(%s, %s) is %s', (general, specific, expected) => {
    expect(patternSubsumes(general, specific)).toBe(expected);
  });
});
