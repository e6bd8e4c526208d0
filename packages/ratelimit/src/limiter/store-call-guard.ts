import type { Clock } from '@tenantkit/core';
import { RateLimitError } from '../errors.js';
import type { EmitRateLimitEvent } from './limiter-events.js';

/**
 * Options of {@link createStoreCallGuard}.
 *
 * @example
 * ```ts
 * const options: StoreCallGuardOptions = { timeoutMs: 500, timeouts: store.shared, clock: systemClock, emit };
 * ```
 */
export interface StoreCallGuardOptions {
  /** A call that has not settled after this long counts as a failure. */
  readonly timeoutMs: number;
  /**
   * Whether calls get a timeout at all. The limiter passes `store.shared`: an in-process store
   * settles its promises in microtasks, which no timer can overtake, so a timeout there would
   * only add a wrapper promise to every check.
   */
  readonly timeouts: boolean;
  /** Measures the timeouts (tests pass a manual clock). */
  readonly clock: Clock;
  /** Receives `store-failed` and `store-recovered`. */
  readonly emit: EmitRateLimitEvent;
}

/**
 * Proof that a store call was started, from {@link StoreCallGuard.begin}: the outage epoch it
 * started in.
 *
 * @example
 * ```ts
 * const ticket: StoreCallTicket = guard.begin();
 * ```
 */
export type StoreCallTicket = number;

/** The policies a store call was for, named in the `store-failed` event. */
type CallPolicies = readonly { readonly name: string }[];

/**
 * Watches the limiter's store calls: it times them out, turns failures into coded errors and
 * reports outages, `store-failed` once when one begins and `store-recovered` once when the
 * store answers again. A call goes:
 *
 * ```ts
 * const ticket = guard.begin();
 * try {
 *   results = await guard.timed(store.consumeAll(entries));
 * } catch (error) {
 *   const storeError = guard.failed(ticket, error, policies); // STORE_UNAVAILABLE for an outage
 *   ...
 * }
 * guard.answered(ticket);
 * ```
 *
 * (split in steps, rather than one wrapping call, so the check path pays no extra promise).
 *
 * @example
 * ```ts
 * const guard = createStoreCallGuard({ timeoutMs: 500, timeouts: true, clock: systemClock, emit });
 * ```
 */
export interface StoreCallGuard {
  /**
   * Marks the start of a store call.
   *
   * @example
   * ```ts
   * const ticket = guard.begin();
   * ```
   */
  begin(): StoreCallTicket;
  /**
   * With timeouts on, a promise that settles like `call` but rejects with `STORE_UNAVAILABLE`
   * once the call has been pending for `timeoutMs` (its late answer, success or failure, is then
   * swallowed); with timeouts off, `call` itself.
   *
   * @example
   * ```ts
   * const state = await guard.timed(limiter.get(key));
   * ```
   */
  timed<Value>(call: PromiseLike<Value>): PromiseLike<Value>;
  /**
   * Records that the store answered the call (a recovery when it had been down).
   *
   * @example
   * ```ts
   * guard.answered(ticket);
   * ```
   */
  answered(ticket: StoreCallTicket): void;
  /**
   * Classifies a failed call and returns the error to act on: a `RateLimitError` other than
   * `STORE_UNAVAILABLE` (a store refusing bad input) is returned as it is and counts as an
   * answer; anything else is an outage, returned as a `STORE_UNAVAILABLE` error whose `cause`
   * is the store's error, and reported when it starts one.
   *
   * @example
   * ```ts
   * const error = guard.failed(ticket, rejection, [policy]);
   * if (!isStoreOutage(error)) throw error;
   * ```
   */
  failed(ticket: StoreCallTicket, error: unknown, policies: CallPolicies): RateLimitError;
  /** Whether the last call that decided it saw the store down. */
  readonly storeDown: boolean;
  /**
   * Stops the timeout timer and rejects timed calls still pending with `STORE_UNAVAILABLE`.
   *
   * @example
   * ```ts
   * guard.close();
   * ```
   */
  close(): void;
}

/**
 * Whether an error is a store outage (`STORE_UNAVAILABLE`), which the failure policy answers,
 * rather than an error to pass on.
 *
 * @example
 * ```ts
 * if (!isStoreOutage(error)) throw error;
 * ```
 */
export function isStoreOutage(error: unknown): error is RateLimitError {
  return error instanceof RateLimitError && error.code === 'STORE_UNAVAILABLE';
}

function passThrough<Value>(call: PromiseLike<Value>): PromiseLike<Value> {
  return call;
}

interface PendingCall {
  readonly deadline: number;
  readonly reject: (error: RateLimitError) => void;
}

/**
 * Creates a {@link StoreCallGuard}. Timeouts cost no timer per call: pending calls sit in a
 * set that one unref'd interval (a tenth of the timeout, at most 50 ms) sweeps while any are
 * pending, so a call times out between `timeoutMs` and `timeoutMs` plus one tick.
 *
 * Outage reporting follows epochs: only a call that started in the current state can change
 * it, so an answer that was already in flight when an outage began does not announce a
 * recovery, and a late failure from before a recovery does not announce a new outage.
 *
 * @example
 * ```ts
 * const guard = createStoreCallGuard({ timeoutMs: 500, timeouts: store.shared, clock: systemClock, emit: eventEmitterFor(onEvent) });
 * ```
 */
export function createStoreCallGuard(options: StoreCallGuardOptions): StoreCallGuard {
  const { timeoutMs, timeouts, clock, emit } = options;
  const tickMs = Math.max(1, Math.min(50, Math.ceil(timeoutMs / 10)));
  const pending = new Set<PendingCall>();
  let sweeper: ReturnType<typeof setInterval> | undefined;
  let down = false;
  let epoch = 0;

  function sweep(): void {
    if (pending.size === 0) {
      clearInterval(sweeper);
      sweeper = undefined;
      return;
    }
    const now = clock.now();
    for (const call of pending) {
      if (call.deadline > now) continue;
      pending.delete(call);
      call.reject(new RateLimitError('STORE_UNAVAILABLE', `The rate-limit store did not answer within ${timeoutMs} ms`));
    }
  }

  function withTimeout<Value>(call: PromiseLike<Value>): Promise<Value> {
    return new Promise<Value>((resolve, reject) => {
      const entry: PendingCall = { deadline: clock.now() + timeoutMs, reject };
      pending.add(entry);
      if (sweeper === undefined) {
        sweeper = setInterval(sweep, tickMs);
        sweeper.unref();
      }
      try {
        // After a timeout the entry is gone: the late answer is dropped, never left unhandled.
        call.then(
          (value) => pending.delete(entry) && resolve(value),
          (error: unknown) => pending.delete(entry) && reject(error),
        );
      } catch (error) {
        if (pending.delete(entry)) reject(error); // a store that returned something other than a promise
      }
    });
  }

  function answered(ticket: StoreCallTicket): void {
    if (!down || ticket !== epoch) return;
    down = false;
    epoch += 1;
    emit({ type: 'store-recovered' });
  }

  return {
    begin: () => epoch,

    timed: timeouts ? withTimeout : passThrough,

    answered,

    failed(ticket, error, policies) {
      if (error instanceof RateLimitError && error.code !== 'STORE_UNAVAILABLE') {
        answered(ticket);
        return error;
      }
      // Only the cause carries the driver's message: this error may reach a client as a 503.
      const outage = error instanceof RateLimitError ? error : new RateLimitError('STORE_UNAVAILABLE', 'The rate-limit store is unavailable', { cause: error });
      if (!down && ticket === epoch) {
        down = true;
        epoch += 1;
        emit({ type: 'store-failed', error: outage, policies: policies.map((policy) => policy.name) });
      }
      return outage;
    },

    get storeDown() {
      return down;
    },

    close() {
      clearInterval(sweeper);
      sweeper = undefined;
      for (const call of pending) {
        pending.delete(call);
        call.reject(new RateLimitError('STORE_UNAVAILABLE', 'The rate limiter was closed while a store call was pending'));
      }
    },
  };
}
