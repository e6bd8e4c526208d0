import type { Policy } from './policy-definition.js';
import { parsePolicyText } from './parse-policy-text.js';

/**
 * Parses and validates a policy written in YAML — the same checks as {@link definePolicy},
 * plus YAML's own traps: duplicate keys, several documents in one text, unknown tags, merge
 * keys (`<<`, an unknown key here) and alias bombs are all refused. Errors give the line and
 * column of the bad entry.
 *
 * @throws RbacError `POLICY_INVALID`.
 * @example
 * ```ts
 * const policy = parsePolicyYaml(`
 * roles:
 *   viewer:
 *     permissions: ['*:read', '*:list']
 *   editor:
 *     inherits: [viewer]
 *     permissions: ['docs:*', '!docs:delete']
 * plans:
 *   free: { permissions: ['docs:*'] }
 * `);
 * ```
 */
export function parsePolicyYaml(text: string): Policy {
  return parsePolicyText(text, 'yaml');
}

/**
 * Parses and validates a policy written in JSON: strict JSON, duplicate keys refused (where
 * `JSON.parse` would silently keep the last one), the same checks as {@link definePolicy}.
 *
 * @throws RbacError `POLICY_INVALID`.
 * @example
 * ```ts
 * const policy = parsePolicyJson('{"roles":{"viewer":{"permissions":["*:read"]}}}');
 * ```
 */
export function parsePolicyJson(text: string): Policy {
  return parsePolicyText(text, 'json');
}
