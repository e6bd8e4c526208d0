import { kyselyAuthStores, migrateAuthSchema } from '@tenantkit/auth/kysely';
import {
  buildAccountRecord,
  buildApiKeyRecord,
  buildOneTimeTokenRecord,
  buildRefreshFamilyRecord,
  buildRefreshTokenRecord,
  buildSessionRecord,
  createTemporaryMariadbDatabase,
  describeWithService,
  unusedLocalPort,
  type TemporaryDatabase,
} from '@tenantkit/test-utils';
import { Kysely, MysqlDialect } from 'kysely';
import { createPool, type PoolOptions } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { describeMigratedKyselyAuthStores } from './kysely-auth-adapter-suite.js';

await describeWithService('mariadb', 'kysely auth stores on MariaDB', () => {
  let database: TemporaryDatabase | undefined;
  const instances: Kysely<any>[] = [];

  function connect(url: string, options: PoolOptions = {}): Kysely<any> {
    const instance = new Kysely<any>({ dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 10, ...options }) }) });
    instances.push(instance);
    return instance;
  }

  describeMigratedKyselyAuthStores({
    name: 'kysely on MariaDB',
    dialect: 'mysql',
    async open() {
      database = await createTemporaryMariadbDatabase();
      return connect(database.url);
    },
    async close() {
      for (const instance of instances) await instance.destroy();
      await database?.drop();
    },
    connectAgain: () => connect(database?.url ?? ''),
  });

  describe('MySQL row counts', () => {
    it('decides by what it read, not by the changed-rows count of a client without FOUND_ROWS', async () => {
      // Without FOUND_ROWS the server reports 0 affected rows for an update that writes the
      // values a row already has.
      const stores = kyselyAuthStores(connect(database?.url ?? '', { flags: ['-FOUND_ROWS'] }));
      const account = buildAccountRecord({ id: 'usr_rows', email: 'rows@example.com', createdAt: 0, updatedAt: 5 });
      expect(await stores.accounts.create(account)).toBe('created');
      // Same hash, same time: the row does not change, and the rehash still happened.
      expect(await stores.accounts.rehashPassword(account.id, account.passwordHash ?? '', account.passwordHash ?? '', 5)).toBe(true);
      expect(await stores.accounts.update(account.id, { disabledAt: null }, 5)).toEqual(account);
      const session = buildSessionRecord({ id: 'ses_rows', tokenHash: 'hash_rows', userId: account.id, createdAt: 0 });
      expect(await stores.sessions.create(session)).toBe('created');
      expect(await stores.sessions.touch(session.id, { now: 0, expiresAt: session.expiresAt })).toEqual(session);
      const family = buildRefreshFamilyRecord({ id: 'rtf_rows', userId: account.id, createdAt: 0 });
      expect(await stores.refreshTokens.createFamily(family, buildRefreshTokenRecord({ tokenHash: 'hash_rt_rows', familyId: family.id, issuedAt: 0 }))).toBe(
        'created',
      );
      expect(await stores.refreshTokens.revokeFamily(family.id, 'logout', 1)).toBe(true);
      expect(await stores.refreshTokens.revokeFamily(family.id, 'logout', 1)).toBe(false);
      const key = buildApiKeyRecord({ id: 'key_rows', tenantId: 'tnt_rows', createdAt: 0 });
      expect(await stores.apiKeys.create(key)).toBe('created');
      expect(await stores.apiKeys.revoke('tnt_rows', key.id, 1)).toBe(true);
      expect(await stores.apiKeys.revoke('tnt_rows', key.id, 1)).toBe(false);
      const token = buildOneTimeTokenRecord({ tokenHash: 'hash_ott_rows', subject: account.id, createdAt: 0 });
      expect(await stores.oneTimeTokens.issue(token)).toBe(0);
      expect(await stores.oneTimeTokens.issue({ ...token, tokenHash: 'hash_ott_rows_2' })).toBe(1);
      expect(await stores.oneTimeTokens.consume('hash_ott_rows_2', 'password-reset', 1)).toEqual({ ...token, tokenHash: 'hash_ott_rows_2' });
    });
  });

  describe('an unreachable server', () => {
    it('fails reads, writes, atomic steps and the migration with STORE_UNAVAILABLE, keeping the driver error', async () => {
      const port = await unusedLocalPort();
      const unreachable = connect(`mysql://root@127.0.0.1:${port}/test`, { connectTimeout: 2_000 });
      const stores = kyselyAuthStores(unreachable);
      await expect(stores.apiKeys.findById('key_1')).rejects.toMatchObject({
        name: 'AuthError',
        code: 'STORE_UNAVAILABLE',
        status: 503,
        cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
      });
      await expect(stores.oneTimeTokens.consume('hash', 'password-reset', 0)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(stores.revocations.raiseEpoch('tenant', 'tnt_1', 1)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(migrateAuthSchema(unreachable)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });
  });
});
