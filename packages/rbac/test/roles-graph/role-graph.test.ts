import { describe, expect, it } from 'vitest';
import { assertAcyclic, findInheritanceCycle, inheritanceClosure, RbacError } from '../../src/index.js';

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges).map(([key, inherits]) => [key, { inherits }]));

describe('findInheritanceCycle', () => {
  it('returns null for a DAG, including diamonds', () => {
    expect(findInheritanceCycle(graph({ admin: ['editor', 'auditor'], editor: ['viewer'], auditor: ['viewer'], viewer: [] }))).toBeNull();
    expect(findInheritanceCycle(graph({}))).toBeNull();
  });

  it('finds a self-loop', () => {
    expect(findInheritanceCycle(graph({ a: ['a'] }))).toEqual(['a', 'a']);
  });

  it('finds a two- and a three-role cycle with its path', () => {
    expect(findInheritanceCycle(graph({ a: ['b'], b: ['a'] }))).toEqual(['a', 'b', 'a']);
    expect(findInheritanceCycle(graph({ root: ['a'], a: ['b'], b: ['c'], c: ['a'] }))).toEqual(['a', 'b', 'c', 'a']);
  });

  it('finds a cycle reachable only past a diamond', () => {
    const cycle = findInheritanceCycle(graph({ top: ['l', 'r'], l: ['bottom'], r: ['bottom'], bottom: ['x'], x: ['r'] }));
    expect(cycle).toEqual(['bottom', 'x', 'r', 'bottom']);
  });

  it('ignores keys that are not in the map', () => {
    expect(findInheritanceCycle(graph({ a: ['ghost'], b: ['a'] }))).toBeNull();
  });

  it('handles a very deep chain without overflowing the stack', () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 50_000; i += 1) edges[`r${i}`] = i < 49_999 ? [`r${i + 1}`] : [];
    expect(findInheritanceCycle(graph(edges))).toBeNull();
    edges['r49999'] = ['r0'];
    expect(findInheritanceCycle(graph(edges))).toHaveLength(50_001);
  });
});

describe('assertAcyclic', () => {
  it('throws ROLE_INHERITANCE_CYCLE with details.cycle', () => {
    try {
      assertAcyclic(graph({ a: ['b'], b: ['c'], c: ['a'] }));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RbacError);
      expect((err as RbacError).code).toBe('ROLE_INHERITANCE_CYCLE');
      expect((err as RbacError).details).toEqual({ cycle: ['a', 'b', 'c', 'a'] });
    }
  });

  it('passes a DAG', () => {
    expect(() => assertAcyclic(graph({ a: ['b'], b: [] }))).not.toThrow();
  });
});

describe('inheritanceClosure', () => {
  it('walks breadth-first with the chain to each role, visiting a diamond once', () => {
    const closure = inheritanceClosure(graph({ admin: ['editor', 'auditor'], editor: ['viewer'], auditor: ['viewer'], viewer: [] }), 'admin');
    expect(closure).toEqual([
      { key: 'admin', chain: ['admin'] },
      { key: 'editor', chain: ['admin', 'editor'] },
      { key: 'auditor', chain: ['admin', 'auditor'] },
      { key: 'viewer', chain: ['admin', 'editor', 'viewer'] },
    ]);
  });

  it('terminates on a cycle', () => {
    expect(inheritanceClosure(graph({ a: ['b'], b: ['a'] }), 'a').map((e) => e.key)).toEqual(['a', 'b']);
  });

  it('skips unknown inherited keys and gives [] for an unknown start', () => {
    expect(inheritanceClosure(graph({ a: ['ghost', 'b'], b: [] }), 'a').map((e) => e.key)).toEqual(['a', 'b']);
    expect(inheritanceClosure(graph({ a: [] }), 'ghost')).toEqual([]);
  });

  it('is not fooled by inherited Object.prototype names', () => {
    expect(inheritanceClosure(graph({ a: ['constructor', 'toString'] }), 'a').map((e) => e.key)).toEqual(['a']);
  });
});
