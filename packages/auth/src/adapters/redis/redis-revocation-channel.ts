import { z } from 'zod';
import { AuthError } from '../../errors.js';
import { revocationEventSchema } from '../../revocation/revocation-event-schema.js';
import type { RevocationChannel, RevocationEvent } from '../../store.js';

/**
 * The part of an ioredis `Redis` or `Cluster` that publishes. Structural, so this entry
 * imports no driver.
 *
 * @example
 * ```ts
 * const publisher: RedisRevocationPublisher = new Redis(process.env.REDIS_URL!);
 * ```
 */
export interface RedisRevocationPublisher {
  publish(channel: string, message: string): Promise<unknown>;
}

/**
 * The part of an ioredis `Redis` or `Cluster` in subscriber mode the channel uses: SUBSCRIBE /
 * UNSUBSCRIBE, and the `message`, `ready` and `close` events.
 *
 * @example
 * ```ts
 * const subscriber: RedisRevocationSubscriber = redis.duplicate();
 * ```
 */
export interface RedisRevocationSubscriber {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  readonly status?: string;
}

/**
 * Options of {@link redisRevocationChannel}.
 *
 * @example
 * ```ts
 * const options: RedisRevocationChannelOptions = { publisher: redis, subscriber: redis.duplicate(), channelName: 'myapp:auth:revocation' };
 * ```
 */
export interface RedisRevocationChannelOptions {
  /** Sends PUBLISH; stays yours (the channel never closes it). */
  readonly publisher: RedisRevocationPublisher;
  /**
   * A connection of its own that SUBSCRIBEs (a subscribed connection can run nothing else, so
   * it cannot be `publisher`); stays yours: `close()` only unsubscribes.
   */
  readonly subscriber: RedisRevocationSubscriber;
  /** The pub/sub channel, 1-256 printable ASCII characters; default `'tenantkit:auth:revocation'`. */
  readonly channelName?: string;
  /**
   * Told about what the channel swallows so that it never throws into ioredis's event loop: a
   * message that is not a revocation event (`VALIDATION_FAILED`), a listener that threw, a
   * failed resubscribe (`STORE_UNAVAILABLE`). Default: ignore.
   */
  readonly onError?: (error: unknown) => void;
}

const DEFAULT_CHANNEL_NAME = 'tenantkit:auth:revocation';
const MESSAGE_VERSION = 1;
/** Longer messages are not ours; refusing them before `JSON.parse` bounds the work garbage costs. */
const MAX_MESSAGE_LENGTH = 2_048;

const messageSchema = z.strictObject({ v: z.literal(MESSAGE_VERSION), event: revocationEventSchema });

const hasMethods = (value: unknown, names: readonly string[]) =>
  typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

function configurationError(message: string): AuthError {
  return new AuthError('CONFIGURATION_INVALID', `redisRevocationChannel: ${message}`);
}

function unavailable(message: string, cause?: unknown): AuthError {
  return new AuthError('STORE_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

/** `undefined` for anything that is not a revocation event of this version: never trusted. */
function decodeMessage(message: unknown): RevocationEvent | undefined {
  if (typeof message !== 'string' || message.length > MAX_MESSAGE_LENGTH) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    return undefined;
  }
  const checked = messageSchema.safeParse(raw);
  return checked.success ? Object.freeze(checked.data.event) : undefined;
}

interface Subscription {
  readonly listener: (event: RevocationEvent) => void;
  readonly onResync: (() => void) | undefined;
}

/**
 * A {@link RevocationChannel} over Redis pub/sub (ioredis `Redis` or `Cluster`), so that every
 * process sharing a Redis drops a revoked credential as soon as any of them revokes it.
 *
 * - Messages are `{"v":1,"event":{...}}`, validated with a strict schema on receipt; anything
 *   else on the channel (another app's message, a hand-typed PUBLISH, a future version) is
 *   ignored and reported to `onError`, never applied.
 * - Pub/sub is lossy: what is published while the subscriber is disconnected is gone. When the
 *   subscriber comes back (`ready` after a `close`), the channel subscribes again and then calls
 *   every `onResync`, so the revocation service stops trusting what it remembered. The service's
 *   `maxStalenessMs` store re-check covers what no event reports.
 * - It subscribes on the first `subscribe` and unsubscribes when the last listener leaves.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for clients without the methods it needs, the same
 *   client as publisher and subscriber, or a bad channel name.
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { redisRevocationChannel } from '@tenantkit/auth/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const subscriber = redis.duplicate();
 * const channel = redisRevocationChannel({ publisher: redis, subscriber });
 * const revocation = createRevocationService({ store, channel });
 * // on shutdown:
 * await revocation.close();
 * await channel.close();
 * await subscriber.quit();
 * ```
 */
export function redisRevocationChannel(options: RedisRevocationChannelOptions): RevocationChannel {
  if (typeof options !== 'object' || options === null) throw configurationError('options must be an object');
  const unknownOption = Object.keys(options).find((key) => !['publisher', 'subscriber', 'channelName', 'onError'].includes(key));
  if (unknownOption !== undefined) throw configurationError(`unknown option "${unknownOption}"`);
  const { publisher, subscriber, onError } = options;
  if (!hasMethods(publisher, ['publish'])) throw configurationError('publisher must be an ioredis Redis or Cluster');
  if (!hasMethods(subscriber, ['subscribe', 'unsubscribe', 'on', 'off'])) throw configurationError('subscriber must be an ioredis Redis or Cluster');
  if ((subscriber as unknown) === publisher) {
    throw configurationError('subscriber must be a connection of its own: a subscribed connection cannot PUBLISH');
  }
  if (onError !== undefined && typeof onError !== 'function') throw configurationError('onError must be a function');
  const channelName = options.channelName ?? DEFAULT_CHANNEL_NAME;
  if (typeof channelName !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(channelName)) {
    throw configurationError('channelName must be 1-256 printable ASCII characters without spaces');
  }

  const subscriptions = new Set<Subscription>();
  let subscribed = false;
  let closed = false;
  let wasReady = subscriber.status === undefined || subscriber.status === 'ready';
  let connectionLost = false;
  /** Serialises SUBSCRIBE / UNSUBSCRIBE so that concurrent calls cannot interleave. */
  let queue: Promise<void> = Promise.resolve();

  const report = (error: unknown) => {
    try {
      onError?.(error);
    } catch {
      // An error reporter that throws has nowhere left to report to.
    }
  };

  const onMessage = (receivedChannel: unknown, message: unknown) => {
    if (receivedChannel !== channelName || closed) return;
    const event = decodeMessage(message);
    if (event === undefined) {
      report(new AuthError('VALIDATION_FAILED', `Ignored a message on "${channelName}" that is not a revocation event`));
      return;
    }
    for (const subscription of [...subscriptions]) {
      try {
        subscription.listener(event);
      } catch (error) {
        report(error);
      }
    }
  };

  const resync = () => {
    if (closed || subscriptions.size === 0) return;
    // SUBSCRIBE again (a no-op when ioredis resubscribed already) before the resync, so that an
    // event published in between is not missed right after the memo was dropped.
    const resubscribed = subscribed
      ? subscriber.subscribe(channelName).then(
          () => undefined,
          (error: unknown) => report(unavailable(`Could not resubscribe to "${channelName}"`, error)),
        )
      : Promise.resolve();
    void resubscribed.then(() => {
      for (const subscription of [...subscriptions]) {
        try {
          subscription.onResync?.();
        } catch (error) {
          report(error);
        }
      }
    });
  };

  const onReady = () => {
    if (wasReady && connectionLost) resync();
    wasReady = true;
    connectionLost = false;
  };
  const onClose = () => {
    if (wasReady) connectionLost = true;
  };

  subscriber.on('message', onMessage);
  subscriber.on('ready', onReady);
  subscriber.on('close', onClose);

  const reconcile = (): Promise<void> => {
    const step = queue.then(async () => {
      const wanted = !closed && subscriptions.size > 0;
      if (wanted && !subscribed) {
        await subscriber.subscribe(channelName);
        subscribed = true;
      } else if (!wanted && subscribed) {
        subscribed = false;
        await subscriber.unsubscribe(channelName);
      }
    });
    queue = step.catch(() => undefined);
    return step;
  };

  const assertOpen = () => {
    if (closed) throw unavailable('The Redis revocation channel is closed');
  };

  return {
    async publish(event) {
      assertOpen();
      const checked = revocationEventSchema.safeParse(event);
      if (!checked.success) throw new AuthError('VALIDATION_FAILED', 'publish() takes a RevocationEvent');
      try {
        await publisher.publish(channelName, JSON.stringify({ v: MESSAGE_VERSION, event: checked.data }));
      } catch (error) {
        throw unavailable(`Could not publish to "${channelName}"`, error);
      }
    },

    async subscribe(listener, onResync) {
      assertOpen();
      if (typeof listener !== 'function' || (onResync !== undefined && typeof onResync !== 'function')) {
        throw new AuthError('VALIDATION_FAILED', 'subscribe() takes a listener function and an optional onResync function');
      }
      // A fresh object per call: subscribing one function twice gives two independent handles.
      const subscription: Subscription = { listener, onResync };
      subscriptions.add(subscription);
      try {
        await reconcile();
      } catch (error) {
        subscriptions.delete(subscription);
        throw unavailable(`Could not subscribe to "${channelName}"`, error);
      }
      let removed = false;
      return async () => {
        if (removed) return;
        removed = true;
        subscriptions.delete(subscription);
        if (closed) return;
        try {
          await reconcile();
        } catch (error) {
          // The listener is gone either way; staying subscribed only costs ignored messages.
          report(unavailable(`Could not unsubscribe from "${channelName}"`, error));
        }
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      subscriptions.clear();
      await reconcile().catch((error: unknown) => report(unavailable(`Could not unsubscribe from "${channelName}"`, error)));
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      subscriber.off('close', onClose);
    },
  };
}
