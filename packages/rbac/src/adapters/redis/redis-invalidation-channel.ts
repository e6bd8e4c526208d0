import { isValidTenantId } from '@tenantkit/tenant-context';
import type { Cluster, Redis } from 'ioredis';
import { RbacError } from '../../errors.js';
import type { InvalidationChannel } from '../../invalidation/invalidation-channel.js';
import { decodeInvalidationMessage, encodeInvalidationMessage } from './invalidation-message.js';

/**
 * The clients {@link redisInvalidationChannel} takes: an ioredis `Redis` or `Cluster`.
 *
 * @example
 * ```ts
 * const client: RedisPubSubClient = new Redis(process.env.REDIS_URL!);
 * ```
 */
export type RedisPubSubClient = Redis | Cluster;

/**
 * Options of {@link redisInvalidationChannel}.
 *
 * @example
 * ```ts
 * const options: RedisInvalidationChannelOptions = { publisher: redis, channel: 'myapp:rbac:invalidate' };
 * ```
 */
export interface RedisInvalidationChannelOptions {
  /** Sends PUBLISH. Any ioredis `Redis` or `Cluster`; the channel never closes it. */
  publisher: RedisPubSubClient;
  /**
   * The connection that SUBSCRIBEs (a connection in subscriber mode can run nothing else, so it
   * must not be `publisher`). Default: `publisher.duplicate()`, which the channel owns and
   * closes in `close()`; a subscriber you pass stays yours (`close()` only unsubscribes).
   */
  subscriber?: RedisPubSubClient;
  /**
   * The pub/sub channel name, 1-256 printable characters; default {@link defaultRedisInvalidationChannel}.
   * Use one per application (or per environment) sharing a Redis.
   */
  channel?: string;
  /**
   * Told about what the channel swallows so that it never throws into ioredis's event loop:
   * a listener that threw, a message that was not an invalidation (`VALIDATION_FAILED`), a
   * resubscribe that failed (`STORE_UNAVAILABLE`). Default: ignore.
   */
  onError?: (error: unknown) => void;
}

/**
 * The channel name used when none is given.
 *
 * @example
 * ```ts
 * redisInvalidationChannel({ publisher: redis, channel: `${defaultRedisInvalidationChannel}:staging` });
 * ```
 */
export const defaultRedisInvalidationChannel = 'tenantkit:rbac:invalidate';

const CHANNEL_NAME_PATTERN = /^[\x21-\x7e]{1,256}$/;

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

function isPubSubClient(value: unknown): value is RedisPubSubClient {
  return (
    hasMethods(value, ['publish', 'subscribe', 'unsubscribe', 'duplicate', 'on', 'off', 'quit', 'disconnect']) &&
    typeof (value as { isCluster?: unknown }).isCluster === 'boolean'
  );
}

function configurationError(message: string): RbacError {
  return new RbacError('CONFIGURATION_INVALID', `redisInvalidationChannel: ${message}`);
}

function unavailable(message: string, cause?: unknown): RbacError {
  return new RbacError('STORE_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

interface Subscription {
  readonly listener: (tenantId: string | null) => void;
  readonly onResync: (() => void) | undefined;
}

/**
 * An {@link InvalidationChannel} over Redis pub/sub (ioredis), so that every process sharing
 * a Redis drops a tenant's cached permissions as soon as any of them changes its policy.
 *
 * - Works with a single node and with a Redis Cluster: it uses plain PUBLISH/SUBSCRIBE, which
 *   a Cluster forwards to every node, so a subscriber on any node hears every publish
 *   (sharded pub/sub would need `shardedSubscribers` on every Cluster client for little gain at
 *   the rate policies change).
 * - Messages are `{"v":1,"tenantId":...}`; anything else received on the channel is ignored
 *   (reported to `onError`), and a listener that throws never breaks delivery to the others.
 * - Pub/sub is lossy: messages published while the subscriber is disconnected are gone. When
 *   the subscriber connection comes back (the client was `ready`, closed, and is `ready`
 *   again) or a Cluster loses a node, the channel resubscribes and then calls every
 *   `onResync` passed to `subscribe`, so callers drop everything they cached. A subscriber
 *   connection a Cluster replaces internally without a topology change raises no event, so
 *   that gap is covered only by the store's policy version, the backstop of every channel.
 *
 * The channel subscribes on the first `subscribe` and unsubscribes when the last listener
 * leaves; `close()` unsubscribes, quits the subscriber it created, and makes later calls fail.
 *
 * @throws RbacError `CONFIGURATION_INVALID` for a publisher or subscriber that is not an ioredis
 *   client, the same client as both, or a bad channel name.
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { redisInvalidationChannel } from '@tenantkit/rbac/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const invalidation = redisInvalidationChannel({ publisher: redis });
 * const rbac = createRbac({ store, invalidation });
 * // on shutdown:
 * await invalidation.close();
 * await redis.quit();
 * ```
 */
export function redisInvalidationChannel(options: RedisInvalidationChannelOptions): InvalidationChannel {
  if (typeof options !== 'object' || options === null) throw configurationError('options must be an object');
  const unknownOption = Object.keys(options).find((key) => !['publisher', 'subscriber', 'channel', 'onError'].includes(key));
  if (unknownOption !== undefined) throw configurationError(`unknown option "${unknownOption}"`);
  const { publisher, onError } = options;
  if (!isPubSubClient(publisher)) throw configurationError('publisher must be an ioredis Redis or Cluster');
  if (options.subscriber !== undefined && !isPubSubClient(options.subscriber)) {
    throw configurationError('subscriber must be an ioredis Redis or Cluster');
  }
  if (options.subscriber === publisher) {
    throw configurationError('subscriber must be a connection of its own: a subscribed connection cannot PUBLISH');
  }
  if (onError !== undefined && typeof onError !== 'function') throw configurationError('onError must be a function');
  const channel = options.channel ?? defaultRedisInvalidationChannel;
  if (typeof channel !== 'string' || !CHANNEL_NAME_PATTERN.test(channel)) {
    throw configurationError('channel must be 1-256 printable ASCII characters without spaces');
  }

  const ownsSubscriber = options.subscriber === undefined;
  const subscriber: RedisPubSubClient = options.subscriber ?? publisher.duplicate();
  const subscriptions = new Set<Subscription>();
  let subscribed = false;
  let closed = false;
  let wasReady = subscriber.status === 'ready';
  let connectionLost = false;
  /** Serializes SUBSCRIBE/UNSUBSCRIBE so concurrent subscribe/unsubscribe calls cannot interleave. */
  let queue: Promise<void> = Promise.resolve();

  const report = (error: unknown) => {
    try {
      onError?.(error);
    } catch {
      // An error reporter that throws has nowhere left to report to.
    }
  };

  const onMessage = (receivedChannel: unknown, message: unknown) => {
    if (receivedChannel !== channel || closed) return;
    const decoded = decodeInvalidationMessage(message);
    if (decoded === undefined) {
      report(new RbacError('VALIDATION_FAILED', `Ignored a message on "${channel}" that is not an invalidation`));
      return;
    }
    for (const subscription of [...subscriptions]) {
      try {
        subscription.listener(decoded.tenantId);
      } catch (error) {
        report(error);
      }
    }
  };

  const resync = () => {
    if (closed || subscriptions.size === 0) return;
    // SUBSCRIBE again (a no-op on the server when ioredis already resubscribed) so that the
    // resync happens after the subscription is back: a change published in between would
    // otherwise be missed right after the caches were dropped.
    const resubscribed = subscribed
      ? subscriber.subscribe(channel).then(
          () => undefined,
          (error: unknown) => report(unavailable(`Could not resubscribe to "${channel}"`, error)),
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
  const onNodeRemoved = () => resync();
  // ioredis emits 'error' on connection failures; without a listener Node would crash the process.
  const onConnectionError = (error: unknown) => report(unavailable('The Redis subscriber connection failed', error));

  subscriber.on('message', onMessage);
  subscriber.on('ready', onReady);
  subscriber.on('close', onClose);
  if (subscriber.isCluster) subscriber.on('-node', onNodeRemoved);
  if (ownsSubscriber) subscriber.on('error', onConnectionError);

  const reconcile = (): Promise<void> => {
    const step = queue.then(async () => {
      const wanted = !closed && subscriptions.size > 0;
      if (wanted && !subscribed) {
        await subscriber.subscribe(channel);
        subscribed = true;
      } else if (!wanted && subscribed) {
        subscribed = false;
        await subscriber.unsubscribe(channel);
      }
    });
    queue = step.catch(() => undefined);
    return step;
  };

  const assertOpen = () => {
    if (closed) throw unavailable('The Redis invalidation channel is closed');
  };

  return {
    async publish(tenantId) {
      assertOpen();
      if (tenantId !== null && !isValidTenantId(tenantId)) {
        throw new RbacError('TENANT_IDENTIFIER_INVALID', 'A tenant id must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"');
      }
      try {
        await publisher.publish(channel, encodeInvalidationMessage(tenantId));
      } catch (error) {
        throw unavailable(`Could not publish to "${channel}"`, error);
      }
    },

    async subscribe(listener, onResync) {
      assertOpen();
      if (typeof listener !== 'function' || (onResync !== undefined && typeof onResync !== 'function')) {
        throw new RbacError('VALIDATION_FAILED', 'subscribe() takes a listener function and an optional onResync function');
      }
      // A fresh object per call: subscribing the same function twice gives two independent handles.
      const subscription: Subscription = { listener, onResync };
      subscriptions.add(subscription);
      try {
        await reconcile();
      } catch (error) {
        subscriptions.delete(subscription);
        throw unavailable(`Could not subscribe to "${channel}"`, error);
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
          // The listener is gone either way; a channel left subscribed only costs ignored messages.
          report(unavailable(`Could not unsubscribe from "${channel}"`, error));
        }
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      subscriptions.clear();
      await reconcile().catch((error: unknown) => report(unavailable(`Could not unsubscribe from "${channel}"`, error)));
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      subscriber.off('close', onClose);
      if (subscriber.isCluster) subscriber.off('-node', onNodeRemoved);
      if (ownsSubscriber) {
        try {
          await subscriber.quit();
        } catch {
          // Already disconnected: there is nothing left to release.
          subscriber.disconnect();
        }
        subscriber.off('error', onConnectionError);
      }
    },
  };
}
