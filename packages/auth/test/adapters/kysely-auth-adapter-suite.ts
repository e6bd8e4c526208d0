import type { AuthStores, RefreshRotateOutcome } from '@tenantkit/auth';
import { authMigrationProvider, authMigrations, kyselyAuthStores, migrateAuthSchema } from '@tenantkit/auth/kysely';
import { createManualClock } from '@tenantkit/core';
import type { SqlDialect } from '@tenantkit/core/kysely';
import {
  buildAccountRecord,
  buildApiKeyRecord,
  buildOneTimeTokenRecord,
  buildRefreshFamilyRecord,
  buildRefreshTokenRecord,
  buildSessionRecord,
  describeAuthStoreConformance,
} from '@tenantkit/test-utils';
import { CamelCasePlugin, Migrator, NO_MIGRATIONS, sql, type Kysely } from 'kysely';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/*
 * What the Kysely auth stores add beyond the store contracts (the shared conformance suite
 * covers those): migrations, options, column fidelity, caller transactions, atomicity across
 * separate connection pools (standing in for separate processes) and error translation. Each
 * dialect's test file runs it against its own database.
 */

/** How a dialect's test file opens and closes its database. */
export interface KyselyAuthTestDatabase {
  /** Suite name, e.g. `'kysely on PostgreSQL'`. */
  name: string;
  dialect: SqlDialect;
  /** Opens the database (once, before all tests) and returns the Kysely instance to migrate and test. */
  open(): Promise<Kysely<any>> | Kysely<any>;
  /** Closes every connection and removes the database (after all tests). */
  close(): Promise<void>;
  /**
   * Opens another, independent Kysely instance (own pool or connection) on the same database,
   * standing in for another application process. Absent for an embedded database (PGlite).
   */
  connectAgain?: () => Kysely<any>;
}

/** What `migrateAuthSchema` reports when it brings an empty database up to date. */
export const allAuthMigrationsApplied = [{ migrationName: 'tenantkit_auth_0001_initial_schema', direction: 'Up', status: 'Success' }] as const;

const authTables = [
  'auth_accounts',
  'auth_sessions',
  'auth_refresh_families',
  'auth_refresh_tokens',
  'auth_revocations',
  'auth_revocation_epochs',
  'auth_one_time_tokens',
  'auth_api_keys',
];

/**
 * The base time: the start of this second, so that what the tests write is live by the wall
 * clock too (the revocation sweep of the default system clock deletes entries past their end).
 */
const t0 = Math.floor(Date.now() / 1000) * 1000;
const minuteMs = 60_000;
const dayMs = 86_400_000;

/** Ids unique per call, so tests on one shared database never meet each other's rows. */
function uniqueId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

function countOf<Value>(values: readonly Value[], predicate: (value: Value) => boolean): number {
  return values.filter(predicate).length;
}

/**
 * Opens and migrates the database, runs the shared conformance suite, then the adapter-specific
 * tests, and closes. Returns the migrated instance's accessor.
 */
export function describeMigratedKyselyAuthStores(database: KyselyAuthTestDatabase): () => Kysely<any> {
  let db: Kysely<any> | undefined;
  const current = (): Kysely<any> => {
    if (db === undefined) throw new Error(`${database.name}: the database is not open`);
    return db;
  };
  beforeAll(async () => {
    db = await database.open();
    expect(await migrateAuthSchema(db)).toEqual(allAuthMigrationsApplied);
  });
  afterAll(() => database.close());

  // Ids are unique per test, so the stores need no wipe between tests.
  describeAuthStoreConformance(database.name, async () => ({ stores: kyselyAuthStores(current()) }));

  const stores = (): AuthStores => kyselyAuthStores(current());

  describe(`${database.name}: migrations`, () => {
    it('runs nothing, and keeps the data, when the schema is already up to date (idempotent)', async () => {
      const account = buildAccountRecord({ id: uniqueId('usr'), email: `${uniqueId('m')}@example.com`, createdAt: t0 });
      expect(await stores().accounts.create(account)).toBe('created');
      expect(await migrateAuthSchema(current())).toEqual([]);
      expect(await migrateAuthSchema(current())).toEqual([]);
      expect(await stores().accounts.findById(account.id)).toEqual(account);
    });

    it('migrates an empty database under another prefix once, whose stores keep their data apart', async () => {
      expect(await migrateAuthSchema(current(), { tablePrefix: 'acme_' })).toEqual(allAuthMigrationsApplied);
      expect(await migrateAuthSchema(current(), { tablePrefix: 'acme_' })).toEqual([]);
      const acme = kyselyAuthStores(current(), { tablePrefix: 'acme_' });
      const key = buildApiKeyRecord({ id: uniqueId('key'), tenantId: 'tnt_acme', createdAt: t0 });
      expect(await acme.apiKeys.create(key)).toBe('created');
      expect(await stores().apiKeys.findById(key.id)).toBeNull();
      expect(await acme.apiKeys.findById(key.id)).toEqual(key);
    });

    it.skipIf(database.connectAgain === undefined)('migrates exactly once when several processes start at the same time', async () => {
      const connectAgain = database.connectAgain as () => Kysely<any>;
      const runs = await Promise.all([current(), connectAgain(), connectAgain()].map((instance) => migrateAuthSchema(instance, { tablePrefix: 'race_' })));
      expect(runs.flat()).toEqual(allAuthMigrationsApplied);
      const raced = kyselyAuthStores(current(), { tablePrefix: 'race_' });
      expect(await raced.revocations.raiseEpoch('user', 'usr_1', t0)).toBe(t0);
    });

    it('works with an application-run Migrator, up, re-run and down', async () => {
      const migrator = new Migrator({
        db: current(),
        provider: authMigrationProvider(database.dialect, { tablePrefix: 'own_' }),
        migrationTableName: 'own_auth_migrations',
        migrationLockTableName: 'own_auth_migrations_lock',
      });
      const up = await migrator.migrateToLatest();
      expect(up.error).toBeUndefined();
      expect(up.results?.map((result) => result.migrationName)).toEqual(['tenantkit_auth_0001_initial_schema']);
      expect((await migrator.migrateToLatest()).results).toEqual([]);
      const own = kyselyAuthStores(current(), { tablePrefix: 'own_' });
      const account = buildAccountRecord({ id: 'usr_own', email: 'own@example.com', createdAt: t0 });
      expect(await own.accounts.create(account)).toBe('created');

      // Running the migration's statements again (a crash before its bookkeeping, on MySQL
      // without transactional DDL) changes nothing.
      await authMigrations(database.dialect, { tablePrefix: 'own_' }).tenantkit_auth_0001_initial_schema?.up(current());
      expect(await own.accounts.findById('usr_own')).toEqual(account);

      const down = await migrator.migrateTo(NO_MIGRATIONS);
      expect(down.error).toBeUndefined();
      await expect(own.accounts.findById('usr_own')).rejects.toMatchObject({ name: 'AuthError', code: 'CONFIGURATION_INVALID' });
      await expect(own.accounts.create(account)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      for (const table of ['own_auth_migrations', 'own_auth_migrations_lock']) await sql`drop table ${sql.table(table)}`.execute(current());
    });

    it('rejects invalid arguments with CONFIGURATION_INVALID', async () => {
      await expect(migrateAuthSchema(current(), { tablePrefix: 'Bad-Prefix' })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      expect(() => authMigrations('oracle' as SqlDialect)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      expect(() => authMigrations(database.dialect, { tablePrefix: '9x' })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      expect(() => authMigrations(database.dialect, { prefix: 'x_' } as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      await current()
        .transaction()
        .execute(async (trx) => {
          await expect(migrateAuthSchema(trx)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
        });
    });

    it('tells that the schema is missing with CONFIGURATION_INVALID, keeping the driver error', async () => {
      const missing = kyselyAuthStores(current(), { tablePrefix: 'never_migrated_' });
      await expect(missing.sessions.findById('ses_1', t0)).rejects.toMatchObject({ name: 'AuthError', code: 'CONFIGURATION_INVALID', cause: expect.any(Error) });
      await expect(missing.revocations.check({ jti: 'jti_1', sessionId: null, userId: 'usr_1', tenantId: null }, t0)).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
      });
      await expect(missing.oneTimeTokens.issue(buildOneTimeTokenRecord({ tokenHash: 'h', subject: 'usr_1', createdAt: t0 }))).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
      });
    });

    it('creates tenant_id-leading API key index and the unique keys the atomic steps rely on', async () => {
      // Proven by behaviour rather than catalog queries, which differ per dialect: a second
      // account with one email, a second session with one token hash and a second live
      // one-time token per subject are refused by the database itself.
      const email = `${uniqueId('u')}@example.com`;
      expect(await stores().accounts.create(buildAccountRecord({ id: uniqueId('usr'), email, createdAt: t0 }))).toBe('created');
      await expect(
        sql`insert into ${sql.table('tenantkit_auth_accounts')} (id, email, password_history, created_at, updated_at) values (${uniqueId('usr')}, ${email}, '[]', 0, 0)`.execute(
          current(),
        ),
      ).rejects.toThrow();
      const subject = uniqueId('usr');
      await stores().oneTimeTokens.issue(buildOneTimeTokenRecord({ tokenHash: uniqueId('h'), subject, createdAt: t0 }));
      await expect(
        sql`insert into ${sql.table('tenantkit_auth_one_time_tokens')} (token_hash, purpose, subject, tenant_id, data, created_at, expires_at) values (${uniqueId('h')}, 'password-reset', ${subject}, '', '{}', 0, 0)`.execute(
          current(),
        ),
      ).rejects.toThrow();
    });
  });

  describe(`${database.name}: options`, () => {
    it('validates the instance and options when the factory is called', () => {
      const invalid: unknown[] = [
        { tablePrefix: '' },
        { tablePrefix: 'UPPER_' },
        { tablePrefix: 'a'.repeat(32) },
        { dialect: 'oracle' },
        { clock: {} },
        { clock: Date.now },
        { other: 1 },
        null,
      ];
      for (const options of invalid) {
        expect(() => kyselyAuthStores(current(), options as never)).toThrow(expect.objectContaining({ name: 'AuthError', code: 'CONFIGURATION_INVALID' }));
      }
      expect(() => kyselyAuthStores({} as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      expect(() => kyselyAuthStores(current(), { tablePrefix: `a${'b'.repeat(30)}`, dialect: database.dialect, clock: createManualClock() })).not.toThrow();
    });

    it('runs its queries without the plugins of the given instance', async () => {
      const camel = kyselyAuthStores(current().withPlugin(new CamelCasePlugin()));
      const session = buildSessionRecord({ id: uniqueId('ses'), tokenHash: uniqueId('h'), userId: uniqueId('usr'), tenantId: 'tnt_a', createdAt: t0 });
      expect(await camel.sessions.create(session)).toBe('created');
      expect(await camel.sessions.findByTokenHash(session.tokenHash, t0)).toEqual(session);
      expect(await camel.sessions.listByUser(session.userId, t0)).toEqual([session]);
    });
  });

  describe(`${database.name}: column fidelity`, () => {
    it('round-trips the extremes of epoch milliseconds exactly', async () => {
      const max = Number.MAX_SAFE_INTEGER;
      const account = buildAccountRecord({
        id: uniqueId('usr'),
        email: `${uniqueId('x')}@example.com`,
        createdAt: -max,
        updatedAt: max,
        passwordChangedAt: 0,
        emailVerifiedAt: max - 1,
        passwordHistory: ['$scrypt$a', '$scrypt$b'],
      });
      expect(await stores().accounts.create(account)).toBe('created');
      expect(await stores().accounts.findById(account.id)).toEqual(account);
      const key = buildApiKeyRecord({ id: uniqueId('key'), tenantId: uniqueId('tnt'), createdAt: max, expiresAt: max, lastUsedAt: -1 });
      expect(await stores().apiKeys.create(key)).toBe('created');
      expect(await stores().apiKeys.findById(key.id)).toEqual(key);
      expect(await stores().revocations.raiseEpoch('tenant', uniqueId('tnt'), max)).toBe(max);
    });

    it('compares ids, hashes and emails byte-wise: case and trailing spaces make different keys', async () => {
      const email = `${uniqueId('case')}@example.com`;
      expect(await stores().accounts.create(buildAccountRecord({ id: uniqueId('usr'), email, createdAt: t0 }))).toBe('created');
      for (const variant of [email.toUpperCase(), `${email} `, `é${email}`]) {
        expect(await stores().accounts.findByEmail(variant)).toBeNull();
        expect(await stores().accounts.create(buildAccountRecord({ id: uniqueId('usr'), email: variant, createdAt: t0 }))).toBe('created');
      }
      const hash = uniqueId('hash');
      const token = buildOneTimeTokenRecord({ tokenHash: hash, subject: uniqueId('usr'), createdAt: t0 });
      await stores().oneTimeTokens.issue(token);
      expect(await stores().oneTimeTokens.consume(hash.toUpperCase(), 'password-reset', t0)).toBeNull();
      expect(await stores().oneTimeTokens.consume(`${hash} `, 'password-reset', t0)).toBeNull();
      expect(await stores().oneTimeTokens.consume(hash, 'password-reset', t0)).toEqual(token);
    });

    it("tells a taken email from a taken id by the violated key, and says 'id-taken' when both are, as the memory store does", async () => {
      const account = buildAccountRecord({ id: uniqueId('usr'), email: `${uniqueId('both')}@example.com`, createdAt: t0 });
      expect(await stores().accounts.create(account)).toBe('created');
      expect(await stores().accounts.create({ ...account, id: uniqueId('usr') })).toBe('email-taken');
      expect(await stores().accounts.create({ ...account, email: `${uniqueId('both')}@example.com` })).toBe('id-taken');
      expect(await stores().accounts.create({ ...account, passwordHash: null })).toBe('id-taken');
      expect(await stores().accounts.findById(account.id)).toEqual(account);
    });

    it('rejects values a column cannot hold exactly with VALIDATION_FAILED and writes nothing', async () => {
      const id = uniqueId('usr');
      const invalid = [
        buildAccountRecord({ id: 'u'.repeat(129), email: `${uniqueId('v')}@example.com`, createdAt: t0 }),
        buildAccountRecord({ id, email: `${'e'.repeat(320)}@example.com`, createdAt: t0 }),
        buildAccountRecord({ id, email: `nul\u0000${uniqueId('v')}@example.com`, createdAt: t0 }),
        buildAccountRecord({ id, email: `${uniqueId('v')}@example.com`, passwordHash: 'lone \ud800 surrogate', createdAt: t0 }),
        buildAccountRecord({ id, email: `${uniqueId('v')}@example.com`, createdAt: 1.5 }),
        buildAccountRecord({ id, email: `${uniqueId('v')}@example.com`, createdAt: Number.MAX_SAFE_INTEGER + 1 }),
      ];
      for (const account of invalid) await expect(stores().accounts.create(account)).rejects.toMatchObject({ name: 'AuthError', code: 'VALIDATION_FAILED' });
      expect(await stores().accounts.findById(id)).toBeNull();
      await expect(
        stores().oneTimeTokens.issue(buildOneTimeTokenRecord({ tokenHash: uniqueId('h'), subject: 's', tenantId: '', purpose: 'invitation', createdAt: t0 })),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(
        stores().oneTimeTokens.issue(buildOneTimeTokenRecord({ tokenHash: uniqueId('h'), subject: 's', data: { big: 1n } as never, createdAt: t0 })),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(stores().revocations.revokeToken('j'.repeat(129), t0)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(stores().revocations.raiseEpoch('user', 'usr_1', 0.5)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    it('answers lookups with values no column can hold as absent, without a driver error', async () => {
      const odd = ['nul\u0000byte', 'lone \udc00 surrogate', 'x'.repeat(2_000)];
      for (const value of odd) {
        expect(await stores().accounts.findByEmail(value)).toBeNull();
        expect(await stores().accounts.findById(value)).toBeNull();
        expect(await stores().sessions.findByTokenHash(value, t0)).toBeNull();
        expect(await stores().oneTimeTokens.consume(value, 'password-reset', t0)).toBeNull();
        expect(await stores().apiKeys.findById(value)).toBeNull();
        expect(await stores().refreshTokens.rotate({
          presentedHash: value,
          next: buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: 'rtf_x', issuedAt: t0 }),
          successorSealed: 'sealed',
          now: t0,
          graceMs: 0,
        })).toEqual({ outcome: 'invalid' });
        expect(await stores().revocations.check({ jti: value, sessionId: value, userId: value, tenantId: value }, t0)).toEqual({
          jtiRevoked: false,
          sessionRevoked: false,
          userEpoch: 0,
          tenantEpoch: 0,
        });
      }
    });

    it('refuses to return an integer it cannot represent exactly, or a JSON column of the wrong shape', async () => {
      const key = buildApiKeyRecord({ id: uniqueId('key'), tenantId: uniqueId('tnt'), createdAt: t0 });
      await stores().apiKeys.create(key);
      await sql`update ${sql.table('tenantkit_auth_api_keys')} set ${sql.ref('created_at')} = 9007199254740993 where id = ${key.id}`.execute(current());
      await expect(stores().apiKeys.findById(key.id)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID', details: { column: 'created_at' } });
      await sql`update ${sql.table('tenantkit_auth_api_keys')} set created_at = 0, scopes = ${'{"not":"an array"}'} where id = ${key.id}`.execute(current());
      await expect(stores().apiKeys.findById(key.id)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID', details: { column: 'scopes' } });
      await sql`update ${sql.table('tenantkit_auth_api_keys')} set scopes = ${'[1, 2]'} where id = ${key.id}`.execute(current());
      await expect(stores().apiKeys.findById(key.id)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID', details: { column: 'scopes' } });
    });

    it("stores a one-time token of no tenant under the tenant id '' and reads it back as null", async () => {
      const token = buildOneTimeTokenRecord({ tokenHash: uniqueId('h'), subject: uniqueId('usr'), createdAt: t0 });
      await stores().oneTimeTokens.issue(token);
      const { rows } = await sql<{ tenant_id: string }>`select tenant_id from ${sql.table('tenantkit_auth_one_time_tokens')} where token_hash = ${token.tokenHash}`.execute(
        current(),
      );
      expect(rows).toEqual([{ tenant_id: '' }]);
      expect(await stores().oneTimeTokens.voidFor('password-reset', token.subject, '')).toBe(0);
      expect(await stores().oneTimeTokens.voidFor('password-reset', token.subject, null)).toBe(1);
    });
  });

  describe(`${database.name}: sweeps of expired rows`, () => {
    const countRows = async (table: string): Promise<number> => {
      const { rows } = await sql<{ count: unknown }>`select count(*) as count from ${sql.table(table)}`.execute(current());
      return Number(rows[0]?.count);
    };

    it('deletes revocation entries past their end by the clock on every 64th revocation, keeping the live ones', async () => {
      await migrateAuthSchema(current(), { tablePrefix: 'sweep_' });
      const clock = createManualClock(t0);
      const swept = kyselyAuthStores(current(), { tablePrefix: 'sweep_', clock });
      for (let index = 0; index < 40; index += 1) await swept.revocations.revokeToken(`jti_old_${index}`, t0 - minuteMs + index);
      for (let index = 0; index < 23; index += 1) await swept.revocations.revokeSession(`ses_live_${index}`, t0 + dayMs);
      expect(await countRows('sweep_auth_revocations')).toBe(63);
      await swept.revocations.revokeToken('jti_live', t0 + 1);
      expect(await countRows('sweep_auth_revocations')).toBe(24);
      const state = await swept.revocations.check({ jti: 'jti_live', sessionId: 'ses_live_0', userId: 'usr_1', tenantId: null }, t0);
      expect(state).toMatchObject({ jtiRevoked: true, sessionRevoked: true });
    });

    it('deletes sessions expired by the clock on every 64th create only when a clock is given', async () => {
      await migrateAuthSchema(current(), { tablePrefix: 'sweep_' });
      const clock = createManualClock(t0);
      const createSessions = async (target: AuthStores, count: number, expiresAt: number) => {
        for (let index = 0; index < count; index += 1) {
          const session = buildSessionRecord({ id: uniqueId('ses'), tokenHash: uniqueId('h'), userId: 'usr_sweep', createdAt: t0 - dayMs, expiresAt });
          expect(await target.sessions.create(session)).toBe('created');
        }
      };
      const unswept = kyselyAuthStores(current(), { tablePrefix: 'sweep_' });
      await createSessions(unswept, 64, t0);
      expect(await countRows('sweep_auth_sessions')).toBe(64);
      const swept = kyselyAuthStores(current(), { tablePrefix: 'sweep_', clock });
      await createSessions(swept, 63, t0 + minuteMs);
      expect(await countRows('sweep_auth_sessions')).toBe(127);
      await createSessions(swept, 1, t0 + minuteMs);
      expect(await countRows('sweep_auth_sessions')).toBe(64);
      expect(await swept.sessions.listByUser('usr_sweep', t0)).toHaveLength(64);
    });
  });

  describe(`${database.name}: caller transactions`, () => {
    it('makes the writes of stores on a caller transaction part of it, and rolls them back with it', async () => {
      const account = buildAccountRecord({ id: uniqueId('usr'), email: `${uniqueId('tx')}@example.com`, createdAt: t0 });
      const family = buildRefreshFamilyRecord({ id: uniqueId('rtf'), userId: account.id, createdAt: t0 });
      const first = buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: family.id, issuedAt: t0 });
      const rollback = new Error('roll back');
      await expect(
        current()
          .transaction()
          .execute(async (trx) => {
            const inTransaction = kyselyAuthStores(trx);
            expect(await inTransaction.accounts.create(account)).toBe('created');
            // A taken email inside the caller's transaction is an outcome, not an aborted transaction.
            expect(await inTransaction.accounts.create({ ...account, id: uniqueId('usr') })).toBe('email-taken');
            expect(await inTransaction.accounts.create({ ...account, email: `${uniqueId('tx')}@example.com` })).toBe('id-taken');
            const updated = await inTransaction.accounts.setPassword(account.id, { passwordHash: '$scrypt$next', historyLimit: 2, now: t0 + 1 });
            expect(updated).toMatchObject({ passwordHash: '$scrypt$next', passwordHistory: [account.passwordHash] });
            expect(await inTransaction.refreshTokens.createFamily(family, first)).toBe('created');
            const next = buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: family.id, generation: 1, issuedAt: t0 + 1 });
            expect(await inTransaction.refreshTokens.rotate({ presentedHash: first.tokenHash, next, successorSealed: 's', now: t0 + 1, graceMs: 0 })).toEqual({
              outcome: 'rotated',
              family,
            });
            expect(await inTransaction.accounts.findById(account.id)).toEqual(updated);
            throw rollback;
          }),
      ).rejects.toBe(rollback);
      expect(await stores().accounts.findById(account.id)).toBeNull();
      expect(await stores().refreshTokens.findFamily(family.id)).toBeNull();
    });
  });

  describe(`${database.name}: atomicity across processes`, () => {
    const connectAgain = database.connectAgain;
    /** Two stores on separate connection pools (or connections) of one database. */
    const twoPools = (): [AuthStores, AuthStores] => [stores(), kyselyAuthStores((connectAgain as () => Kysely<any>)())];

    it.skipIf(connectAgain === undefined)("20 concurrent refresh rotations of one token through two pools → exactly one 'rotated'", async () => {
      const pools = twoPools();
      const family = buildRefreshFamilyRecord({ id: uniqueId('rtf'), userId: uniqueId('usr'), createdAt: t0 });
      const first = buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: family.id, issuedAt: t0 });
      expect(await pools[0].refreshTokens.createFamily(family, first)).toBe('created');
      const now = t0 + minuteMs;
      const attempts = Array.from({ length: 20 }, (_, index) => ({
        next: buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: family.id, generation: 1, issuedAt: now }),
        successorSealed: `sealed-${index}`,
      }));
      const outcomes = await Promise.all(
        attempts.map(({ next, successorSealed }, index) =>
          pools[index % 2]!.refreshTokens.rotate({ presentedHash: first.tokenHash, next, successorSealed, now, graceMs: 10_000 }),
        ),
      );
      const winner = outcomes.findIndex((outcome) => outcome.outcome === 'rotated');
      expect(countOf(outcomes, (outcome) => outcome.outcome === 'rotated')).toBe(1);
      expect(outcomes.filter((outcome) => outcome.outcome !== 'rotated')).toEqual(
        Array.from({ length: 19 }, () => ({ outcome: 'grace', family, successorSealed: attempts[winner]!.successorSealed })),
      );
      // Only the winner's successor was stored.
      const nextOf = () => buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: family.id, generation: 2, issuedAt: now });
      const rotateSuccessor = (index: number) =>
        pools[1].refreshTokens.rotate({ presentedHash: attempts[index]!.next.tokenHash, next: nextOf(), successorSealed: 's', now: now + 1, graceMs: 0 });
      expect((await rotateSuccessor((winner + 1) % 20)).outcome).toBe('invalid');
      expect((await rotateSuccessor(winner)).outcome).toBe('rotated');
    });

    it.skipIf(connectAgain === undefined)("with no grace window, the losers of 20 concurrent rotations see reuse exactly once, then a revoked family", async () => {
      const pools = twoPools();
      const family = buildRefreshFamilyRecord({ id: uniqueId('rtf'), userId: uniqueId('usr'), createdAt: t0 });
      const first = buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: family.id, issuedAt: t0 });
      expect(await pools[0].refreshTokens.createFamily(family, first)).toBe('created');
      const now = t0 + minuteMs;
      const outcomes: RefreshRotateOutcome[] = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          pools[index % 2]!.refreshTokens.rotate({
            presentedHash: first.tokenHash,
            next: buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: family.id, generation: 1, issuedAt: now }),
            successorSealed: `sealed-${index}`,
            now,
            graceMs: 0,
          }),
        ),
      );
      expect(countOf(outcomes, (outcome) => outcome.outcome === 'rotated')).toBe(1);
      expect(countOf(outcomes, (outcome) => outcome.outcome === 'reused')).toBe(1);
      expect(countOf(outcomes, (outcome) => outcome.outcome === 'invalid')).toBe(18);
      expect(await pools[1].refreshTokens.findFamily(family.id)).toEqual({ ...family, revokedAt: now, revokedReason: 'reuse' });
    });

    it.skipIf(connectAgain === undefined)('10 concurrent consumes of one one-time token through two pools → exactly one record', async () => {
      const pools = twoPools();
      const token = buildOneTimeTokenRecord({ tokenHash: uniqueId('h'), subject: uniqueId('usr'), createdAt: t0, data: { note: 'once' } });
      expect(await pools[0].oneTimeTokens.issue(token)).toBe(0);
      const taken = await Promise.all(
        Array.from({ length: 10 }, (_, index) => pools[index % 2]!.oneTimeTokens.consume(token.tokenHash, 'password-reset', t0 + 1)),
      );
      expect(taken.filter((record) => record !== null)).toEqual([token]);
    });

    it.skipIf(connectAgain === undefined)('10 concurrent reissues for one subject through two pools leave exactly one token, voiding the other nine', async () => {
      const pools = twoPools();
      const subject = uniqueId('usr');
      const tokens = Array.from({ length: 10 }, (_, index) => buildOneTimeTokenRecord({ tokenHash: uniqueId('h'), subject, createdAt: t0 + index }));
      const voided = await Promise.all(tokens.map((token, index) => pools[index % 2]!.oneTimeTokens.issue(token)));
      expect(voided.reduce((sum, count) => sum + count, 0)).toBe(9);
      const left = await Promise.all(tokens.map((token) => pools[0].oneTimeTokens.consume(token.tokenHash, 'password-reset', t0 + 10)));
      expect(countOf(left, (record) => record !== null)).toBe(1);
    });

    it.skipIf(connectAgain === undefined)("20 concurrent creates of one email through two pools → one 'created', the rest 'email-taken'", async () => {
      const pools = twoPools();
      const email = `${uniqueId('race')}@example.com`;
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, index) => pools[index % 2]!.accounts.create(buildAccountRecord({ id: uniqueId('usr'), email, createdAt: t0 }))),
      );
      expect(countOf(outcomes, (outcome) => outcome === 'created')).toBe(1);
      expect(countOf(outcomes, (outcome) => outcome === 'email-taken')).toBe(19);
    });

    it.skipIf(connectAgain === undefined)('10 concurrent compare-and-set password changes through two pools → exactly one wins, the history has no gap', async () => {
      const pools = twoPools();
      const account = buildAccountRecord({ id: uniqueId('usr'), email: `${uniqueId('cas')}@example.com`, createdAt: t0 });
      expect(await pools[0].accounts.create(account)).toBe('created');
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          pools[index % 2]!.accounts.setPassword(account.id, {
            passwordHash: `$scrypt$next-${index}`,
            historyLimit: 5,
            now: t0 + 1,
            expectedPasswordHash: account.passwordHash,
          }),
        ),
      );
      expect(countOf(outcomes, (outcome) => outcome === 'conflict')).toBe(9);
      const stored = await pools[1].accounts.findById(account.id);
      expect(stored?.passwordHistory).toEqual([account.passwordHash]);
      // Without compare-and-set every change lands, and each one pushes the one before it.
      await Promise.all(
        Array.from({ length: 6 }, (_, index) =>
          pools[index % 2]!.accounts.setPassword(account.id, { passwordHash: `$scrypt$free-${index}`, historyLimit: 10, now: t0 + 2 }),
        ),
      );
      const final = await pools[0].accounts.findById(account.id);
      expect(final?.passwordHistory).toHaveLength(7);
      expect(new Set([final?.passwordHash, ...(final?.passwordHistory ?? [])]).size).toBe(8);
    });

    it.skipIf(connectAgain === undefined)('concurrent epoch raises through two pools keep the largest, and each returns at least its own', async () => {
      const pools = twoPools();
      const userId = uniqueId('usr');
      const epochs = Array.from({ length: 12 }, (_, index) => t0 + ((index * 5) % 12) * 1000);
      const returned = await Promise.all(epochs.map((epoch, index) => pools[index % 2]!.revocations.raiseEpoch('user', userId, epoch)));
      returned.forEach((stored, index) => expect(stored).toBeGreaterThanOrEqual(epochs[index]!));
      const state = await pools[0].revocations.check({ jti: uniqueId('jti'), sessionId: null, userId, tenantId: null }, t0);
      expect(state.userEpoch).toBe(Math.max(...epochs));
    });

    it.skipIf(connectAgain === undefined)("10 concurrent rotations of one session through two pools → one 'rotated', the rest 'not-found'", async () => {
      const pools = twoPools();
      const session = buildSessionRecord({ id: uniqueId('ses'), tokenHash: uniqueId('h'), userId: uniqueId('usr'), createdAt: t0 });
      expect(await pools[0].sessions.create(session)).toBe('created');
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          pools[index % 2]!.sessions.rotate(session.id, { ...session, id: uniqueId('ses'), tokenHash: uniqueId('h') }, t0 + 1),
        ),
      );
      expect(countOf(outcomes, (outcome) => outcome === 'rotated')).toBe(1);
      expect(countOf(outcomes, (outcome) => outcome === 'not-found')).toBe(9);
      expect(await pools[1].sessions.listByUser(session.userId, t0 + 1)).toHaveLength(1);
    });

    it.skipIf(connectAgain === undefined)('revokes every live family of a user while rotations race, leaving no live descendant', async () => {
      const pools = twoPools();
      const userId = uniqueId('usr');
      const families = Array.from({ length: 6 }, () => buildRefreshFamilyRecord({ id: uniqueId('rtf'), userId, createdAt: t0, expiresAt: t0 + dayMs }));
      const firsts = families.map((family) => buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: family.id, issuedAt: t0 }));
      for (const [index, family] of families.entries()) expect(await pools[0].refreshTokens.createFamily(family, firsts[index]!)).toBe('created');
      const now = t0 + minuteMs;
      const [revoked] = await Promise.all([
        pools[1].refreshTokens.revokeByUser(userId, 'password-reset', now),
        ...firsts.map((first, index) =>
          pools[index % 2]!.refreshTokens.rotate({
            presentedHash: first.tokenHash,
            next: buildRefreshTokenRecord({ tokenHash: uniqueId('h'), familyId: first.familyId, generation: 1, issuedAt: now }),
            successorSealed: 's',
            now,
            graceMs: 0,
          }),
        ),
      ]);
      expect([...(revoked as readonly string[])].sort()).toEqual(families.map((family) => family.id).sort());
      for (const family of families) expect((await pools[0].refreshTokens.findFamily(family.id))?.revokedReason).toBe('password-reset');
    });
  });

  return current;
}
