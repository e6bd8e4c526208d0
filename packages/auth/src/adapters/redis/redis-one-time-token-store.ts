import { AuthError } from '../../errors.js';
import type { OneTimeTokenPurpose, OneTimeTokenStore } from '../../store.js';
import { encodeRedisKeySegment } from './redis-auth-keyspace.js';
import { claimParts, releaseClaim, type RedisAuthStoreContext } from './redis-auth-store-context.js';
import { createClaimNonce } from './lookup-claim-scripts.js';
import { runAuthLuaScript } from './lua-script.js';
import { assertOneTimeTokenPurpose, hashFieldsOf, oneTimeTokenFromFields, oneTimeTokenToFields, timeArgument, ttlMs } from './redis-record-fields.js';
import { corruptRedisData, runRedisStoreCommand } from './redis-store-errors.js';
import {
  consumeOneTimeTokenScript,
  dropOneTimeTokenScript,
  issueOneTimeTokenScript,
  voidOneTimeTokensScript,
} from './one-time-token-scripts.js';

function hashList(reply: unknown): string[] {
  if (!Array.isArray(reply) || !reply.every((entry): entry is string => typeof entry === 'string')) {
    throw corruptRedisData('one-time token list', 'the reply is not a list of hashes');
  }
  return reply;
}

/**
 * The {@link OneTimeTokenStore} of {@link redisAuthStores}.
 *
 * Layout: the tokens of one purpose and subject share the slot `{ott:<purpose>:<subject>}` (a
 * set of hashes and one hash per token, PX until the token's end), so `issue` voids the earlier
 * tokens of the same purpose, subject and tenant in the same script that inserts the new one,
 * and `voidFor` (one tenant, no tenant or every tenant) is one script too. `{otth:<hash>}` says
 * which purpose and subject a hash belongs to; `consume` reads it, then takes the token with a
 * delete-and-return script on its slot that checks purpose and expiry, so of N concurrent
 * consumes at most one gets the record.
 *
 * @example
 * ```ts
 * const oneTimeTokens = redisOneTimeTokenStore({ client, keys: createRedisAuthKeyspace('tk:auth:'), clock: systemClock });
 * ```
 */
export function redisOneTimeTokenStore(context: RedisAuthStoreContext): OneTimeTokenStore {
  const { client, keys } = context;
  const run = <T>(command: () => Promise<T>) => runRedisStoreCommand(command);

  const groupPrefix = (purpose: OneTimeTokenPurpose, subject: string) =>
    `${encodeRedisKeySegment(purpose, 'purpose')} ${encodeRedisKeySegment(subject, 'subject')} `;

  async function releaseIndexes(purpose: OneTimeTokenPurpose, subject: string, hashes: readonly string[]): Promise<void> {
    await Promise.all(hashes.map((hash) => releaseClaim(context, keys.oneTimeIndex(hash), groupPrefix(purpose, subject), 'prefix')));
  }

  return {
    async issue(token) {
      const fields = oneTimeTokenToFields(token);
      const { purpose, subject, tokenHash } = token;
      const ttl = ttlMs(token.expiresAt, token.createdAt);
      const indexValue = `${groupPrefix(purpose, subject)}${createClaimNonce()}`;
      const previous = await run(() => client.call('SET', keys.oneTimeIndex(tokenHash), indexValue, 'PX', ttl, 'GET'));
      if (typeof previous === 'string' && !previous.startsWith(groupPrefix(purpose, subject))) {
        // The hash was issued before for another purpose or subject: it is replaced, never shared.
        const [otherPurpose, otherSubject] = claimParts(previous, 2, 'one-time token lookup') as [OneTimeTokenPurpose, string];
        await run(() =>
          runAuthLuaScript(
            client,
            dropOneTimeTokenScript,
            [keys.oneTimeGroup(otherPurpose, otherSubject), keys.oneTimeToken(otherPurpose, otherSubject, tokenHash)],
            [encodeRedisKeySegment(tokenHash, 'tokenHash')],
          ),
        );
      }
      const voided = hashList(
        await run(() =>
          runAuthLuaScript(
            client,
            issueOneTimeTokenScript,
            [keys.oneTimeGroup(purpose, subject), keys.oneTimeToken(purpose, subject, tokenHash), keys.oneTimeBase(purpose, subject)],
            [ttl, encodeRedisKeySegment(tokenHash, 'tokenHash'), token.tenantId === null ? 'null' : 'value', token.tenantId ?? '', ...fields],
          ),
        ),
      );
      await releaseIndexes(purpose, subject, voided.filter((hash) => hash !== tokenHash));
      return voided.length;
    },

    async consume(tokenHash, purpose, now) {
      if (typeof purpose !== 'string') throw new AuthError('VALIDATION_FAILED', 'purpose must be a string', { details: { field: 'purpose' } });
      const nowText = timeArgument(now, 'now');
      const indexKey = keys.oneTimeIndex(tokenHash);
      const indexValue = await run(() => client.get(indexKey));
      if (indexValue === null) return null;
      const [storedPurpose, subject] = claimParts(indexValue, 2, 'one-time token lookup') as [OneTimeTokenPurpose, string];
      assertOneTimeTokenPurpose(storedPurpose);
      const reply = await run(() =>
        runAuthLuaScript(
          client,
          consumeOneTimeTokenScript,
          [keys.oneTimeGroup(storedPurpose, subject), keys.oneTimeToken(storedPurpose, subject, tokenHash)],
          [purpose, nowText, encodeRedisKeySegment(tokenHash, 'tokenHash')],
        ),
      );
      if (reply === null) return null;
      await releaseClaim(context, indexKey, indexValue, 'exact');
      if (reply === 'expired') return null;
      const fields = hashFieldsOf(reply, 'one-time token');
      return fields === null ? null : oneTimeTokenFromFields(fields);
    },

    async voidFor(purpose, subject, tenantId) {
      if (typeof purpose !== 'string') throw new AuthError('VALIDATION_FAILED', 'purpose must be a string', { details: { field: 'purpose' } });
      if (tenantId !== undefined && tenantId !== null && typeof tenantId !== 'string') {
        throw new AuthError('VALIDATION_FAILED', 'tenantId must be a string or null', { details: { field: 'tenantId' } });
      }
      const mode = tenantId === undefined ? 'any' : tenantId === null ? 'null' : 'value';
      const typedPurpose = purpose as OneTimeTokenPurpose;
      const voided = hashList(
        await run(() =>
          runAuthLuaScript(
            client,
            voidOneTimeTokensScript,
            [keys.oneTimeGroup(typedPurpose, subject), keys.oneTimeBase(typedPurpose, subject)],
            [mode, tenantId ?? ''],
          ),
        ),
      );
      await releaseIndexes(typedPurpose, subject, voided);
      return voided.length;
    },
  };
}
