import { runAsSystem, runWithTenant } from '@tenantkit/tenant-context';
import {
  createTenantIsolationPlugin,
  unscopedSql,
  withoutTenantIsolation,
  type TenantIsolationPluginOptions,
  type UnscopedQueryEvent,
} from '@tenantkit/tenant-context/kysely';
import {
  CamelCasePlugin,
  DummyDriver,
  Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  sql,
  type Compilable,
  type Dialect,
  type ExpressionBuilder,
} from 'kysely';
import { describe, expect, it } from 'vitest';

const A = 'tnt_a';
const B = 'tnt_b';

const dialects = {
  postgres: (): Dialect => ({
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  }),
  mysql: (): Dialect => ({
    createAdapter: () => new MysqlAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new MysqlIntrospector(db),
    createQueryCompiler: () => new MysqlQueryCompiler(),
  }),
  sqlite: (): Dialect => ({
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  }),
};

const tables = { projects: 'tenant_id', tasks: { column: 'org_id' }, 'app.documents': 'owner_tenant' } as const;

function database(options: Partial<TenantIsolationPluginOptions> = {}, dialect: keyof typeof dialects = 'postgres'): Kysely<any> {
  return new Kysely<any>({ dialect: dialects[dialect](), plugins: [createTenantIsolationPlugin({ tables, ...options })] });
}

const db = database();
const mysql = database({}, 'mysql');
const sqlite = database({}, 'sqlite');

/**
 * Compiles in a tenant scope. Pass a function when the query embeds subquery builders: Kysely
 * runs plugins on those as they are embedded, which needs the scope too.
 */
function compiled(query: Compilable | (() => Compilable), tenantId = A): { sql: string; parameters: readonly unknown[] } {
  const { sql: text, parameters } = runWithTenant(tenantId, () => (typeof query === 'function' ? query() : query).compile());
  return { sql: text, parameters };
}

function refusal(build: () => Compilable, tenantId = A): unknown {
  try {
    runWithTenant(tenantId, () => build().compile());
  } catch (error) {
    return error;
  }
  throw new Error('expected the query to be refused');
}

describe('createTenantIsolationPlugin options', () => {
  const invalid: [string, unknown][] = [
    ['no options', undefined],
    ['no tables', {}],
    ['tables as an array', { tables: ['projects'] }],
    ['no scoped table', { tables: {} }],
    ['a table name with a space', { tables: { 'my projects': 'tenant_id' } }],
    ['a table name with three parts', { tables: { 'db.app.projects': 'tenant_id' } }],
    ['a table name starting with a digit', { tables: { '1projects': 'tenant_id' } }],
    ['a quote in a column', { tables: { projects: 'tenant"id' } }],
    ['an empty column', { tables: { projects: '' } }],
    ['a column that is not a string', { tables: { projects: 42 } }],
    ['an unknown table setting', { tables: { projects: { column: 'tenant_id', soft: true } } }],
    ['the same table twice with other columns', { tables: { projects: 'tenant_id', PROJECTS: 'org_id' } }],
    ['one name in two schemas with different columns', { tables: { 'a.items': 'tenant_id', 'b.items': 'org_id' } }],
    ['an unknown option', { tables: { projects: 'tenant_id' }, system: 'unscoped' }],
    ['a tenantId that is not a function', { tables: { projects: 'tenant_id' }, tenantId: 'tnt_a' }],
    ['an onUnscopedQuery that is not a function', { tables: { projects: 'tenant_id' }, onUnscopedQuery: true }],
  ];
  for (const [name, options] of invalid) {
    it(`refuses ${name} with CONFIGURATION_INVALID`, () => {
      expect(() => createTenantIsolationPlugin(options as TenantIsolationPluginOptions)).toThrow(
        expect.objectContaining({ name: 'TenantContextError', code: 'CONFIGURATION_INVALID' }),
      );
    });
  }

  it('accepts both table spellings, schema-qualified names and the same column twice', () => {
    const plugin = createTenantIsolationPlugin({
      tables: { projects: 'tenant_id', Projects: 'TENANT_ID', tasks: { column: 'org_id' }, 'a.items': 'tenant_id', 'b.items': 'tenant_id' },
    });
    expect(plugin.tables).toEqual(['projects', 'Projects', 'tasks', 'a.items', 'b.items']);
  });
});

describe('scoping reads', () => {
  it('adds a bound tenant predicate, after the user filter', () => {
    expect(compiled(db.selectFrom('projects').select('name').where('id', '=', 'p1'))).toEqual({
      sql: 'select "name" from "projects" where "id" = $1 and "projects"."tenant_id" = $2',
      parameters: ['p1', A],
    });
    expect(compiled(db.selectFrom('projects').selectAll(), B)).toEqual({
      sql: 'select * from "projects" where "projects"."tenant_id" = $1',
      parameters: [B],
    });
  });

  it('binds the tenant, never writing it into the SQL text', () => {
    const hostile = database({ tenantId: () => "x' or '1'='1" });
    const { sql: text, parameters } = compiled(hostile.selectFrom('projects').selectAll());
    expect(text).toBe('select * from "projects" where "projects"."tenant_id" = $1');
    expect(parameters).toEqual(["x' or '1'='1"]);
  });

  it('parenthesises filters that an AND would split (OR chains, raw SQL, MySQL ||)', () => {
    const or = compiled(db.selectFrom('projects as p').select('p.id').where((eb) => eb.or([eb('p.id', '=', 'a'), eb('p.id', '=', 'b')])));
    expect(or.sql).toBe('select "p"."id" from "projects" as "p" where ("p"."id" = $1 or "p"."id" = $2) and "p"."tenant_id" = $3');
    const raw = compiled(db.selectFrom('projects').select('id').where(sql<boolean>`true or 1 = 1`));
    expect(raw.sql).toBe('select "id" from "projects" where (true or 1 = 1) and "projects"."tenant_id" = $1');
    const pipes = compiled(mysql.selectFrom('projects').select('id').where((eb) => eb(eb.ref('archived'), '||', eb.val(true))));
    expect(pipes.sql).toBe('select `id` from `projects` where (`archived` || ?) and `projects`.`tenant_id` = ?');
    const chain = compiled(db.selectFrom('projects').select('id').where('id', '=', 'a').where('name', '=', 'b'));
    expect(chain.sql).toBe('select "id" from "projects" where "id" = $1 and "name" = $2 and "projects"."tenant_id" = $3');
  });

  it('uses the alias, and matches table names case-insensitively', () => {
    expect(compiled(db.selectFrom('PROJECTS as p').select('p.id')).sql).toBe('select "p"."id" from "PROJECTS" as "p" where "p"."tenant_id" = $1');
  });

  it('scopes schema-qualified tables by their declaration', () => {
    expect(compiled(db.selectFrom('app.documents').select('id')).sql).toBe(
      'select "id" from "app"."documents" where "app"."documents"."owner_tenant" = $1',
    );
    // Declared as app.documents: an unqualified reference may resolve to it; another schema is another table.
    expect(compiled(db.selectFrom('documents').select('id')).sql).toBe('select "id" from "documents" where "documents"."owner_tenant" = $1');
    expect(compiled(db.selectFrom('archive.documents').select('id')).sql).toBe('select "id" from "archive"."documents"');
    // Declared without a schema: every schema.
    expect(compiled(db.selectFrom('archive.projects').select('id')).sql).toBe(
      'select "id" from "archive"."projects" where "archive"."projects"."tenant_id" = $1',
    );
    expect(compiled(db.withSchema('app').selectFrom('projects').select('id')).sql).toBe(
      'select "id" from "app"."projects" where "app"."projects"."tenant_id" = $1',
    );
  });

  it('puts join predicates in ON (LEFT JOIN keeps its rows) and CROSS JOIN predicates in WHERE', () => {
    expect(compiled(db.selectFrom('projects as p').leftJoin('tasks as t', 't.project_id', 'p.id').select('t.title')).sql).toBe(
      'select "t"."title" from "projects" as "p" left join "tasks" as "t" on "t"."project_id" = "p"."id" and "t"."org_id" = $1 where "p"."tenant_id" = $2',
    );
    expect(compiled(db.selectFrom('labels').innerJoin('tasks', 'tasks.label_id', 'labels.id').select('tasks.title')).sql).toBe(
      'select "tasks"."title" from "labels" inner join "tasks" on "tasks"."label_id" = "labels"."id" and "tasks"."org_id" = $1',
    );
    expect(compiled(db.selectFrom('labels').crossJoin('projects').select('projects.id')).sql).toBe(
      'select "projects"."id" from "labels" cross join "projects" where "projects"."tenant_id" = $1',
    );
  });

  it('turns scoped tables into filtered derived tables when a RIGHT or FULL join preserves rows', () => {
    expect(compiled(db.selectFrom('projects as p').rightJoin('tasks', 'tasks.project_id', 'p.id').select('p.id')).sql).toBe(
      'select "p"."id" from (select * from "projects" where "projects"."tenant_id" = $1) as "p" right join (select * from "tasks" where "tasks"."org_id" = $2) as "tasks" on "tasks"."project_id" = "p"."id"',
    );
    expect(compiled(db.selectFrom('labels').fullJoin('projects', 'projects.id', 'labels.id').select('labels.id')).sql).toBe(
      'select "labels"."id" from "labels" full join (select * from "projects" where "projects"."tenant_id" = $1) as "projects" on "projects"."id" = "labels"."id"',
    );
  });

  it('scopes subqueries in the select list, WHERE, EXISTS, IN, FROM, HAVING, laterals and RETURNING', () => {
    const query = () =>
      db
        .selectFrom((eb) => eb.selectFrom('projects').select('id').as('own'))
        .select((eb) => ['own.id', eb.selectFrom('tasks').select('title').whereRef('tasks.project_id', '=', 'own.id').limit(1).as('title')])
        .where((eb) => eb.exists(eb.selectFrom('tasks').select('id')))
        .where('own.id', 'in', db.selectFrom('projects').select('id'))
        .groupBy('own.id')
        .having((eb) => eb.exists(eb.selectFrom('projects').select('id')));
    expect(compiled(query)).toEqual({
      sql:
        'select "own"."id", (select "title" from "tasks" where "tasks"."project_id" = "own"."id" and "tasks"."org_id" = $1 limit $2) as "title" ' +
        'from (select "id" from "projects" where "projects"."tenant_id" = $3) as "own" ' +
        'where exists (select "id" from "tasks" where "tasks"."org_id" = $4) and "own"."id" in (select "id" from "projects" where "projects"."tenant_id" = $5) ' +
        'group by "own"."id" having exists (select "id" from "projects" where "projects"."tenant_id" = $6)',
      parameters: [A, 1, A, A, A, A],
    });
    const lateral = () =>
      db
        .selectFrom('labels')
        .innerJoinLateral((eb) => eb.selectFrom('projects').select('id').whereRef('projects.label_id', '=', 'labels.id').as('p'), (join) => join.onTrue())
        .select('p.id');
    expect(compiled(lateral).sql).toBe(
      'select "p"."id" from "labels" inner join lateral (select "id" from "projects" where "projects"."label_id" = "labels"."id" and "projects"."tenant_id" = $1) as "p" on true',
    );
    const returning = () => db.deleteFrom('labels').returning((eb) => eb.selectFrom('projects').select('id').limit(1).as('p'));
    expect(compiled(returning).sql).toBe('delete from "labels" returning (select "id" from "projects" where "projects"."tenant_id" = $1 limit $2) as "p"');
  });

  it('scopes CTE bodies (recursive ones too), and does not scope a CTE that shadows a table name', () => {
    expect(compiled(() => db.with('own', (qc) => qc.selectFrom('projects').select('id')).selectFrom('own').select('id')).sql).toBe(
      'with "own" as (select "id" from "projects" where "projects"."tenant_id" = $1) select "id" from "own"',
    );
    const recursive = () =>
      db
        .withRecursive('tree(id)', (qc) => qc.selectFrom('projects').select('id').unionAll(qc.selectFrom('tree').select('id')))
        .selectFrom('tree')
        .select('id');
    expect(compiled(recursive).sql).toBe(
      'with recursive "tree"("id") as (select "id" from "projects" where "projects"."tenant_id" = $1 union all select "id" from "tree") select "id" from "tree"',
    );
    const shadow = () =>
      db
        .with('projects', (qc) => qc.selectFrom('tasks').select('id'))
        .selectFrom('projects')
        .select('id')
        .where('id', 'in', (eb: ExpressionBuilder<any, any>) => eb.selectFrom('projects').select('id'));
    expect(compiled(shadow).sql).toBe(
      'with "projects" as (select "id" from "tasks" where "tasks"."org_id" = $1) select "id" from "projects" where "id" in (select "id" from "projects")',
    );
    // Shadowing is exact: a CTE "Projects" does not hide the table "projects", and a schema-qualified name is a table.
    const near = () => db.with('Projects', (qc) => qc.selectFrom('labels').select('id')).selectFrom(['projects', 'public.projects as pp']).select('projects.id');
    expect(compiled(near).sql).toBe(
      'with "Projects" as (select "id" from "labels") select "projects"."id" from "projects", "public"."projects" as "pp" where "projects"."tenant_id" = $1 and "pp"."tenant_id" = $2',
    );
  });

  it('scopes every UNION, INTERSECT and EXCEPT branch', () => {
    const query = () =>
      db
        .selectFrom('projects')
        .select('id')
        .union(db.selectFrom('tasks').select('id'))
        .intersect((eb) => eb.selectFrom('projects').select('id'))
        .except(db.selectFrom('labels').select('id'));
    expect(compiled(query).sql).toBe(
      'select "id" from "projects" where "projects"."tenant_id" = $1 union select "id" from "tasks" where "tasks"."org_id" = $2 ' +
        'intersect select "id" from "projects" where "projects"."tenant_id" = $3 except select "id" from "labels"',
    );
  });

  it('leaves queries on other tables unchanged, without needing a tenant', () => {
    const query = db.selectFrom('labels').selectAll().where('id', '=', 'l1');
    expect(query.toOperationNode()).toEqual(db.withoutPlugins().selectFrom('labels').selectAll().where('id', '=', 'l1').toOperationNode());
    expect(query.compile().sql).toBe('select * from "labels" where "id" = $1');
    expect(db.selectFrom('project_tasks').select('id').compile().sql).toBe('select "id" from "project_tasks"');
  });
});

describe('scoping writes', () => {
  it('filters UPDATE (aliased, multi-table, FROM) and DELETE (USING, multi-table, deduplicated)', () => {
    expect(compiled(db.updateTable('projects as p').set({ name: 'n' }).where('p.id', '=', 'p1'))).toEqual({
      sql: 'update "projects" as "p" set "name" = $1 where "p"."id" = $2 and "p"."tenant_id" = $3',
      parameters: ['n', 'p1', A],
    });
    expect(compiled(db.updateTable('projects').from('tasks').set({ name: 'n' }).whereRef('tasks.project_id', '=', 'projects.id')).sql).toBe(
      'update "projects" set "name" = $1 from "tasks" where "tasks"."project_id" = "projects"."id" and "projects"."tenant_id" = $2 and "tasks"."org_id" = $3',
    );
    expect(compiled(mysql.updateTable(['projects', 'labels']).set('projects.name', 'n').whereRef('labels.id', '=', 'projects.label_id')).sql).toBe(
      'update `projects`, `labels` set `projects`.`name` = ? where `labels`.`id` = `projects`.`label_id` and `projects`.`tenant_id` = ?',
    );
    expect(compiled(db.deleteFrom('projects').using('tasks').whereRef('tasks.project_id', '=', 'projects.id')).sql).toBe(
      'delete from "projects" using "tasks" where "tasks"."project_id" = "projects"."id" and "projects"."tenant_id" = $1 and "tasks"."org_id" = $2',
    );
    expect(compiled(mysql.deleteFrom(['projects', 'tasks']).using(['projects', 'tasks']).whereRef('tasks.project_id', '=', 'projects.id')).sql).toBe(
      'delete from `projects`, `tasks` using `projects`, `tasks` where `tasks`.`project_id` = `projects`.`id` and `projects`.`tenant_id` = ? and `tasks`.`org_id` = ?',
    );
    expect(compiled(db.deleteFrom('projects as p').innerJoin('tasks as t', 't.project_id', 'p.id').where('t.id', '=', 'k1')).sql).toBe(
      'delete from "projects" as "p" inner join "tasks" as "t" on "t"."project_id" = "p"."id" and "t"."org_id" = $1 where "t"."id" = $2 and "p"."tenant_id" = $3',
    );
  });

  it('refuses an UPDATE of the tenant column unless it assigns the tenant in scope', () => {
    expect(compiled(db.updateTable('projects').set({ tenant_id: A, name: 'n' })).sql).toBe(
      'update "projects" set "tenant_id" = $1, "name" = $2 where "projects"."tenant_id" = $3',
    );
    const changes = [
      () => db.updateTable('projects').set({ tenant_id: B }),
      () => db.updateTable('projects as p').set('p.TENANT_ID', B),
      () => db.updateTable('projects').set((eb) => ({ tenant_id: eb.ref('name') })),
      () => db.updateTable('tasks').set({ org_id: sql<string>`lower(org_id)` }),
      () => mysql.updateTable(['labels', 'projects']).set('projects.tenant_id', B),
    ];
    for (const change of changes) {
      expect(refusal(change)).toMatchObject({ name: 'TenantContextError', code: 'TENANT_ISOLATION_VIOLATION', status: 500 });
    }
    // A column of that name on a table that is not scoped is none of the plugin's business.
    expect(compiled(db.updateTable('labels').set({ tenant_id: B })).sql).toBe('update "labels" set "tenant_id" = $1');
  });

  it('sets the tenant column on every row of an INSERT, filling DEFAULT cells', () => {
    expect(compiled(db.insertInto('projects').values({ id: 'p1', name: 'n' }))).toEqual({
      sql: 'insert into "projects" ("id", "name", "tenant_id") values ($1, $2, $3)',
      parameters: ['p1', 'n', A],
    });
    expect(compiled(db.insertInto('projects').values([{ id: 'p1', tenant_id: A }, { id: 'p2' }]))).toEqual({
      sql: 'insert into "projects" ("id", "tenant_id") values ($1, $2), ($3, $4)',
      parameters: ['p1', A, 'p2', A],
    });
    expect(compiled(() => db.insertInto('tasks').values((eb) => ({ id: 'k1', title: eb.selectFrom('projects').select('name').limit(1) }))).sql).toBe(
      'insert into "tasks" ("id", "title", "org_id") values ($1, (select "name" from "projects" where "projects"."tenant_id" = $2 limit $3), $4)',
    );
    expect(compiled(db.insertInto('projects').defaultValues())).toEqual({ sql: 'insert into "projects" ("tenant_id") values ($1)', parameters: [A] });
    expect(compiled(() => db.insertInto('labels').values((eb) => ({ id: 'l1', name: eb.selectFrom('projects').select('name').limit(1) }))).sql).toBe(
      'insert into "labels" ("id", "name") values ($1, (select "name" from "projects" where "projects"."tenant_id" = $2 limit $3))',
    );
  });

  it('refuses an INSERT claiming another tenant or an unverifiable tenant value', () => {
    const claims = [
      () => db.insertInto('projects').values({ id: 'p1', tenant_id: B }),
      () => db.insertInto('projects').values({ id: 'p1', TENANT_ID: B }),
      () => db.insertInto('projects').values([{ id: 'p1' }, { id: 'p2', tenant_id: B }]),
      () => db.insertInto('projects').values((eb) => ({ id: 'p1', tenant_id: eb.selectFrom('tasks').select('org_id').limit(1) })),
      () => db.insertInto('projects').values({ id: 'p1', tenant_id: sql<string>`current_setting('app.tenant')` }),
      () => db.insertInto('projects').columns(['id']).expression(sql`select 'p1'`),
      () => db.insertInto('projects').expression(db.selectFrom('labels').select('id')),
    ];
    for (const claim of claims) {
      expect(refusal(claim)).toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
    }
  });

  it('scopes INSERT ... SELECT and appends the tenant, or checks a listed tenant column', () => {
    expect(compiled(() => db.insertInto('projects').columns(['id', 'name']).expression(db.selectFrom('tasks').select(['id', 'title'])))).toEqual({
      sql: 'insert into "projects" ("id", "name", "tenant_id") select "id", "title", $1 as "tenant_id" from "tasks" where "tasks"."org_id" = $2',
      parameters: [A, A],
    });
    expect(compiled(() => db.insertInto('projects').columns(['id', 'tenant_id']).expression(db.selectFrom('tasks as t').select(['t.id', 't.org_id']))).sql).toBe(
      'insert into "projects" ("id", "tenant_id") select "t"."id", "t"."org_id" from "tasks" as "t" where "t"."org_id" = $1',
    );
    expect(compiled(db.insertInto('projects').columns(['id', 'tenant_id']).expression(db.selectFrom('labels').select((eb) => ['id', eb.val(A).as('t')]))).sql).toBe(
      'insert into "projects" ("id", "tenant_id") select "id", $1 as "t" from "labels"',
    );
    const refused = [
      () => db.insertInto('projects').columns(['id', 'tenant_id']).expression(db.selectFrom('labels').select(['id', 'tenant_id'])),
      () => db.insertInto('projects').columns(['id', 'tenant_id']).expression(db.selectFrom('labels').select((eb) => ['id', eb.val(B).as('t')])),
      () => db.insertInto('projects').columns(['tenant_id', 'id']).expression(db.selectFrom('tasks').selectAll()),
      () =>
        db
          .insertInto('projects')
          .columns(['id', 'tenant_id'])
          .expression(db.selectFrom('tasks').leftJoin('projects as p', 'p.id', 'tasks.project_id').select(['tasks.id', 'p.tenant_id'])),
      () => db.insertInto('projects').columns(['id']).expression(db.selectFrom('tasks').select('id').union(db.selectFrom('labels').select('id'))),
    ];
    for (const build of refused) expect(refusal(build)).toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
  });

  it('keeps upserts to the tenant own rows and refuses REPLACE', () => {
    expect(compiled(db.insertInto('projects').values({ id: 'p1', name: 'n' }).onConflict((oc) => oc.columns(['tenant_id', 'id']).doUpdateSet({ name: 'm' })))).toEqual({
      sql: 'insert into "projects" ("id", "name", "tenant_id") values ($1, $2, $3) on conflict ("tenant_id", "id") do update set "name" = $4 where "projects"."tenant_id" = $5',
      parameters: ['p1', 'n', A, 'm', A],
    });
    expect(
      compiled(
        sqlite
          .insertInto('projects')
          .values({ id: 'p1', name: 'n' })
          .onConflict((oc) => oc.column('id').doUpdateSet({ name: 'm' }).where('name', '!=', 'locked')),
      ).sql,
    ).toBe(
      'insert into "projects" ("id", "name", "tenant_id") values (?, ?, ?) on conflict ("id") do update set "name" = ? where "name" != ? and "projects"."tenant_id" = ?',
    );
    expect(compiled(db.insertInto('projects').values({ id: 'p1' }).onConflict((oc) => oc.column('id').doNothing())).sql).toBe(
      'insert into "projects" ("id", "tenant_id") values ($1, $2) on conflict ("id") do nothing',
    );
    expect(compiled(mysql.insertInto('projects').values({ id: 'p1', name: 'n' }).onDuplicateKeyUpdate({ name: 'm' }))).toEqual({
      sql: 'insert into `projects` (`id`, `name`, `tenant_id`) values (?, ?, ?) on duplicate key update `name` = case when `projects`.`tenant_id` = ? then ? else `name` end',
      parameters: ['p1', 'n', A, A, 'm'],
    });
    const refused = [
      () => db.insertInto('projects').values({ id: 'p1' }).onConflict((oc) => oc.column('id').doUpdateSet((eb) => ({ tenant_id: eb.ref('excluded.tenant_id') }))),
      () => mysql.insertInto('projects').values({ id: 'p1' }).onDuplicateKeyUpdate({ tenant_id: B }),
      () => mysql.replaceInto('projects').values({ id: 'p1' }),
      () => sqlite.insertInto('projects').orReplace().values({ id: 'p1' }),
      () => db.mergeInto('projects as p').using('labels as l', 'l.id', 'p.id').whenMatched().thenDelete(),
      () => db.mergeInto('labels as l').using('projects as p', 'l.id', 'p.id').whenMatched().thenDelete(),
    ];
    for (const build of refused) expect(refusal(build)).toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
    // Ignoring a conflict never writes another tenant's row, so INSERT IGNORE stays allowed.
    expect(compiled(mysql.insertInto('projects').ignore().values({ id: 'p1' })).sql).toBe('insert ignore into `projects` (`id`, `tenant_id`) values (?, ?)');
  });

  it('passes schema statements, and refuses those that read a scoped table', () => {
    expect(db.schema.createTable('projects').addColumn('id', 'text').compile().sql).toBe('create table "projects" ("id" text)');
    expect(db.schema.createIndex('projects_tenant').on('projects').column('tenant_id').compile().sql).toBe(
      'create index "projects_tenant" on "projects" ("tenant_id")',
    );
    expect(() => db.schema.createView('own').as(db.withoutPlugins().selectFrom('projects').selectAll()).compile()).toThrow(
      expect.objectContaining({ code: 'TENANT_ISOLATION_VIOLATION' }),
    );
    expect(() => db.schema.createTable('copy').as(db.withoutPlugins().selectFrom('tasks').selectAll()).compile()).toThrow(
      expect.objectContaining({ code: 'TENANT_ISOLATION_VIOLATION' }),
    );
  });
});

describe('raw SQL', () => {
  it('refuses raw SQL naming a scoped table: any case, quoted or not, whole words only', () => {
    const named = [
      sql`select * from projects`,
      sql`select * from "Projects" where 1 = 1`,
      sql`select * from \`PROJECTS\``,
      sql`select * from app.tasks`,
      sql`delete from [tasks]`,
      sql.raw('update projects set name = 1'),
    ];
    for (const statement of named) {
      expect(() => runWithTenant(A, () => statement.compile(db))).toThrow(expect.objectContaining({ code: 'TENANT_ISOLATION_VIOLATION' }));
    }
    for (const statement of [sql`select * from project_tasks`, sql`select * from projects2`, sql`select ${'projects'} as name`]) {
      expect(() => statement.compile(db)).not.toThrow();
    }
  });

  it('refuses sql.table, sql.ref, sql.id and sql.lit naming a scoped table, inside queries too', () => {
    const named = [
      () => db.selectFrom('labels').selectAll().where(sql<boolean>`exists (select 1 from ${sql.table('projects')})`),
      () => db.selectFrom('labels').select(sql<number>`count(${sql.ref('projects.id')})`.as('n')),
      () => db.selectFrom('labels').selectAll().where(sql<boolean>`id in (select id from ${sql.id('app', 'tasks')})`),
      () => db.selectFrom('labels').selectAll().where(sql<boolean>`id in (select id from ${sql.lit('projects')})`),
      () => db.selectFrom('projects').selectAll().where(sql<boolean>`${sql.raw('projects.id')} = ${'p1'}`),
      () => db.selectFrom('labels').selectAll().where('id', 'in', sql`(select id from projects)`),
    ];
    for (const build of named) expect(refusal(build)).toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
    // Values, other tables and query builders in raw SQL are fine, the builders get scoped.
    const fine = () =>
      db
        .selectFrom('labels')
        .select(sql<string>`upper(${sql.ref('labels.name')})`.as('loud'))
        .where(sql<boolean>`exists (${db.selectFrom('projects').select('id')}) and ${sql.ref('id')} <> ${sql.val('projects')}`);
    expect(compiled(fine)).toEqual({
      sql: 'select upper("labels"."name") as "loud" from "labels" where exists ((select "id" from "projects" where "projects"."tenant_id" = $1)) and "id" <> $2',
      parameters: [A, 'projects'],
    });
  });

  it('runs unscopedSql() as written, nested fragments included, and reports its reason', () => {
    const events: UnscopedQueryEvent[] = [];
    const audited = database({ onUnscopedQuery: (event) => events.push(event) });
    const query = audited
      .selectFrom('labels')
      .select('id')
      .where(unscopedSql('labels used by any project')<boolean>`exists (select 1 from ${sql.table('projects')} where ${sql.ref('projects.label_id')} = labels.id)`);
    const { sql: text } = compiled(query);
    expect(text).toMatch(
      /^select "id" from "labels" where \/\* tenantkit:unscoped-sql [0-9a-f-]{36} reason: labels used by any project \*\/ exists \(select 1 from "projects" where "projects"\."label_id" = labels\.id\)$/,
    );
    expect(events).toEqual([
      expect.objectContaining({ via: 'unscopedSql', reason: 'labels used by any project', queryKind: 'SelectQueryNode', scope: expect.objectContaining({ tenantId: A }) }),
    ]);
    // A builder interpolated into unscopedSql stays scoped.
    const wrapped = () => db.selectNoFrom(unscopedSql('count wrapper')<number>`coalesce(${db.selectFrom('projects').select((eb) => eb.fn.countAll().as('n'))}, 0)`.as('n'));
    expect(compiled(wrapped)).toEqual({
      sql: expect.stringMatching(/reason: count wrapper \*\/ coalesce\(\(select count\(\*\) as "n" from "projects" where "projects"\."tenant_id" = \$1\), 0\) as "n"$/),
      parameters: [A],
    });
  });

  it('does not accept a hand-written marker or an unsafe reason', () => {
    const forged = sql`/* tenantkit:unscoped-sql 00000000-0000-0000-0000-000000000000 reason: forged */ select * from projects`;
    expect(() => runWithTenant(A, () => forged.compile(db))).toThrow(expect.objectContaining({ code: 'TENANT_ISOLATION_VIOLATION' }));
    for (const reason of ['', '   ', 'closes */ the comment', 'a/*b', 'tab\tin', 'x'.repeat(201), 42]) {
      expect(() => unscopedSql(reason as string)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
  });
});

describe('tenant scope', () => {
  it('throws TENANT_SCOPE_REQUIRED without a tenant, in the system scope too', () => {
    for (const build of [
      () => db.selectFrom('projects').selectAll(),
      () => db.insertInto('tasks').values({ id: 'k1' }),
      () => db.selectFrom('labels').where('id', 'in', (eb: ExpressionBuilder<any, any>) => eb.selectFrom('projects').select('id')),
    ]) {
      expect(() => build().compile()).toThrow(expect.objectContaining({ name: 'TenantContextError', code: 'TENANT_SCOPE_REQUIRED' }));
      expect(() => runAsSystem({ reason: 'test' }, () => build().compile())).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
    }
  });

  it('needs the scope when a scoped subquery builder is embedded, since Kysely runs plugins on it then (a named limit)', () => {
    expect(() => db.selectFrom('labels').where('id', 'in', db.selectFrom('projects').select('id'))).toThrow(
      expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }),
    );
    // Built inside the scope, the same query compiles.
    expect(compiled(() => db.selectFrom('labels').select('id').where('id', 'in', db.selectFrom('projects').select('id'))).parameters).toEqual([A]);
  });

  it('takes the tenant from the tenantId option, and refuses an empty answer', () => {
    let current = 'tnt_custom';
    const custom = database({ tenantId: () => current });
    expect(custom.selectFrom('projects').select('id').compile().parameters).toEqual(['tnt_custom']);
    current = '';
    expect(() => custom.selectFrom('projects').select('id').compile()).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
  });

  it('re-scopes a subquery built in another scope to the tenant of the outer query, without repeating predicates', () => {
    const query = runWithTenant(A, () => db.selectFrom('tasks').select('id').where('project_id', 'in', db.selectFrom('projects').select('id')));
    expect(compiled(query, B)).toEqual({
      sql: 'select "id" from "tasks" where "project_id" in (select "id" from "projects" where "projects"."tenant_id" = $1) and "tasks"."org_id" = $2',
      parameters: [B, B],
    });
    expect(compiled(query, A).parameters).toEqual([A, A]);
  });

  it('scopes subqueries that another plugin copied, repeating the predicate rather than dropping it', () => {
    const camel = new Kysely<any>({ dialect: dialects.postgres(), plugins: [new CamelCasePlugin(), createTenantIsolationPlugin({ tables })] });
    const query = runWithTenant(A, () => camel.selectFrom('tasks').select('id').where('projectId', 'in', camel.selectFrom('projects').select('id')));
    expect(compiled(query, A).sql).toBe(
      'select "id" from "tasks" where "project_id" in (select "id" from "projects" where "projects"."tenant_id" = $1 and "projects"."tenant_id" = $2) and "tasks"."org_id" = $3',
    );
    // Built under another tenant, the copy keeps that tenant too: no row can match both.
    expect(compiled(query, B).parameters).toEqual([A, B, B]);
  });

  it('keeps concurrent scopes apart while compiling', async () => {
    const tenants = ['tnt_1', 'tnt_2', 'tnt_3'];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, index) =>
        runWithTenant(tenants[index % 3]!, async () => {
          await new Promise((resolve) => setTimeout(resolve, index % 4));
          const query = db.selectFrom('projects').select('id');
          await new Promise((resolve) => setTimeout(resolve, (index * 3) % 5));
          return { tenant: tenants[index % 3], parameters: query.compile().parameters };
        }),
      ),
    );
    for (const { tenant, parameters } of results) expect(parameters).toEqual([tenant]);
  });
});

describe('withoutTenantIsolation', () => {
  it('runs queries unscoped only inside runAsSystem, audits them, and keeps the other plugins in order', () => {
    const events: UnscopedQueryEvent[] = [];
    const camel = new Kysely<any>({
      dialect: dialects.postgres(),
      plugins: [new CamelCasePlugin(), createTenantIsolationPlugin({ tables, onUnscopedQuery: (event) => events.push(event) })],
    });
    const unscoped = withoutTenantIsolation(camel);
    const query = unscoped.selectFrom('projects').select('tenantId');
    expect(() => query.compile()).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
    expect(() => runWithTenant(A, () => query.compile())).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
    const text = runAsSystem({ reason: 'nightly export', actor: 'cron' }, () => query.compile().sql);
    expect(text).toBe('select "tenant_id" from "projects"');
    expect(events).toEqual([
      expect.objectContaining({ via: 'withoutTenantIsolation', reason: 'nightly export', actor: 'cron', queryKind: 'SelectQueryNode', scope: expect.objectContaining({ kind: 'system' }) }),
    ]);
    // The original handle is untouched.
    expect(() => runAsSystem({ reason: 'x' }, () => camel.selectFrom('projects').select('id').compile())).toThrow(
      expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }),
    );
  });

  it('refuses a handle without the plugin, and queries whose audit hook throws', () => {
    expect(() => withoutTenantIsolation(db.withoutPlugins())).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    const failingAudit = database({
      onUnscopedQuery: () => {
        throw new Error('audit log down');
      },
    });
    expect(() => runAsSystem({ reason: 'x' }, () => withoutTenantIsolation(failingAudit).selectFrom('projects').selectAll().compile())).toThrow('audit log down');
    expect(() => runWithTenant(A, () => unscopedSql('r')`select * from projects`.compile(failingAudit))).toThrow('audit log down');
  });
});

describe('SQL that would move past the tenant filter', () => {
  it('refuses raw SQL after a scoped query (modifyEnd), which would extend its WHERE', () => {
    const extended = [
      () => db.selectFrom('projects').selectAll().modifyEnd(sql`or true`),
      () => db.updateTable('projects').set({ name: 'x' }).modifyEnd(sql`or true`),
      () => db.deleteFrom('projects').modifyEnd(sql`or true`),
      () => db.insertInto('projects').values({ id: 'p1' }).onConflict((oc) => oc.column('id').doUpdateSet({ name: 'x' })).modifyEnd(sql`or true`),
      () => mysql.deleteFrom('tasks').modifyEnd(sql`or 1 = 1`),
      // The last set-operation branch and the SELECT of INSERT ... SELECT are written without parentheses.
      () => db.selectFrom('labels').selectAll().union(db.selectFrom('projects').selectAll()).modifyEnd(sql`or true`),
      () => db.insertInto('labels').columns(['id']).expression(db.selectFrom('projects').select('id')).modifyEnd(sql`or true`),
    ];
    for (const build of extended) expect(refusal(build)).toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
    // Kysely's own modifiers, and raw ones on other tables, stay possible.
    expect(compiled(db.selectFrom('projects').select('id').forUpdate().skipLocked()).sql).toBe(
      'select "id" from "projects" where "projects"."tenant_id" = $1 for update skip locked',
    );
    expect(compiled(db.selectFrom('labels').selectAll().modifyEnd(sql`-- a comment`)).sql).toBe('select * from "labels" -- a comment');
  });

  it('refuses raw SQL that opens a comment, closes parentheses it did not open or leaves quotes open, when the query is scoped', () => {
    const breakouts = [
      () => db.selectFrom('projects').selectAll().where(sql<boolean>`true) or (true`),
      () => db.selectFrom('projects').innerJoin('labels', (join) => join.on(sql<boolean>`true --`)).selectAll(),
      () => mysql.selectFrom('projects').innerJoin('labels', (join) => join.on(sql<boolean>`true #`)).selectAll(),
      () => db.selectFrom('projects').selectAll().where('id', 'in', sql`(select 1) or true) --`),
      () => db.selectFrom('projects').innerJoin('labels', (join) => join.on(sql<boolean>`true /*`)).selectAll().modifyEnd(sql`*/`),
      () => db.selectFrom('projects').innerJoin('labels', (join) => join.on(sql<boolean>`'x' <> '`)).selectAll().orderBy(sql`'`),
      () => db.selectFrom('projects').innerJoin('labels', (join) => join.on(sql<boolean>`'x' <> $$`)).selectAll().orderBy(sql`$$`),
      () => mysql.selectFrom('projects').innerJoin('labels', (join) => join.on(sql<boolean>`'\\'`)).selectAll(),
      () => db.selectFrom('projects').selectAll().where(sql<boolean>`true; delete from labels`),
      // Nested raw SQL is written into its parent as it is, so they are checked together.
      () => db.selectFrom('projects').selectAll().where(sql<boolean>`coalesce(${sql.raw('true)) or ((true')})`),
    ];
    for (const build of breakouts) expect(refusal(build)).toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
    // Self-contained raw SQL is fine, its parentheses may span nested fragments and values.
    expect(compiled(() => db.selectFrom('projects').select('id').where(sql<boolean>`coalesce(${sql.ref('name')}, ${'x'}) <> ${sql`'it''s'`}`)).sql).toBe(
      'select "id" from "projects" where (coalesce("name", $1) <> \'it\'\'s\') and "projects"."tenant_id" = $2',
    );
    // Queries on other tables are not the plugin's business.
    expect(compiled(db.selectFrom('labels').selectAll().where(sql<boolean>`true --`)).sql).toBe('select * from "labels" where true --');
  });

  it('refuses raw SQL that names a scoped table across nested fragments', () => {
    expect(refusal(() => db.selectFrom(sql`proj${sql.raw('ects')}`.as('p')).selectAll())).toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
    expect(() => runWithTenant(A, () => sql`select * from proj${sql`ects`}`.compile(db))).toThrow(
      expect.objectContaining({ code: 'TENANT_ISOLATION_VIOLATION' }),
    );
  });

  it('refuses function names that are not plain identifiers (Kysely writes them unquoted)', () => {
    const injected = [
      () => db.selectFrom('projects').selectAll().where((eb) => eb(eb.fn('true or coalesce', [eb.val(1)]), '=', 1)),
      () => db.selectFrom('projects').select((eb) => eb.fn.agg<number>('count(*) over () --', []).as('n')),
    ];
    for (const build of injected) expect(refusal(build)).toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
    expect(compiled(db.selectFrom('projects').select((eb) => eb.fn<string>('pg_catalog.upper', ['name']).as('n'))).sql).toBe(
      'select pg_catalog.upper("name") as "n" from "projects" where "projects"."tenant_id" = $1',
    );
  });

  it('refuses an UPDATE, DELETE or upsert on a scoped table embedded in raw SQL (Kysely writes it without parentheses)', () => {
    const embedded = [
      () => sql`${db.deleteFrom('projects')} or true`,
      () => sql`${db.updateTable('projects').set({ name: 'x' })} or true`,
      () => sql`${db.insertInto('projects').values({ id: 'p1' }).onConflict((oc) => oc.column('id').doUpdateSet({ name: 'x' }))} or true`,
    ];
    for (const statement of embedded) {
      expect(() => runWithTenant(A, () => statement().compile(db))).toThrow(expect.objectContaining({ code: 'TENANT_ISOLATION_VIOLATION' }));
    }
    // A SELECT is parenthesised, and writes on other tables pass.
    expect(runWithTenant(A, () => sql`${db.selectFrom('projects').select('id')} or true`.compile(db)).sql).toBe(
      '(select "id" from "projects" where "projects"."tenant_id" = $1) or true',
    );
    expect(sql`${db.deleteFrom('labels')}`.compile(db).sql).toBe('delete from "labels"');
  });

  it('scopes UPDATE and DELETE targets that a CTE of the same name cannot shadow', () => {
    const cte = db.with('projects', (qc) => qc.selectFrom('labels').selectAll());
    expect(compiled(cte.updateTable('projects').set({ name: 'x' })).sql).toBe(
      'with "projects" as (select * from "labels") update "projects" set "name" = $1 where "projects"."tenant_id" = $2',
    );
    expect(compiled(cte.deleteFrom('projects')).sql).toBe('with "projects" as (select * from "labels") delete from "projects" where "projects"."tenant_id" = $1');
    // Tables read in FROM and USING still see the CTE.
    expect(compiled(cte.deleteFrom('tasks').using('projects')).sql).toBe(
      'with "projects" as (select * from "labels") delete from "tasks" using "projects" where "tasks"."org_id" = $1',
    );
  });

  it('refuses Postgres functions that read a table named by a parameter or run SQL text, scoped tables or not', () => {
    const readers = [
      () => db.selectNoFrom((eb) => eb.fn('table_to_xml', [eb.val('projects'), eb.lit(true), eb.lit(false), eb.val('')]).as('x')),
      () => db.selectFrom('labels').select((eb) => eb.fn('pg_catalog.query_to_xml', [eb.val('select * from proj' + 'ects'), eb.lit(true), eb.lit(false), eb.val('')]).as('x')),
      () => db.selectNoFrom((eb) => eb.fn('DATABASE_TO_XML', [eb.lit(true), eb.lit(false), eb.val('')]).as('x')),
      () => db.selectNoFrom(sql`ts_stat(${'select v from projects'})`.as('x')),
      () => db.selectNoFrom(sql`dblink(${'dbname=test'}, ${'select 1'})`.as('x')),
    ];
    for (const build of readers) expect(refusal(build)).toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
    expect(compiled(db.selectNoFrom((eb) => eb.fn<string>('xml_is_well_formed', [eb.val('<a/>')]).as('x'))).sql).toBe('select xml_is_well_formed($1) as "x"');
  });

  it('scopes a forward reference in WITH RECURSIVE, which MySQL resolves to the table', () => {
    const forward = () =>
      db
        .withRecursive('early', (qc) => qc.selectFrom('projects').select('id'))
        .withRecursive('projects', (qc) => qc.selectFrom('labels').select('id'))
        .selectFrom('early')
        .select('id');
    expect(compiled(forward).sql).toBe(
      'with recursive "early" as (select "id" from "projects" where "projects"."tenant_id" = $1), "projects" as (select "id" from "labels") select "id" from "early"',
    );
  });
});
