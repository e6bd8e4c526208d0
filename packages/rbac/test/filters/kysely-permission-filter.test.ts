import { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteDialect,
  sql,
} from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryConditions } from '../../src/compiler/compiled-permissions.js';
import { kyselyPermissionFilter } from '../../src/filters/kysely-permission-filter.js';
import { assertFilterMatchesReference, createFilterTestTable, filterTestRows, withJsonTags } from './kysely-filter-differential.js';

const compilerOnly = new Kysely<any>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

const columns = { 'resource.ownerId': 'docs.owner_id', 'resource.status': 'status', 'resource.tags': { column: 'tags', array: 'postgres-array' } } as const;

function compileWhere(query: QueryConditions, options: Parameters<typeof kyselyPermissionFilter>[1] = { columns }) {
  const compiled = compilerOnly.selectFrom('docs').select('id').where(kyselyPermissionFilter(query, options)).compile();
  return { sql: compiled.sql, parameters: compiled.parameters };
}

describe('kyselyPermissionFilter', () => {
  it('selects no row for none and every row for all', () => {
    expect(compileWhere({ kind: 'none' }).sql).toBe('select "id" from "docs" where 1 = 0');
    expect(compileWhere({ kind: 'all' }).sql).toBe('select "id" from "docs" where 1 = 1');
  });

  it('is OR of the allows AND every deny definitely false, with values bound as parameters', () => {
    const query: QueryConditions = {
      kind: 'some',
      allow: [
        { field: 'resource.ownerId', op: 'eq', value: "usr_1' or 1=1 --" },
        { field: 'resource.status', op: 'in', value: ['published', 'public'] },
      ],
      deny: [{ field: 'resource.status', op: 'eq', value: 'archived' }],
    };
    expect(compileWhere(query)).toEqual({
      sql: 'select "id" from "docs" where (("docs"."owner_id" = $1 or "status" in ($2, $3)) and "status" <> $4)',
      parameters: ["usr_1' or 1=1 --", 'published', 'public', 'archived'],
    });
  });

  it('requires a negated leaf to have a value: NULL never passes ne, nin or not', () => {
    const query: QueryConditions = {
      kind: 'some',
      allow: [{ not: { field: 'resource.status', op: 'nin', value: ['a'] } }, { field: 'resource.status', op: 'ne', value: null }],
      deny: [{ field: 'resource.ownerId', op: 'exists', value: false }],
    };
    expect(compileWhere(query).sql).toBe(
      'select "id" from "docs" where (("status" in ($1) or "status" is not null) and "docs"."owner_id" is not null)',
    );
  });

  it('turns an empty in-list into a constant instead of invalid SQL', () => {
    expect(compileWhere({ kind: 'some', allow: [{ field: 'resource.status', op: 'in', value: [] }], deny: [] }).sql).toBe(
      'select "id" from "docs" where 1 = 0',
    );
    expect(compileWhere({ kind: 'some', allow: [{ field: 'resource.status', op: 'nin', value: [] }], deny: [] }).sql).toBe(
      'select "id" from "docs" where "status" is not null',
    );
  });

  it('binds booleans as 1/0 when asked to (SQLite)', () => {
    const { parameters } = compileWhere(
      { kind: 'some', allow: [{ field: 'resource.status', op: 'in', value: [true, false, 'x'] }], deny: [] },
      { columns, booleans: 'integer' },
    );
    expect(parameters).toEqual([1, 0, 'x']);
  });

  it('refuses a field without a column with FILTER_UNSUPPORTED, even inside a branch that folds away', () => {
    const unmapped: QueryConditions = { kind: 'some', allow: [{ field: 'resource.secret', op: 'eq', value: 1 }], deny: [] };
    expect(() => kyselyPermissionFilter(unmapped, { columns })).toThrow(expect.objectContaining({ code: 'FILTER_UNSUPPORTED' }));
    const folded: QueryConditions = { kind: 'some', allow: [{ any: [true, { field: 'resource.secret', op: 'eq', value: 1 }] }], deny: [] };
    expect(() => kyselyPermissionFilter(folded, { columns })).toThrow(expect.objectContaining({ code: 'FILTER_UNSUPPORTED' }));
  });

  it('refuses contains on a scalar column, scalar operators on an array column, and contains null', () => {
    const containsScalar: QueryConditions = { kind: 'some', allow: [{ field: 'resource.status', op: 'contains', value: 'x' }], deny: [] };
    const eqArray: QueryConditions = { kind: 'some', allow: [{ field: 'resource.tags', op: 'eq', value: 'x' }], deny: [] };
    const containsNull: QueryConditions = { kind: 'some', allow: [{ field: 'resource.tags', op: 'contains', value: null }], deny: [] };
    for (const query of [containsScalar, eqArray, containsNull]) {
      expect(() => kyselyPermissionFilter(query, { columns })).toThrow(expect.objectContaining({ code: 'FILTER_UNSUPPORTED' }));
    }
  });

  it('refuses malformed conditions with CONDITION_INVALID', () => {
    const malformed: unknown[] = [
      { field: 'principal.id', op: 'eq', value: 'x' },
      { field: 'resource.__proto__', op: 'eq', value: 'x' },
      { field: 'resource.status', op: 'regex', value: '.*' },
      { field: 'resource.status', op: 'eq', value: { $ne: 1 } },
      { field: 'resource.status', op: 'eq', value: Number.NaN },
      { field: 'resource.status', op: 'in', value: 'x' },
      { all: [], any: [] },
      { field: 'resource.status', op: 'eq', value: 'x', extra: 1 },
    ];
    for (const condition of malformed) {
      const query = { kind: 'some', allow: [condition], deny: [] } as unknown as QueryConditions;
      expect(() => kyselyPermissionFilter(query, { columns })).toThrow(expect.objectContaining({ code: 'CONDITION_INVALID' }));
    }
    let deep: unknown = true;
    for (let level = 0; level < 100; level += 1) deep = { not: deep };
    expect(() => kyselyPermissionFilter({ kind: 'some', allow: [deep as never], deny: [] }, { columns })).toThrow(
      expect.objectContaining({ code: 'CONDITION_INVALID' }),
    );
  });

  it('refuses bad options with CONFIGURATION_INVALID', () => {
    const query: QueryConditions = { kind: 'all' };
    const bad: unknown[] = [undefined, {}, { columns: { 'resource.x': 'x; drop table docs' } }, { columns: { 'resource.x': { column: 'x', array: 'mysql-json' } } }, { columns: {}, booleans: 'text' }];
    for (const options of bad) {
      expect(() => kyselyPermissionFilter(query, options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    }
  });

  describe('matches the reference evaluation on SQLite', () => {
    let db: Kysely<any>;
    beforeAll(async () => {
      db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
      await createFilterTestTable(db, 'sqlite', withJsonTags(filterTestRows()));
    });
    afterAll(async () => {
      await db.destroy();
    });

    it('for random conditions', async () => {
      await assertFilterMatchesReference(db, 'sqlite', 400);
    });
  });

  describe('lifts a deny on contains only for JSON arrays of comparable elements without the value', () => {
    // What the in-memory check says for `tags contains value`, and so whether a deny on it is lifted.
    const stored: readonly [number, unknown][] = [
      [1, ['b']],
      [2, ['b', null]],
      [3, ['a', 'b']],
      [4, ['b', 5]],
      [5, ['b', ['a']]],
      [6, ['b', { a: 1 }]],
      [7, 'a'],
      [8, { a: 'a' }],
      [9, []],
    ];
    const cases: readonly [string | number | boolean, number[]][] = [
      ['a', [1, 2, 9]],
      [5, [9]],
      [true, [9]],
    ];
    const denyOn = (value: string | number | boolean): QueryConditions => ({
      kind: 'some',
      allow: [true],
      deny: [{ field: 'resource.tags', op: 'contains', value }],
    });

    it('on SQLite (json_each)', async () => {
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
      try {
        await sql`create table docs (id integer primary key, tags text)`.execute(db);
        await db.insertInto('docs').values(stored.map(([id, tags]) => ({ id, tags: JSON.stringify(tags) }))).execute();
        const options = { columns: { 'resource.tags': { column: 'tags', array: 'sqlite-json' as const } }, booleans: 'integer' as const };
        for (const [value, visible] of cases) {
          const rows = await db.selectFrom('docs').select('id').where(kyselyPermissionFilter(denyOn(value), options)).orderBy('id').execute();
          expect({ value, ids: rows.map((row) => Number(row.id)) }).toEqual({ value, ids: visible });
        }
      } finally {
        await db.destroy();
      }
    });

    it('on PGlite (jsonb)', async () => {
      const db = new Kysely<any>({ dialect: new PGliteDialect(new PGlite()) });
      try {
        await sql`create table docs (id integer primary key, tags jsonb)`.execute(db);
        await db.insertInto('docs').values(stored.map(([id, tags]) => ({ id, tags: JSON.stringify(tags) }))).execute();
        const options = { columns: { 'resource.tags': { column: 'tags', array: 'postgres-jsonb' as const } } };
        for (const [value, visible] of cases) {
          const rows = await db.selectFrom('docs').select('id').where(kyselyPermissionFilter(denyOn(value), options)).orderBy('id').execute();
          expect({ value, ids: rows.map((row) => Number(row.id)) }).toEqual({ value, ids: visible });
        }
      } finally {
        await db.destroy();
      }
    });
  });

  describe('matches the reference evaluation on PGlite', () => {
    let db: Kysely<any>;
    beforeAll(async () => {
      db = new Kysely<any>({ dialect: new PGliteDialect(new PGlite()) });
      await createFilterTestTable(db, 'postgres', filterTestRows());
    });
    afterAll(async () => {
      await db.destroy();
    });

    it('for random conditions', async () => {
      await assertFilterMatchesReference(db, 'postgres', 300);
    });
  });
});
