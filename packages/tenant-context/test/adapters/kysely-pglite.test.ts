import { PGlite } from '@electric-sql/pglite';
import { detectSqlDialect, kyselyTenantStore, migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { describe, expect, it } from 'vitest';
import { describeMigratedKyselyStores } from './kysely-adapter-suite.js';

describe('kysely adapter on PGlite', () => {
  let db: Kysely<any>;

  describeMigratedKyselyStores({
    name: 'kysely on PGlite',
    dialect: 'postgres',
    open() {
      db = new Kysely<any>({ dialect: new PGliteDialect(new PGlite()) });
      return db;
    },
    async close() {
      await db.destroy();
    },
  });

  describe('a closed database', () => {
    it('fails with STORE_UNAVAILABLE once PGlite is closed', async () => {
      const pglite = new PGlite();
      const closing = new Kysely<any>({ dialect: new PGliteDialect(pglite) });
      await migrateTenantContextSchema(closing);
      const store = kyselyTenantStore(closing);
      expect(await store.getTenantById('tnt_a')).toBeNull();
      await pglite.close();
      await expect(store.getTenantById('tnt_a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', cause: expect.any(Error) });
      await closing.destroy().catch(() => {
        // Already closed underneath.
      });
    });
  });
});

describe('SQL dialect detection without a database', () => {
  function kyselyWithAdapter(adapter: object): Kysely<any> {
    return { getExecutor: () => ({ adapter }) } as unknown as Kysely<any>;
  }

  it('falls back to the capability flags when class names are minified away', () => {
    expect(detectSqlDialect(kyselyWithAdapter({ supportsReturning: true, supportsTransactionalDdl: true }))).toBe('postgres');
    expect(detectSqlDialect(kyselyWithAdapter({ supportsReturning: false, supportsTransactionalDdl: false }))).toBe('mysql');
    expect(detectSqlDialect(kyselyWithAdapter({ supportsReturning: true, supportsTransactionalDdl: false }))).toBe('sqlite');
  });

  it('recognizes subclasses of the Kysely adapters by name', () => {
    class MysqlAdapter {
      readonly supportsReturning = true;
      readonly supportsTransactionalDdl = true;
    }
    class PlanetScaleAdapter extends MysqlAdapter {}
    expect(detectSqlDialect(kyselyWithAdapter(new PlanetScaleAdapter()))).toBe('mysql');
  });

  it('refuses MSSQL and unrecognizable adapters with CONFIGURATION_INVALID', () => {
    class MssqlAdapter {}
    const unrecognizable = [
      new MssqlAdapter(),
      { supportsOutput: true, supportsReturning: false, supportsTransactionalDdl: true },
      { supportsReturning: false, supportsTransactionalDdl: true },
    ];
    for (const adapter of unrecognizable) {
      expect(() => detectSqlDialect(kyselyWithAdapter(adapter))).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    }
    const withoutExecutor = {
      getExecutor: () => {
        throw new Error('no executor');
      },
    } as unknown as Kysely<any>;
    expect(() => detectSqlDialect(withoutExecutor)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
