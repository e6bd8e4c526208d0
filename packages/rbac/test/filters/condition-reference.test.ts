import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResourceCondition } from '../../src/compiler/compiled-permissions.js';
import type { Condition } from '../../src/conditions/condition.js';
import { evaluateCondition } from '../../src/conditions/evaluate-condition.js';
import { evaluateReference, type FieldDomain, resourceConditionArbitrary } from './condition-reference.js';

/** Whether the engine's condition language can express it (no boolean leaves, no empty lists). */
function isEngineCondition(condition: ResourceCondition): boolean {
  if (typeof condition === 'boolean') return false;
  if ('not' in condition) return isEngineCondition(condition.not);
  if ('all' in condition) return condition.all.length > 0 && condition.all.every(isEngineCondition);
  if ('any' in condition) return condition.any.length > 0 && condition.any.every(isEngineCondition);
  return true;
}

describe('the reference evaluation of the filter tests', () => {
  it('agrees with the engine on every condition the engine can express', () => {
    const domains: FieldDomain[] = [
      { field: 'resource.owner', kind: 'string', values: ['a', 'b'] },
      { field: 'resource.level', kind: 'number', values: [0, 1, 2] },
      { field: 'resource.tags', kind: 'array', values: ['a', 'z'] },
      { field: 'resource.meta.flag', kind: 'boolean', values: [true, false] },
    ];
    const value = fc.oneof(fc.constantFrom('a', 'b', 0, 1, 2, true, false, null), fc.array(fc.constantFrom('a', 'b', null), { maxLength: 2 }));
    const resource = fc.record(
      { owner: value, level: value, tags: value, meta: fc.oneof(value, fc.record({ flag: value }, { requiredKeys: [] })) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(resourceConditionArbitrary(domains).filter(isEngineCondition), resource, (condition, attributes) => {
        const engine = evaluateCondition(condition as Condition, { principal: { id: 'usr_1' } as never, resource: attributes }).outcome;
        expect(evaluateReference(condition, attributes)).toBe(engine);
      }),
      { numRuns: 1000 },
    );
  });
});
