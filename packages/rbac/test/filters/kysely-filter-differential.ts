import fc from 'fast-check';
import { type Kysely, sql } from 'kysely';
import { expect } from 'vitest';
import { kyselyPermissionFilter, type KyselyPermissionFilterOptions } from '../../src/filters/kysely-permission-filter.js';
import { type FieldDomain, queryConditionsArbitrary, type ReferenceRow, referenceIds } from './condition-reference.js';

/*
 * The differential property shared by every dialect: random reduced conditions over a small
 * table full of NULLs select, through kyselyPermissionFilter, exactly the rows the reference
 * evaluation selects. The SQL reading of the reference treats every leaf over a NULL as unknown;
 * the test also checks that this reading never shows a row the in-memory reading (null as a
 * value, or the key left out) would hide.
 */

export type FilterDialect = 'postgres' | 'mysql' | 'sqlite';

const owners = ['a', 'b', 'B', 'ab', 'a ', '', null] as const;
const statuses = ['draft', 'published', null] as const;
const levels = [-1, 0, 1, 2, null] as const;
const flags = [true, false, null] as const;
const tagLists: readonly (readonly (string | null)[] | null)[] = [null, [], ['a'], ['a', 'b'], ['b', 'c'], ['a', null]];

/** Every combination of the scalar attributes, with tags cycling through the lists. */
export function filterTestRows(): ReferenceRow[] {
  const rows: ReferenceRow[] = [];
  for (const owner of owners) {
    for (const status of statuses) {
      for (const level of levels) {
        for (const flag of flags) {
          const id = rows.length + 1;
          rows.push({ id, owner, status, level, flag, tags: tagLists[id % tagLists.length] ?? null });
        }
      }
    }
  }
  return rows;
}

export function filterTestDomains(dialect: FilterDialect): FieldDomain[] {
  const domains: FieldDomain[] = [
    { field: 'resource.owner', kind: 'string', values: ['a', 'b', 'B', 'ab', 'a ', '', 'c'] },
    { field: 'resource.status', kind: 'string', values: ['draft', 'published', 'x'] },
    { field: 'resource.level', kind: 'number', values: [-1, 0, 1, 2, 5] },
    { field: 'resource.flag', kind: 'boolean', values: [true, false] },
  ];
  // MySQL/MariaDB refuse `contains`; Postgres has two array representations.
  if (dialect === 'sqlite' || dialect === 'postgres') domains.push({ field: 'resource.tags', kind: 'array', values: ['a', 'b', 'c', 'z'] });
  if (dialect === 'postgres') domains.push({ field: 'resource.tagsJson', kind: 'array', values: ['a', 'b', 'c', 'z'] });
  return domains;
}

export function filterTestOptions(dialect: FilterDialect): KyselyPermissionFilterOptions {
  const columns: Record<string, KyselyPermissionFilterOptions['columns'][string]> = {
    'resource.owner': 'docs.owner',
    'resource.status': 'status',
    'resource.level': 'docs.level',
    'resource.flag': 'flag',
  };
  if (dialect === 'postgres') {
    columns['resource.tags'] = { column: 'tags', array: 'postgres-array' };
    columns['resource.tagsJson'] = { column: 'docs.tags_json', array: 'postgres-jsonb' };
  }
  if (dialect === 'sqlite') columns['resource.tags'] = { column: 'tags', array: 'sqlite-json' };
  return dialect === 'sqlite' ? { columns, booleans: 'integer' } : { columns };
}

/** Creates `docs` with binary string comparison (as JavaScript compares) and fills it. */
export async function createFilterTestTable(db: Kysely<any>, dialect: FilterDialect, rows: readonly ReferenceRow[]): Promise<void> {
  if (dialect === 'postgres') {
    await sql`create table docs (id integer primary key, owner text collate "C", status text collate "C", level integer, flag boolean, tags text[], tags_json jsonb)`.execute(db);
  } else if (dialect === 'mysql') {
    await sql`create table docs (id integer primary key, owner varchar(16) collate utf8mb4_nopad_bin, status varchar(16) collate utf8mb4_nopad_bin, level integer, flag boolean)`.execute(db);
  } else {
    await sql`create table docs (id integer primary key, owner text, status text, level integer, flag integer, tags text)`.execute(db);
  }
  const values = rows.map((row) => {
    const base: Record<string, unknown> = { id: row.id, owner: row.owner, status: row.status, level: row.level };
    const flag = row.flag as boolean | null;
    base.flag = dialect === 'sqlite' && flag !== null ? Number(flag) : flag;
    const tags = row.tags as (string | null)[] | null;
    if (dialect === 'postgres') {
      base.tags = tags;
      base.tags_json = tags === null ? null : JSON.stringify(tags);
    }
    if (dialect === 'sqlite') base.tags = tags === null ? null : JSON.stringify(tags);
    return base;
  });
  await db.insertInto('docs').values(values).execute();
}

function withoutNullKeys(row: ReferenceRow): ReferenceRow {
  return Object.fromEntries(Object.entries(row).filter(([, value]) => value !== null)) as ReferenceRow;
}

/** Rows of the reference with `tagsJson` mirroring `tags` (Postgres has both columns). */
export function withJsonTags(rows: readonly ReferenceRow[]): ReferenceRow[] {
  return rows.map((row) => ({ ...row, tagsJson: row.tags }));
}

export async function assertFilterMatchesReference(db: Kysely<any>, dialect: FilterDialect, numRuns: number): Promise<void> {
  const rows = withJsonTags(filterTestRows());
  const options = filterTestOptions(dialect);
  await fc.assert(
    fc.asyncProperty(queryConditionsArbitrary(filterTestDomains(dialect)), async (query) => {
      const selected = await db.selectFrom('docs').select('id').where(kyselyPermissionFilter(query, options)).orderBy('id').execute();
      const expected = referenceIds(query, rows, 'sql');
      expect(selected.map((row) => Number(row.id))).toEqual(expected);
      const withNulls = new Set(referenceIds(query, rows, 'memory'));
      const withoutNulls = new Set(referenceIds(query, rows.map(withoutNullKeys), 'memory'));
      expect(expected.filter((id) => !withNulls.has(id) || !withoutNulls.has(id))).toEqual([]);
    }),
    { numRuns },
  );
}
