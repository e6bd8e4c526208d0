import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { RbacError } from '../errors.js';
import type { Policy } from './policy-definition.js';
import { parsePolicyText } from './parse-policy-text.js';

/** Checked before reading, so pointing the loader at a huge file costs nothing. */
const MAX_POLICY_FILE_BYTES = 4 * 1_048_576;

const FORMATS: ReadonlyMap<string, 'yaml' | 'json'> = new Map([
  ['.yaml', 'yaml'],
  ['.yml', 'yaml'],
  ['.json', 'json'],
]);

/**
 * Reads a policy file (`.yaml`, `.yml` or `.json`, UTF-8) and validates it like
 * `parsePolicyYaml` / `parsePolicyJson`. Error messages start with the path and give the line
 * of the bad entry.
 *
 * @throws RbacError `CONFIGURATION_INVALID` when the file cannot be read or has another
 *   extension; `POLICY_INVALID` when its content is not a valid policy.
 * @example
 * ```ts
 * const policy = await loadPolicyFile(new URL('./rbac-policy.yaml', import.meta.url).pathname);
 * await syncPolicy(store, policy, { tenantId: tenant.id });
 * ```
 */
export async function loadPolicyFile(path: string): Promise<Policy> {
  if (typeof path !== 'string' || path === '') throw new RbacError('CONFIGURATION_INVALID', 'loadPolicyFile: path must be a non-empty string');
  const format = FORMATS.get(extname(path).toLowerCase());
  if (format === undefined) {
    throw new RbacError('CONFIGURATION_INVALID', `loadPolicyFile: ${path} is not a .yaml, .yml or .json file`);
  }
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new Error('not a regular file');
    if (info.size > MAX_POLICY_FILE_BYTES) {
      throw new RbacError('POLICY_INVALID', `Invalid policy: ${path}: larger than ${MAX_POLICY_FILE_BYTES} bytes`, { details: { source: path } });
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof RbacError) throw error;
    throw new RbacError('CONFIGURATION_INVALID', `loadPolicyFile: cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  // A byte order mark is an editor's doing, not part of the policy.
  return parsePolicyText(text.replace(/^\uFEFF/, ''), format, path);
}
