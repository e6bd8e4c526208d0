import { CompiledQuery, type DatabaseConnection, type QueryResult } from 'kysely';
import { describe, expect, it } from 'vitest';
import { RowLevelSecurityConnection } from '../../../src/isolation/postgres-rls/row-level-security-connection.js';

// Statement sequencing only: which statements the wrapper sends, in which order, on which
// driver. What they do on a real server is covered by the Postgres and PGlite suites.
function recordingConnection(className: string, failOn?: string) {
  const sent: Array<{ sql: string; parameters: readonly unknown[] }> = [];
  const Recording = {
    [className]: class implements DatabaseConnection {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        sent.push({ sql: query.sql, parameters: query.parameters });
        if (failOn !== undefined && query.sql === failOn) throw new Error(`failed: ${failOn}`);
        return { rows: [] };
      }
      async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
        throw new Error('not used');
      }
    },
  }[className]!;
  return { sent, lease: { connection: new Recording(), release: async () => undefined } };
}

const settings = { tenantSetting: 'app.tenant_id', bypassSetting: 'app.tenantkit_bypass' };

describe('RowLevelSecurityConnection statement sequencing', () => {
  it('sends BEGIN and the settings in one simple query on node-postgres', async () => {
    const { sent, lease } = recordingConnection('PostgresConnection');
    const connection = new RowLevelSecurityConnection(lease, { kind: 'tenant', tenantId: 'tnt_a-1' }, settings);
    await connection.executeQuery(CompiledQuery.raw('select 1'));
    expect(sent.map((query) => query.sql)).toEqual([
      "begin; select set_config('app.tenant_id', 'tnt_a-1', true), set_config('app.tenantkit_bypass', '', true)",
      'select 1',
      'commit',
    ]);
    expect(sent[0]!.parameters).toEqual([]);
  });

  it('keeps BEGIN and parameterised settings apart on other drivers (PGlite)', async () => {
    const { sent, lease } = recordingConnection('PGliteConnection');
    const connection = new RowLevelSecurityConnection(lease, { kind: 'tenant', tenantId: 'tnt_a' }, settings);
    await connection.executeQuery(CompiledQuery.raw('select 1'));
    expect(sent.map((query) => query.sql)).toEqual([
      'begin',
      'select set_config($1, $2, true), set_config($3, $4, true)',
      'select 1',
      'commit',
    ]);
    expect(sent[1]!.parameters).toEqual(['app.tenant_id', 'tnt_a', 'app.tenantkit_bypass', '']);
  });

  it('never inlines a value outside the safe set: it falls back to parameters', async () => {
    const { sent, lease } = recordingConnection('PostgresConnection');
    const connection = new RowLevelSecurityConnection(lease, { kind: 'tenant', tenantId: "x'); drop table t; --" }, settings);
    await connection.executeQuery(CompiledQuery.raw('select 1'));
    expect(sent[0]!.sql).toBe('begin');
    expect(sent[1]!.parameters).toContain("x'); drop table t; --");
  });

  it('rolls back when the statement fails, so the pooled connection carries no transaction', async () => {
    const { sent, lease } = recordingConnection('PostgresConnection', 'select boom');
    const connection = new RowLevelSecurityConnection(lease, { kind: 'tenant', tenantId: 'tnt_a' }, settings);
    await expect(connection.executeQuery(CompiledQuery.raw('select boom'))).rejects.toThrow('failed: select boom');
    expect(sent.map((query) => query.sql).slice(1)).toEqual(['select boom', 'rollback']);
  });

  it('rolls back when BEGIN with the settings fails on node-postgres', async () => {
    const combined = "begin; select set_config('app.tenant_id', 'tnt_a', true), set_config('app.tenantkit_bypass', '', true)";
    const { sent, lease } = recordingConnection('PostgresConnection', combined);
    const connection = new RowLevelSecurityConnection(lease, { kind: 'tenant', tenantId: 'tnt_a' }, settings);
    await expect(connection.executeQuery(CompiledQuery.raw('select 1'))).rejects.toThrow('failed: begin');
    expect(sent.map((query) => query.sql)).toEqual([combined, 'rollback']);
  });

  it('sets the bypass setting on for a bypass claim and clears the tenant', async () => {
    const { sent, lease } = recordingConnection('PostgresConnection');
    const connection = new RowLevelSecurityConnection(lease, { kind: 'bypass' }, settings);
    await connection.beginTransaction({});
    expect(sent[0]!.sql).toBe("begin; select set_config('app.tenant_id', '', true), set_config('app.tenantkit_bypass', 'on', true)");
  });
});
