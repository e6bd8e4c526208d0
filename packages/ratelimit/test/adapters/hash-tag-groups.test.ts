import { describe, expect, it } from 'vitest';
import {
  burstKeyOf,
  consumeAllArguments,
  counterKeyOf,
  decodeConsumeAllReply,
} from '../../src/adapters/redis/consume-all-script.js';
import { groupByHashTag, hashTagOf } from '../../src/adapters/redis/hash-tag-groups.js';
import type { LimiterSpec } from '../../src/stores/rate-limit-store.js';

describe('hashTagOf', () => {
  it('is the text between the first { and the first } after it, as Redis Cluster hashes', () => {
    expect(hashTagOf('tk:rl:api:{acme}:u=1')).toBe('acme');
    expect(hashTagOf('tk:rl:api:{acme}:u={globex}')).toBe('acme');
    expect(hashTagOf('a{b{c}d}')).toBe('b{c');
    expect(hashTagOf('a}b{c}')).toBe('c');
  });

  it('is undefined without a tag: no braces, an empty tag, no closing brace', () => {
    expect(hashTagOf('tk:rl:api:acme')).toBeUndefined();
    expect(hashTagOf('tk:rl:api:{}:u=1')).toBeUndefined();
    // Redis uses only the first `{`: an empty first tag hashes the whole key, later braces notwithstanding.
    expect(hashTagOf('{}{acme}')).toBeUndefined();
    expect(hashTagOf('tk:rl:api:{acme')).toBeUndefined();
  });
});

describe('groupByHashTag', () => {
  it('groups by tag in the order of the first key of each group', () => {
    expect(groupByHashTag(['a:{acme}', 'b:{globex}', 'c:{acme}:u=1', 'd:{globex}:ip=1'])).toEqual([
      { hashTag: 'acme', indexes: [0, 2] },
      { hashTag: 'globex', indexes: [1, 3] },
    ]);
  });

  it('puts an untagged key in a group of its own, and never with a tag of the same text', () => {
    expect(groupByHashTag(['a:x', 'b:x', 'a:x', '{a:x}', '{}a:x'])).toEqual([
      { hashTag: undefined, indexes: [0, 2] },
      { hashTag: undefined, indexes: [1] },
      { hashTag: 'a:x', indexes: [3] },
      { hashTag: undefined, indexes: [4] },
    ]);
  });

  it('returns no groups for no keys', () => {
    expect(groupByHashTag([])).toEqual([]);
  });
});

describe('consume-all script arguments and reply', () => {
  const plain: LimiterSpec = { keyPrefix: 'tk:rl:user', points: 10, duration: 60, blockDuration: 300 };
  const bursty: LimiterSpec = { keyPrefix: 'tk:rl:ip', points: 5, duration: 1, blockDuration: 0, burst: { points: 2, duration: 10 } };

  it('names the counters as rate-limiter-flexible and BurstyRateLimiter do', () => {
    const entry = { spec: bursty, key: '{acme}:ip=1', points: 1 };
    expect(counterKeyOf(entry)).toBe('tk:rl:ip:{acme}:ip=1');
    expect(burstKeyOf(entry)).toBe('tk:rl:ip:burst:{acme}:ip=1');
  });

  it('passes the key count, the keys (a burst counter right after its entry), the refused flag and six values per entry', () => {
    const entries = [
      { spec: bursty, key: '{acme}:ip=1', points: 1 },
      { spec: plain, key: '{acme}:u=1', points: 3 },
    ];
    const keys = [3, 'tk:rl:ip:{acme}:ip=1', 'tk:rl:ip:burst:{acme}:ip=1', 'tk:rl:user:{acme}:u=1'];
    expect(consumeAllArguments(entries)).toEqual([...keys, 0, 1, 5, 1, 0, 2, 10, 3, 10, 60, 300, 0, 0]);
    expect(consumeAllArguments(entries, true)).toEqual([...keys, 1, 1, 5, 1, 0, 2, 10, 3, 10, 60, 300, 0, 0]);
  });

  it('reads states, consumed points and msBeforeNext into store results', () => {
    const entries = [
      { spec: plain, key: '{acme}:u=1', points: 1 },
      { spec: bursty, key: '{acme}:ip=1', points: 1 },
      { spec: plain, key: '{acme}:u=2', points: 1 },
    ];
    expect(decodeConsumeAllReply(entries, [1, 4, 59_000, 2, 6, 900, 0, 11, -2])).toEqual([
      { state: 'window', result: { allowed: true, consumed: 4, remaining: 6, msBeforeNext: 59_000, burst: false } },
      { state: 'burst', result: { allowed: true, consumed: 6, remaining: 0, msBeforeNext: 900, burst: true } },
      { state: 'refused', result: { allowed: false, consumed: 11, remaining: 0, msBeforeNext: 0, burst: false } },
    ]);
  });

  it('reads integers sent as strings (ioredis stringNumbers) and counters past exact integers, without failing', () => {
    const entries = [
      { spec: plain, key: '{acme}:u=1', points: 1 },
      { spec: plain, key: '{acme}:u=2', points: 1 },
    ];
    expect(decodeConsumeAllReply(entries, ['1', '4', '59000', 0, 2 ** 60, -1])).toEqual([
      { state: 'window', result: { allowed: true, consumed: 4, remaining: 6, msBeforeNext: 59_000, burst: false } },
      { state: 'refused', result: { allowed: false, consumed: 2 ** 60, remaining: 0, msBeforeNext: 0, burst: false } },
    ]);
  });

  it('throws on a reply that is not the script’s', () => {
    const entries = [{ spec: plain, key: '{acme}', points: 1 }];
    for (const reply of [null, 'OK', [1, 2], [1, 2, 3, 4], [3, 1, 1], ['x', 1, 1], [1, null, 1], [1, '1.5', 1], [1, 1, Number.NaN]]) {
      expect(() => decodeConsumeAllReply(entries, reply)).toThrow(TypeError);
    }
  });
});
