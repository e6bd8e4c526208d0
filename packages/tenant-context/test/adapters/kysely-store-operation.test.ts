import { describe, expect, it } from 'vitest';
import { insertConflictRetries, runStoreOperation } from '../../src/adapters/kysely/database-errors.js';
import { TenantContextError } from '../../src/errors.js';

// The driver errors as mysql2 and pg shape them; the statement itself is what a real server
// rolled back. Concurrent duplicate inserts that deadlock on MariaDB run in the conformance suite.
const deadlock = () => Object.assign(new Error('Deadlock found when trying to get lock'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 });
const duplicate = () => Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });
const taken = () => new TenantContextError('MEMBERSHIP_ALREADY_EXISTS', 'already a member');

describe('runStoreOperation conflict retries', () => {
  it('runs a deadlocked autocommit statement again, and reports the duplicate the retry finds', async () => {
    const outcomes = [deadlock(), duplicate()];
    let calls = 0;
    await expect(
      runStoreOperation(
        'insertMembership',
        async () => {
          calls += 1;
          throw outcomes.shift();
        },
        taken,
        2,
      ),
    ).rejects.toMatchObject({ code: 'MEMBERSHIP_ALREADY_EXISTS' });
    expect(calls).toBe(2);
  });

  it('gives up after the given retries with STORE_CONFLICT', async () => {
    let calls = 0;
    const body = async () => {
      calls += 1;
      throw deadlock();
    };
    await expect(runStoreOperation('insertTenant', body, taken, 2)).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect(calls).toBe(3);
  });

  it('never retries by default, nor inside a caller transaction', async () => {
    let calls = 0;
    const body = async () => {
      calls += 1;
      throw deadlock();
    };
    await expect(runStoreOperation('insertTenant', body, taken)).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    await expect(runStoreOperation('insertTenant', body, taken, insertConflictRetries({ isTransaction: true }))).rejects.toMatchObject({
      code: 'STORE_CONFLICT',
    });
    expect(calls).toBe(2);
    expect(insertConflictRetries({ isTransaction: false })).toBe(2);
  });
});
