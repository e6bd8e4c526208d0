// A RateLimitStore whose backend can be made to fail on demand, for the limiter's failure
// policy tests. It is not a database mock: while "up" it is the real memory store; "reject" and
// "hang" stand in for a backend that refuses connections or stops answering.
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { memoryRateLimitStore } from '../../src/stores/memory-rate-limit-store.js';
import type { LimiterSpec, RateLimitStore, StoreConsumeEntry, StoreConsumeResult } from '../../src/stores/rate-limit-store.js';

export type StoreMode = 'up' | 'reject' | 'hang';

export interface ControllableStore extends RateLimitStore {
  mode: StoreMode;
  /** consumeAll calls and per-key limiter method calls received, whatever the mode. */
  readonly calls: { consumeAll: number; keyOperations: number };
  /** The entries of every consumeAll call. */
  readonly consumed: StoreConsumeEntry[][];
  /** Calls left hanging by mode 'hang'. */
  readonly hanging: number;
  /** Answers every hanging call now (from the real store): a late success. */
  answerHanging(): void;
  /** Fails every hanging call now: a late failure. */
  failHanging(): void;
}

const PER_KEY_METHODS = ['consume', 'penalty', 'reward', 'block', 'get', 'delete', 'set'] as const;

export function controllableStore(inner: RateLimitStore = memoryRateLimitStore()): ControllableStore {
  let hung: { answer: () => void; fail: () => void }[] = [];

  function run<Value>(real: () => Promise<Value>): Promise<Value> {
    if (store.mode === 'reject') return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6399'));
    if (store.mode === 'up') return real();
    return new Promise<Value>((resolve, reject) => {
      hung.push({
        answer: () => real().then(resolve, reject),
        fail: () => reject(new Error('Connection is closed.')),
      });
    });
  }

  const store: ControllableStore = {
    kind: 'controllable',
    shared: true,
    mode: 'up',
    calls: { consumeAll: 0, keyOperations: 0 },
    consumed: [],
    get hanging() {
      return hung.length;
    },
    answerHanging() {
      const calls = hung;
      hung = [];
      for (const call of calls) call.answer();
    },
    failHanging() {
      const calls = hung;
      hung = [];
      for (const call of calls) call.fail();
    },
    limiter(spec: LimiterSpec): RateLimiterAbstract {
      const real = inner.limiter(spec);
      const wrapped: Record<string, unknown> = Object.create(real) as Record<string, unknown>;
      for (const method of PER_KEY_METHODS) {
        wrapped[method] = (...args: unknown[]) => {
          store.calls.keyOperations += 1;
          return run(() => (real[method] as (...callArgs: unknown[]) => Promise<unknown>).apply(real, args));
        };
      }
      return wrapped as unknown as RateLimiterAbstract;
    },
    consumeAll(entries): Promise<readonly StoreConsumeResult[]> {
      store.calls.consumeAll += 1;
      store.consumed.push([...entries]);
      return run(() => inner.consumeAll(entries));
    },
    close: () => inner.close(),
  };
  return store;
}
