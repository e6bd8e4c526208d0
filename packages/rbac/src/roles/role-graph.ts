import { RbacError } from '../errors.js';

/**
 * The part of a role the inheritance graph needs.
 *
 * @example
 * ```ts
 * const roles: ReadonlyMap<string, InheritingRole> = new Map([['admin', { inherits: ['editor'] }]]);
 * ```
 */
export interface InheritingRole {
  readonly inherits: readonly string[];
}

/**
 * One role reached by {@link inheritanceClosure}: its key and the chain of keys from the start
 * role down to it (`['admin', 'editor', 'viewer']`).
 *
 * @example
 * ```ts
 * const entry: InheritedRole = { key: 'viewer', chain: ['admin', 'viewer'] };
 * ```
 */
export interface InheritedRole {
  readonly key: string;
  readonly chain: readonly string[];
}


/**
 * Finds an inheritance cycle, returning its path with the first key repeated at the end
 * (`['a', 'b', 'c', 'a']`), or `null` when the graph is a DAG. Keys a role inherits that are
 * not in `roles` are ignored. Iterative, so deep chains cannot overflow the stack.
 *
 * @example
 * ```ts
 * findInheritanceCycle(new Map([['a', { inherits: ['b'] }], ['b', { inherits: ['a'] }]])); // ['a', 'b', 'a']
 * ```
 */
export function findInheritanceCycle(roles: ReadonlyMap<string, InheritingRole>): string[] | null {
  // 1 = on the current path, 2 = fully explored.
  const state = new Map<string, 1 | 2>();
  for (const start of roles.keys()) {
    if (state.has(start)) continue;
    const path: string[] = [start];
    const cursors: number[] = [0];
    state.set(start, 1);
    while (path.length > 0) {
      const top = path.length - 1;
      const key = path[top] as string;
      const inherits = roles.get(key)?.inherits ?? [];
      const cursor = cursors[top] as number;
      if (cursor >= inherits.length) {
        state.set(key, 2);
        path.pop();
        cursors.pop();
        continue;
      }
      cursors[top] = cursor + 1;
      const next = inherits[cursor] as string;
      if (!roles.has(next)) continue;
      const seen = state.get(next);
      if (seen === 1) return [...path.slice(path.indexOf(next)), next];
      if (seen === 2) continue;
      state.set(next, 1);
      path.push(next);
      cursors.push(0);
    }
  }
  return null;
}

/**
 * Throws when the roles' inheritance has a cycle.
 *
 * @throws `ROLE_INHERITANCE_CYCLE` with `details.cycle` (e.g. `['a', 'b', 'a']`).
 * @example
 * ```ts
 * assertAcyclic(new Map([...rolesByKey, [draft.key, draft]]));
 * ```
 */
export function assertAcyclic(roles: ReadonlyMap<string, InheritingRole>): void {
  const cycle = findInheritanceCycle(roles);
  if (cycle !== null) {
    throw new RbacError('ROLE_INHERITANCE_CYCLE', `Role inheritance has a cycle: ${cycle.join(' > ')}`, {
      details: { cycle },
    });
  }
}

/**
 * Every role `startKey` grants, itself first, breadth-first (so each chain is a shortest one).
 * A role reached twice (a diamond) is listed once; cycles cannot loop; inherited keys missing
 * from `roles` are skipped; an unknown `startKey` gives `[]`.
 *
 * @example
 * ```ts
 * inheritanceClosure(roles, 'admin').map((entry) => entry.key); // ['admin', 'editor', 'viewer']
 * ```
 */
export function inheritanceClosure(roles: ReadonlyMap<string, InheritingRole>, startKey: string): InheritedRole[] {
  if (!roles.has(startKey)) return [];
  const result: InheritedRole[] = [{ key: startKey, chain: [startKey] }];
  const visited = new Set<string>([startKey]);
  for (let index = 0; index < result.length; index += 1) {
    const entry = result[index] as InheritedRole;
    const inherits = roles.get(entry.key)?.inherits ?? [];
    for (const next of inherits) {
      if (visited.has(next) || !roles.has(next)) continue;
      visited.add(next);
      result.push({ key: next, chain: [...entry.chain, next] });
    }
  }
  return result;
}
