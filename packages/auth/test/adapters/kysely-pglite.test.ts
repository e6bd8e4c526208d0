import { PGlite } from '@electric-sql/pglite';
import { kyselyAuthStores, migrateAuthSchema } from '@tenantkit/auth/kysely';
import { buildAccountRecord } from '@tenantkit/test-utils';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { describe, expect, it } from 'vitest';
import { describeMigratedKyselyAuthStores } from './kysely-auth-adapter-suite.js';

describe('kysely auth stores on PGlite', () => {
  let db: Kysely<any>;

  describeMigratedKyselyAuthStores({
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
      await migrateAuthSchema(closing);
      const stores = kyselyAuthStores(closing);
      expect(await stores.accounts.findById('usr_1')).toBeNull();
      await pglite.close();
      await expect(stores.accounts.findById('usr_1')).rejects.toMatchObject({ name: 'AuthError', code: 'STORE_UNAVAILABLE', cause: expect.any(Error) });
      await expect(stores.accounts.create(buildAccountRecord({ id: 'usr_1', email: 'a@example.com', createdAt: 0 }))).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      await expect(stores.revocations.raiseEpoch('user', 'usr_1', 1)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await closing.destroy().catch(() => {
        // Already closed underneath.
      });
    });
  });
});
