/**
 * The hash tag Redis Cluster hashes a key by: the text between the first `{` and the first
 * `}` after it, when that text is not empty; otherwise `undefined` (the whole key is hashed).
 *
 * @example
 * ```ts
 * hashTagOf('tk:rl:api:{acme}:u=1'); // 'acme'
 * hashTagOf('tk:rl:api:{}:u=1'); // undefined
 * ```
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return undefined;
  return key.slice(open + 1, close);
}

/**
 * Keys that Redis Cluster puts in one slot for sure: the same hash tag, or (without one) the
 * very same key.
 *
 * @example
 * ```ts
 * const group: HashTagGroup = { hashTag: 'acme', indexes: [0, 2] };
 * ```
 */
export interface HashTagGroup {
  /** `undefined` for a group of one untagged key. */
  readonly hashTag: string | undefined;
  /** Positions in the list given to {@link groupByHashTag}, ascending. */
  readonly indexes: readonly number[];
}

/**
 * Groups keys that one Lua script may touch together on a Redis Cluster (a script's keys must
 * share a slot). Groups come in the order of their first key, so the work is deterministic.
 *
 * @example
 * ```ts
 * groupByHashTag(['a:{acme}', 'b:{globex}', 'c:{acme}:u=1']);
 * // [{ hashTag: 'acme', indexes: [0, 2] }, { hashTag: 'globex', indexes: [1] }]
 * ```
 */
export function groupByHashTag(keys: readonly string[]): HashTagGroup[] {
  const groups = new Map<string, { hashTag: string | undefined; indexes: number[] }>();
  keys.forEach((key, index) => {
    const hashTag = hashTagOf(key);
    // A tag never holds a `}`, so an untagged key's id never meets a tag.
    const id = hashTag === undefined ? `}${key}` : hashTag;
    const group = groups.get(id);
    if (group === undefined) groups.set(id, { hashTag, indexes: [index] });
    else group.indexes.push(index);
  });
  return [...groups.values()];
}
