import type { Clock } from '@tenantkit/core';
import { RateLimitError } from '../errors.js';
import type { EmitRateLimitEvent } from './limiter-events.js';

/**
 * Options of {@link createStoreCallGuard}.
 *
 * @example
 * ```ts
 * const options: StoreCallGuardOptions = { timeoutMs: 500, timeouts: store.shared, clock: systemClock, emit, recoveryConfirmMs: 1000 };
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
  /** Measures the timeouts and the recovery confirmation (tests pass a manual clock). */
  readonly clock: Clock;
  /** Receives `store-failed` and `store-recovered`. */
  readonly emit: EmitRateLimitEvent;
  /**
   * How long (ms, by `clock`) the store must keep answering, with no outage failure in
   * between, before `store-recovered` is announced. Default 0: the first answer announces it.
   * The limiter passes its `recoveryConfirmMs` option (default 1000).
   */
  readonly recoveryConfirmMs?: number;
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
 * store has answered again for `recoveryConfirmMs` with no failure in between. A call goes:
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
 * Only the events wait for the confirmation: every call tries the store, and a call the store
 * answers is answered by the store, outage announced or not.
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
   * Records that the store answered the call: during an outage, it starts or continues the
   * confirmation of a recovery, and announces the recovery once that has lasted
   * `recoveryConfirmMs`.
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
   * is the store's error. An outage failure announces an outage when none is announced, and
   * during one restarts the recovery confirmation.
   *
   * @example
   * ```ts
   * const error = guard.failed(ticket, rejection, [policy]);
   * if (!isStoreOutage(error)) throw error;
   * ```
   */
  failed(ticket: StoreCallTicket, error: unknown, policies: CallPolicies): RateLimitError;
  /** Whether an outage has been announced (`store-failed`) and its recovery not yet. */
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

/** What a pending call's resolve/reject are before the Promise executor hands them over. */
function ignore(): void {
  // Nothing to settle.
}

/**
 * A timed call still pending, linked into the guard's list in start order. Unlinked (`next`
 * undefined) once it settles, times out or is closed; its resolve/reject then do nothing.
 */
interface PendingCall {
  readonly deadline: number;
  resolve: (value: never) => void;
  reject: (error: unknown) => void;
  previous: PendingCall | undefined;
  next: PendingCall | undefined;
}

/**
 * Creates a {@link StoreCallGuard}. Timeouts cost no timer per call: pending calls sit in a
 * list in start order that one unref'd interval (a tenth of the timeout, at most 50 ms) sweeps
 * from the oldest while any are pending, so a call times out between `timeoutMs` and
 * `timeoutMs` plus one tick, and a sweep only looks at the calls that are due (plus one). A call
 * that settles unlinks itself at once, so nothing of it outlives its answer.
 *
 * Outage reporting follows epochs: only a call that started in the current state can change
 * it, so an answer that was already in flight when an outage began does not count towards a
 * recovery, and a late failure from before a recovery does not announce a new outage. During an
 * outage any outage failure restarts the recovery confirmation: a store that fails for some keys
 * only (a Redis Cluster slot down) stays announced as down, instead of the events flapping
 * with every request.
 *
 * @example
 * ```ts
 * const guard = createStoreCallGuard({ timeoutMs: 500, timeouts: store.shared, clock: systemClock, emit: eventEmitterFor(onEvent) });
 * ```
 */
export function createStoreCallGuard(options: StoreCallGuardOptions): StoreCallGuard {
  const { timeoutMs, timeouts, clock, emit } = options;
  const recoveryConfirmMs = options.recoveryConfirmMs ?? 0;
  const tickMs = Math.max(1, Math.min(50, Math.ceil(timeoutMs / 10)));
  // A circular list around a sentinel: head.next is the oldest pending call, head.previous the
  // newest. The sentinel is never due, which ends every sweep.
  const head: PendingCall = { deadline: Number.POSITIVE_INFINITY, resolve: ignore, reject: ignore, previous: undefined, next: undefined };
  head.previous = head;
  head.next = head;
  let sweeper: ReturnType<typeof setInterval> | undefined;
  let down = false;
  let epoch = 0;
  // During an outage: since when the store has answered with no outage failure (undefined: not).
  let answeringSince: number | undefined;

  function unlink(call: PendingCall): boolean {
    const { previous, next } = call;
    if (next === undefined) return false;
    previous!.next = next;
    next.previous = previous;
    call.previous = undefined;
    call.next = undefined;
    return true;
  }

  function rejectPending(call: PendingCall, message: string): void {
    unlink(call);
    call.reject(new RateLimitError('STORE_UNAVAILABLE', message));
  }

  function sweep(): void {
    if (head.next === head) {
      clearInterval(sweeper);
      sweeper = undefined;
      return;
    }
    const now = clock.now();
    // Deadlines grow along the list (one timeout, calls in start order): stop at the first not
    // due. A clock that steps back can only make a later call time out late, never early.
    while (head.next!.deadline <= now) {
      rejectPending(head.next!, `The rate-limit store did not answer within ${timeoutMs} ms`);
    }
  }

  // The Promise executor runs synchronously: this one executor, shared by every call, hands
  // the resolve/reject of the promise being built over without a closure per call.
  let builtResolve: PendingCall['resolve'] = ignore;
  let builtReject: PendingCall['reject'] = ignore;
  const capture = (resolve: PendingCall['resolve'], reject: PendingCall['reject']): void => {
    builtResolve = resolve;
    builtReject = reject;
  };

  function withTimeout<Value>(call: PromiseLike<Value>): Promise<Value> {
    const timed = new Promise<Value>(capture);
    const pending: PendingCall = {
      deadline: clock.now() + timeoutMs,
      resolve: builtResolve,
      reject: builtReject,
      previous: head.previous,
      next: head,
    };
    builtResolve = builtReject = ignore; // hold no settled promise
    head.previous!.next = pending;
    head.previous = pending;
    if (sweeper === undefined) {
      sweeper = setInterval(sweep, tickMs);
      sweeper.unref();
    }
    try {
      // After a timeout the call is unlinked: the late answer is dropped, never left unhandled.
      call.then(
        (value) => {
          if (unlink(pending)) pending.resolve(value as never);
        },
        (error: unknown) => {
          if (unlink(pending)) pending.reject(error);
        },
      );
    } catch (error) {
      if (unlink(pending)) pending.reject(error); // a store that returned something other than a promise
    }
    return timed;
  }

  function answered(ticket: StoreCallTicket): void {
    if (!down || ticket !== epoch) return;
    const now = clock.now();
    answeringSince ??= now;
    if (now - answeringSince < recoveryConfirmMs) return;
    down = false;
    epoch += 1;
    answeringSince = undefined;
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
      if (down) {
        // Whatever call it was: the store is not answering everything yet.
        answeringSince = undefined;
      } else if (ticket === epoch) {
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
      while (head.next !== head) rejectPending(head.next!, 'The rate limiter was closed while a store call was pending');
    },
  };
}
