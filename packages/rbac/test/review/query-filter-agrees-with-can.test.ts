import { createManualClock } from '@tenantkit/core';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, ConditionContext, PermissionRuleInput, RbacPrincipal } from '../../src/index.js';
import { kyselyPermissionFilter } from '../../src/filters/kysely-permission-filter.js';
import { mongoPermissionFilter } from '../../src/filters/mongo-permission-filter.js';
import { compile, grant, role, rolesOf, START } from '../compiler/fixtures.js';
import { matchesMongoFilter } from '../filters/mongo-query-matcher.js';

/*
 * End-to-end differential property (review of issue 4): for random roles (inheritance, denies,
 * conditions, plan and scope ceilings), principals, contexts and rows, the rows a query filter
 * built from `compiled.queryConditions(p, context)` selects are rows `compiled.can(p, row, context)`
 * allows — whichever way a NULL column is read (a `null` value or a missing key) — and exactly
 * those rows when the row has no NULL. Values are of their column's type (the filters' documented
 * precondition).
 */

type Row = { id: number; owner: string | null; status: string | null; level: number | null; flag: boolean | null; tags: string[] | null };

const owners = ['a', 'b', 'ab', null] as const;
const statuses = ['draft', 'published', null] as const;
const levels = [0, 1, 2, null] as const;
const flags = [true, false, null] as const;
const tagLists: readonly (string[] | null)[] = [[], ['a'], ['a', 'b'], null, ['b']];

function allRows(): Row[] {
  const rows: Row[] = [];
  for (const owner of owners)
    for (const status of statuses)
      for (const level of levels)
        for (const flag of flags) {
          const id = rows.length + 1;
          rows.push({ id, owner, status, level, flag, tags: tagLists[id % tagLists.length] ?? null });
        }
  return rows;
}

const ROWS = allRows();

function resourceWithNulls(row: Row): Record<string, unknown> {
  const { id: _id, ...rest } = row;
  return rest;
}

function resourceWithoutNulls(row: Row): Record<string, unknown> {
  return Object.fromEntries(Object.entries(resourceWithNulls(row)).filter(([, value]) => value !== null));
}

function hasNull(row: Row): boolean {
  return Object.values(row).some((value) => value === null);
}

const str = fc.constantFrom('a', 'b', 'ab', 'c');
const num = fc.constantFrom(0, 1, 2, 5, -1);

const stringLeaf = (field: string): fc.Arbitrary<Condition> =>
  fc.oneof(
    fc.record({ field: fc.constant(field), op: fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte'), value: str }),
    fc.record({ field: fc.constant(field), op: fc.constantFrom('eq', 'ne'), value: fc.constantFrom<unknown>(null, { ref: 'principal.id' }, { ref: 'context.owner' }) }),
    fc.record({ field: fc.constant(field), op: fc.constantFrom('in', 'nin'), value: fc.oneof(fc.uniqueArray(str, { maxLength: 3 }), fc.constant({ ref: 'principal.attributes.owners' })) }),
    fc.record({ field: fc.constant(field), op: fc.constant('exists'), value: fc.boolean() }),
  ) as fc.Arbitrary<Condition>;

const leaf: fc.Arbitrary<Condition> = fc.oneof(
  stringLeaf('resource.owner'),
  stringLeaf('resource.status'),
  fc.record({ field: fc.constant('resource.level'), op: fc.constantFrom('eq', 'ne', 'lt', 'lte', 'gt', 'gte'), value: fc.oneof(num, fc.constantFrom({ ref: 'principal.attributes.level' }, { ref: 'context.level' })) }) as fc.Arbitrary<Condition>,
  fc.record({ field: fc.constant('resource.level'), op: fc.constantFrom('in', 'nin'), value: fc.uniqueArray(num, { maxLength: 3 }) }) as fc.Arbitrary<Condition>,
  fc.record({ field: fc.constant('resource.flag'), op: fc.constantFrom('eq', 'ne'), value: fc.boolean() }) as fc.Arbitrary<Condition>,
  fc.record({ field: fc.constant('resource.tags'), op: fc.constant('contains'), value: fc.constantFrom('a', 'b', 'z') }) as fc.Arbitrary<Condition>,
  fc.constant<Condition>({ self: 'resource.owner' }),
  fc.record({ field: fc.constant('principal.attributes.dept'), op: fc.constantFrom('eq', 'ne'), value: fc.constantFrom('eng', 'ops') }) as fc.Arbitrary<Condition>,
  fc.record({ field: fc.constant('context.ip'), op: fc.constantFrom('eq', 'ne', 'exists'), value: fc.constant('10.0.0.1') }).map((c) =>
    c.op === 'exists' ? { ...c, value: true } : c,
  ) as fc.Arbitrary<Condition>,
  fc.constantFrom<Condition>(
    { timeWindow: { notBefore: '2026-01-01T00:00:00Z' } },
    { timeWindow: { notAfter: '2026-01-01T00:00:00Z' } },
    { timeWindow: { daysOfWeek: [1] } },
    { timeWindow: { fromTime: '09:00', toTime: '11:00' } },
  ),
);

const condition: fc.Arbitrary<Condition> = fc.letrec<{ node: Condition }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true, maxDepth: 4 },
    leaf,
    fc.record({ not: tie('node') }),
    fc.record({ all: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('node'), { minLength: 1, maxLength: 3 }) }),
  ) as fc.Arbitrary<Condition>,
})).node;

const pattern = fc.oneof(
  { arbitrary: fc.constantFrom('docs:read', 'docs:*', '*', '*:read', 'docs'), weight: 4 },
  { arbitrary: fc.constantFrom('docs:read:own', 'docs:write', 'other:read', '*:*:own'), weight: 1 },
);

const rule: fc.Arbitrary<PermissionRuleInput> = fc.record(
  { permission: pattern, effect: fc.constantFrom('allow', 'allow', 'allow', 'deny' as const), condition },
  { requiredKeys: ['permission', 'effect'] },
);

const scenario = fc.record({
  roles: fc.array(fc.record({ rules: fc.array(rule, { minLength: 1, maxLength: 4 }), inherits: fc.array(fc.nat(3), { maxLength: 2 }) }), { minLength: 1, maxLength: 4 }),
  granted: fc.uniqueArray(fc.nat(3), { minLength: 1, maxLength: 3 }),
  planRules: fc.option(fc.array(rule, { minLength: 1, maxLength: 2 }), { nil: null, freq: 3 }),
  scopes: fc.option(fc.constantFrom(['docs:*'], ['*:read'], ['other:*'], ['docs:read:own']), { nil: undefined, freq: 2 }),
  principal: fc.record(
    {
      id: fc.constantFrom('a', 'b'),
      attributes: fc.record(
        { dept: fc.constantFrom('eng', 'ops'), owners: fc.uniqueArray(str, { maxLength: 2 }), level: num },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['id'] },
  ),
  // Time windows read the clock only (a `now` in the context is ignored, and generated anyway).
  clockAt: fc.constantFrom(START, START - 30 * 86_400_000, START + 86_400_000, START + 9 * 3_600_000),
  context: fc.option(
    fc.record(
      { owner: str, level: num, ip: fc.constantFrom('10.0.0.1', '10.0.0.2'), now: fc.constantFrom(START, START - 30 * 86_400_000, START + 86_400_000) },
      { requiredKeys: [] },
    ),
    { nil: undefined, freq: 4 },
  ),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function compileScenario(s: Scenario) {
  const defs = s.roles.map((r, index) =>
    role({
      key: `r${index}`,
      permissions: r.rules,
      // Only earlier roles: keeps the graph acyclic.
      inherits: [...new Set(r.inherits.filter((target) => target < index).map((target) => `r${target}`))],
    }),
  );
  const granted = s.granted.filter((index) => index < defs.length);
  const principal: RbacPrincipal = s.scopes === undefined ? s.principal : { ...s.principal, scopes: s.scopes };
  const planRules = s.planRules === null ? null : role({ key: 'plan', permissions: s.planRules }).rules;
  return compile(rolesOf(...defs), granted.map((index) => grant(`r${index}`)), { principal, planRules, clock: createManualClock(s.clockAt) });
}

const PERMISSION = 'docs:read';
const NUM_RUNS = 400;

describe('review: query filters never show a row can() hides', () => {
  let db: Kysely<any>;

  beforeAll(async () => {
    db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    await sql`create table docs (id integer primary key, owner text, status text, level integer, flag integer, tags text)`.execute(db);
    await db
      .insertInto('docs')
      .values(ROWS.map((row) => ({ ...row, flag: row.flag === null ? null : Number(row.flag), tags: row.tags === null ? null : JSON.stringify(row.tags) })))
      .execute();
  });

  afterAll(async () => {
    await db.destroy();
  });

  it('kyselyPermissionFilter on SQLite: selected ⊆ can(), equal on rows without NULLs', async () => {
    const options = {
      columns: { 'resource.owner': 'owner', 'resource.status': 'status', 'resource.level': 'level', 'resource.flag': 'flag', 'resource.tags': { column: 'tags', array: 'sqlite-json' as const } },
      booleans: 'integer' as const,
    };
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const compiled = compileScenario(s);
        const context = s.context as ConditionContext | undefined;
        const query = compiled.queryConditions(PERMISSION, context);
        const selected = new Set(
          (await db.selectFrom('docs').select('id').where(kyselyPermissionFilter(query, options)).execute()).map((row) => Number(row.id)),
        );
        for (const row of ROWS) {
          const withNulls = compiled.can(PERMISSION, resourceWithNulls(row), context);
          const withoutNulls = compiled.can(PERMISSION, resourceWithoutNulls(row), context);
          if (selected.has(row.id)) {
            expect({ row, query, withNulls, withoutNulls }).toMatchObject({ withNulls: true, withoutNulls: true });
          } else if (!hasNull(row)) {
            expect({ row, query, can: withNulls }).toMatchObject({ can: false });
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('mongoPermissionFilter (matcher model): matched ⊆ can(), equal on documents without nulls', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const compiled = compileScenario(s);
        const context = s.context as ConditionContext | undefined;
        const filter = mongoPermissionFilter(compiled.queryConditions(PERMISSION, context));
        for (const row of ROWS) {
          for (const document of [resourceWithNulls(row), resourceWithoutNulls(row)]) {
            const matched = matchesMongoFilter(document, filter);
            const allowed = compiled.can(PERMISSION, document, context);
            if (matched) expect({ document, filter, allowed }).toMatchObject({ allowed: true });
            else if (!hasNull(row)) expect({ document, filter, allowed }).toMatchObject({ allowed: false });
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  // Values of the wrong type (numeric strings as node-postgres returns numeric/bigint, NaN,
  // ±Infinity, arrays in scalar fields, scalars in array fields, objects): can() calls every
  // comparison on them unknown, and the Mongo filter must never select such a document.
  const confusions: readonly Record<string, unknown>[] = [
    { owner: 5 },
    { owner: ['a'] },
    { owner: { id: 'a' } },
    { status: ['draft'] },
    { level: '1' },
    { level: '2.0' },
    { level: Number.NaN },
    { level: Infinity },
    { level: -Infinity },
    { level: [1] },
    { flag: 'true' },
    { flag: 1 },
    { tags: 'a' },
    { tags: ['a', 5] },
    { tags: ['b', ['a']] },
    { tags: ['b', {}] },
  ];

  it('mongoPermissionFilter (matcher model): never matches a wrong-typed document can() refuses', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const compiled = compileScenario(s);
        const context = s.context as ConditionContext | undefined;
        const filter = mongoPermissionFilter(compiled.queryConditions(PERMISSION, context));
        for (const row of ROWS.slice(0, 48)) {
          for (const confusion of confusions) {
            const document = { ...resourceWithoutNulls(row), ...confusion };
            if (matchesMongoFilter(document, filter)) expect({ document, filter, allowed: compiled.can(PERMISSION, document, context) }).toMatchObject({ allowed: true });
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
