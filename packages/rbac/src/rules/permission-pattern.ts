import { RbacError } from '../errors.js';

/**
 * A parsed permission pattern: its segments (`['docs', '*']`), with `matchesEverything` set for
 * the lone `*`.
 *
 * @example
 * ```ts
 * const pattern: PermissionPattern = parsePermissionPattern('docs:*');
 * pattern.segments; // ['docs', '*']
 * ```
 */
export interface PermissionPattern {
  readonly source: string;
  readonly segments: readonly string[];
  readonly matchesEverything: boolean;
}

const SEGMENT = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const NAME = '[a-z0-9][a-z0-9_-]{0,63}';
// One regex for the hot path of a check: two or three name segments, no wildcard.
const CONCRETE = new RegExp(`^${NAME}:${NAME}(?::${NAME})?$`);
const PATTERN = new RegExp(`^(?:${NAME}|\\*)(?::(?:${NAME}|\\*)){0,2}$`);
const MAX_PATTERN_LENGTH = 3 * 64 + 2;

function invalid(message: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : typeof value;
  throw new RbacError('PERMISSION_INVALID', `Invalid permission ${shown}: ${message}`, {
    details: { reason: message },
  });
}

function checkSegments(value: string, segments: readonly string[], allowWildcard: boolean): void {
  for (let index = 0; index < segments.length; index += 1) {
    const segment = segments[index] as string;
    if (segment === '*') {
      if (!allowWildcard) invalid('a checked permission must be concrete (no "*")', value);
      continue;
    }
    if (segment === '') invalid(`segment ${index + 1} is empty`, value);
    if (segment.includes('*')) invalid(`segment ${index + 1} ("${segment}") mixes "*" with other characters; a wildcard is a whole segment`, value);
    if (!SEGMENT.test(segment)) {
      invalid(`segment ${index + 1} must be 1-64 characters of a-z 0-9 _ - starting with a letter or digit, or "*"`, value);
    }
  }
}

/**
 * Parses and validates a permission pattern as roles, plans and scopes write it:
 * `resource[:action[:qualifier]]`, each segment `[a-z0-9][a-z0-9_-]{0,63}` or `*`. `*` alone
 * matches every permission; a shorter pattern covers every longer permission below it.
 *
 * @throws `PERMISSION_INVALID` naming the offending segment.
 * @example
 * ```ts
 * parsePermissionPattern('*:read').segments; // ['*', 'read']
 * parsePermissionPattern('doc*:read'); // throws PERMISSION_INVALID
 * ```
 */
export function parsePermissionPattern(pattern: unknown): PermissionPattern {
  if (typeof pattern === 'string' && PATTERN.test(pattern)) {
    // Fast path for the common, valid case (compiling 100k stored rules).
    const segments = pattern.split(':');
    return { source: pattern, segments, matchesEverything: pattern === '*' };
  }
  if (typeof pattern !== 'string') invalid('must be a string', pattern);
  if (pattern.length === 0) invalid('must not be empty', pattern);
  if (pattern.length > MAX_PATTERN_LENGTH) invalid(`must be at most ${MAX_PATTERN_LENGTH} characters`, pattern);
  const segments = pattern.split(':');
  if (segments.length > 3) invalid('has more than 3 segments (resource:action:qualifier)', pattern);
  checkSegments(pattern, segments, true);
  return { source: pattern, segments, matchesEverything: segments.length === 1 && segments[0] === '*' };
}

/**
 * Whether `permission` is a concrete permission a check may ask about: two or three name
 * segments, no `*`.
 *
 * @example
 * ```ts
 * isConcretePermission('docs:read:own'); // true
 * isConcretePermission('docs:*'); // false
 * ```
 */
export function isConcretePermission(permission: unknown): permission is string {
  return typeof permission === 'string' && CONCRETE.test(permission);
}

/**
 * Throws unless `permission` is concrete (`resource:action[:qualifier]`, no `*`).
 *
 * @throws `PERMISSION_INVALID` with a message saying what is wrong.
 * @example
 * ```ts
 * assertConcretePermission('invoices:approve'); // ok
 * assertConcretePermission('invoices'); // throws PERMISSION_INVALID
 * ```
 */
export function assertConcretePermission(permission: unknown): asserts permission is string {
  if (isConcretePermission(permission)) return;
  if (typeof permission !== 'string') invalid('must be a string', permission);
  if (permission.length === 0) invalid('must not be empty', permission);
  const segments = permission.split(':');
  if (segments.length < 2) invalid('a checked permission needs at least resource:action', permission);
  if (segments.length > 3) invalid('has more than 3 segments (resource:action:qualifier)', permission);
  checkSegments(permission, segments, false);
  invalid('is not a valid permission', permission);
}

/**
 * Splits a concrete permission into its segments after validating it.
 *
 * @throws `PERMISSION_INVALID`
 * @example
 * ```ts
 * parsePermission('docs:read:own'); // ['docs', 'read', 'own']
 * ```
 */
export function parsePermission(permission: unknown): readonly string[] {
  assertConcretePermission(permission);
  return permission.split(':');
}

function segmentsOf(value: string | PermissionPattern): readonly string[] {
  return typeof value === 'string' ? parsePermissionPattern(value).segments : value.segments;
}

// A checked permission has at least two segments, so `docs` means the same as `docs:*` and
// `*` the same as `*:*`; comparing patterns is simpler once both have two or three segments.
function widen(segments: readonly string[]): readonly string[] {
  return segments.length === 1 ? [segments[0] as string, '*'] : segments;
}

/**
 * Whether pattern segments cover permission segments: the pattern is not longer, and each of its
 * segments is `*` or equal to the permission's. Both arguments must already be valid.
 *
 * @example
 * ```ts
 * segmentsCover(['docs', '*'], ['docs', 'read', 'own']); // true
 * ```
 */
export function segmentsCover(pattern: readonly string[], permission: readonly string[]): boolean {
  if (pattern.length > permission.length) return false;
  for (let index = 0; index < pattern.length; index += 1) {
    const segment = pattern[index];
    if (segment !== '*' && segment !== permission[index]) return false;
  }
  return true;
}

/**
 * Whether `pattern` covers the concrete `permission`. A wildcard is a whole segment
 * (`doc:*` never matches `document:read`); a shorter pattern covers longer permissions
 * (`docs:read` covers `docs:read:own`), never the other way round.
 *
 * @throws `PERMISSION_INVALID` when either argument is invalid.
 * @example
 * ```ts
 * patternCovers('*:read', 'docs:read'); // true
 * patternCovers('docs:read:own', 'docs:read'); // false
 * ```
 */
export function patternCovers(pattern: string | PermissionPattern, permission: string): boolean {
  return segmentsCover(segmentsOf(pattern), parsePermission(permission));
}

/**
 * Whether every permission `specific` covers is also covered by `general`.
 *
 * @throws `PERMISSION_INVALID` when either pattern is invalid.
 * @example
 * ```ts
 * patternSubsumes('docs:*', 'docs:read'); // true
 * patternSubsumes('docs:read', 'docs:*'); // false
 * patternSubsumes('*', 'billing:*:*'); // true
 * ```
 */
export function patternSubsumes(general: string | PermissionPattern, specific: string | PermissionPattern): boolean {
  const outer = widen(segmentsOf(general));
  const inner = widen(segmentsOf(specific));
  // `docs:*:*` covers only three-segment permissions; `docs:*` also covers `docs:read`.
  if (outer.length > inner.length) return false;
  for (let index = 0; index < outer.length; index += 1) {
    const segment = outer[index];
    if (segment !== '*' && segment !== inner[index]) return false;
  }
  return true;
}

/**
 * Whether some concrete permission is covered by both patterns.
 *
 * @throws `PERMISSION_INVALID` when either pattern is invalid.
 * @example
 * ```ts
 * patternsOverlap('docs:*', '*:delete'); // true (docs:delete)
 * patternsOverlap('docs:read', 'docs:delete'); // false
 * ```
 */
export function patternsOverlap(a: string | PermissionPattern, b: string | PermissionPattern): boolean {
  const left = widen(segmentsOf(a));
  const right = widen(segmentsOf(b));
  const shared = Math.min(left.length, right.length);
  for (let index = 0; index < shared; index += 1) {
    const x = left[index];
    const y = right[index];
    if (x !== '*' && y !== '*' && x !== y) return false;
  }
  return true;
}
