import { PGlite } from '@electric-sql/pglite';
import { kyselyRbacStore, migrateRbacSchema } from '@tenantkit/rbac/kysely';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { describe, expect, it } from 'vitest';
import { describeMigratedKyselyRbacStore } from './kysely-rbac-adapter-suite.js';

describe('kysely RBAC store on PGlite', () => {
  let db: Kysely<any>;

  describeMigratedKyselyRbacStore({
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
    it('fails with STORE_UNAVAILABLE once PGlite is closed, reads and writes alike', async () => {
      const pglite = new PGlite();
      const closing = new Kysely<any>({ dialect: new PGliteDialect(pglite) });
      await migrateRbacSchema(closing);
      const store = kyselyRbacStore(closing);
      expect(await store.getPolicyVersion('tnt_a')).toBe(0);
      await pglite.close();
      await expect(store.getPolicyVersion('tnt_a')).rejects.toMatchObject({ name: 'RbacError', code: 'STORE_UNAVAILABLE', cause: expect.any(Error) });
      await expect(store.deleteTenantData('tnt_a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await closing.destroy().catch(() => {
        // Already closed underneath.
      });
    });
  });
});
