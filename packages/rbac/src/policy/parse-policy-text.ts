import { LineCounter, parseDocument, type Document } from 'yaml';
import { RbacError } from '../errors.js';
import { definePolicy } from './define-policy.js';
import type { Policy, PolicyDefinition } from './policy-definition.js';

/** Larger texts are refused before parsing: a policy is a config file, not a data set. */
const MAX_POLICY_TEXT_LENGTH = 1_048_576;
/**
 * How much alias expansion `toJS` allows (yaml counts expanded nodes per alias). Enough to
 * reuse a permission list a few times, far too little for a "billion laughs" document.
 */
const MAX_ALIAS_COUNT = 50;

function invalid(message: string, source: string | undefined, extra: Readonly<Record<string, unknown>> = {}, cause?: unknown): RbacError {
  const where = source === undefined ? '' : `${source}: `;
  return new RbacError('POLICY_INVALID', `Invalid policy: ${where}${message}`, {
    details: { ...(source === undefined ? {} : { source }), ...extra },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Adds the line and column of the entry a definePolicy error names, when the document has it. */
function withLocation(error: RbacError, document: Document, lineCounter: LineCounter, source: string | undefined): RbacError {
  const segments = error.details?.segments;
  if (!Array.isArray(segments)) return error;
  // Walk down while the path exists: an unknown key or a missing field points at its parent.
  let node: unknown;
  for (let length = segments.length; length >= 0 && node === undefined; length -= 1) {
    node = length === 0 ? document.contents : document.getIn(segments.slice(0, length), true);
  }
  const range = (node as { range?: unknown } | null | undefined)?.range;
  const offset = Array.isArray(range) && typeof range[0] === 'number' ? range[0] : undefined;
  if (offset === undefined && source === undefined) return error;
  const position = offset === undefined ? undefined : lineCounter.linePos(offset);
  const location = position === undefined ? '' : ` (line ${position.line}, column ${position.col})`;
  const prefix = source === undefined ? '' : `${source}: `;
  return new RbacError('POLICY_INVALID', `${prefix}${error.message}${location}`, {
    details: {
      ...error.details,
      ...(source === undefined ? {} : { source }),
      ...(position === undefined ? {} : { line: position.line, column: position.col }),
    },
    ...(error.cause === undefined ? {} : { cause: error.cause }),
  });
}

/**
 * Parses and validates a policy written as YAML or JSON (the engine behind `parsePolicyYaml`,
 * `parsePolicyJson` and `loadPolicyFile`). YAML 1.2 core schema: duplicate keys, several
 * documents, unknown tags and excessive aliasing are refused; JSON must also be strict JSON.
 * Errors carry the line and column of the bad entry.
 *
 * @throws RbacError `POLICY_INVALID`.
 * @example
 * ```ts
 * const policy = parsePolicyText(await readFile(path, 'utf8'), 'yaml', path);
 * ```
 */
export function parsePolicyText(text: string, format: 'yaml' | 'json', source?: string): Policy {
  if (typeof text !== 'string') throw invalid('the policy text must be a string', source);
  if (text.length > MAX_POLICY_TEXT_LENGTH) throw invalid(`larger than ${MAX_POLICY_TEXT_LENGTH} characters`, source);
  if (format === 'json') {
    try {
      JSON.parse(text);
    } catch (error) {
      throw invalid(`not valid JSON (${(error as Error).message})`, source, {}, error);
    }
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, {
    version: '1.2',
    schema: format === 'json' ? 'json' : 'core',
    merge: false,
    uniqueKeys: true,
    strict: true,
    prettyErrors: false,
    lineCounter,
  });
  const problem = document.errors[0] ?? document.warnings[0];
  if (problem !== undefined) {
    const position = problem.linePos?.[0] ?? lineCounter.linePos(problem.pos[0]);
    throw invalid(
      `${problem.message} (line ${position.line}, column ${position.col})`,
      source,
      { reason: problem.code, line: position.line, column: position.col },
      problem,
    );
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    throw invalid(`could not be read (${(error as Error).message})`, source, {}, error);
  }
  try {
    return definePolicy(data as PolicyDefinition);
  } catch (error) {
    if (error instanceof RbacError && error.code === 'POLICY_INVALID') throw withLocation(error, document, lineCounter, source);
    throw error;
  }
}
