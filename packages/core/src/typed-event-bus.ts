/**
 * A listener for one event of an event map. Its errors (thrown or rejected) go to the bus's
 * `onListenerError` and never fail the operation that emitted.
 *
 * @example
 * ```ts
 * interface AppEvents { 'user.created': { id: string } }
 * const listener: TypedEventListener<AppEvents, 'user.created'> = ({ id }) => console.log(id);
 * ```
 */
export type TypedEventListener<EventMap extends object, Name extends keyof EventMap> = (
  payload: EventMap[Name],
) => void | Promise<void>;

/**
 * A small typed event bus over an event map (event name to payload type). Listeners run
 * synchronously in registration order; a listener's failure is isolated.
 *
 * @example
 * ```ts
 * interface AppEvents { 'user.created': { id: string } }
 * const events: TypedEventBus<AppEvents> = createTypedEventBus<AppEvents>();
 * const off = events.on('user.created', ({ id }) => console.log(id));
 * off();
 * ```
 */
export interface TypedEventBus<EventMap extends object> {
  /**
   * Subscribes; returns the unsubscribe function.
   *
   * @example
   * ```ts
   * const off = events.on('user.created', ({ id }) => console.log(id));
   * off();
   * ```
   */
  on<Name extends keyof EventMap & string>(name: Name, listener: TypedEventListener<EventMap, Name>): () => void;
  /**
   * Delivers an event to its listeners, synchronously and in registration order.
   *
   * @example
   * ```ts
   * events.emit('user.created', { id: 'usr_1' });
   * ```
   */
  emit<Name extends keyof EventMap & string>(name: Name, payload: EventMap[Name]): void;
}

/**
 * Options of {@link createTypedEventBus}.
 *
 * @example
 * ```ts
 * createTypedEventBus<AppEvents>({ onListenerError: (err, name) => log.error({ err, name }) });
 * ```
 */
export interface TypedEventBusOptions<EventMap extends object> {
  /**
   * Called when a listener throws or rejects. Default: `console.error` with
   * `[<label>] listener of "<event name>" failed`. Its own failures are swallowed.
   *
   * @example
   * ```ts
   * createTypedEventBus<AppEvents>({ onListenerError: (err, name) => log.error({ err, name }) });
   * ```
   */
  onListenerError?: (error: unknown, eventName: keyof EventMap & string) => void;
  /**
   * Prefix of the default `console.error` message. Default: `tenantkit`.
   *
   * @example
   * ```ts
   * createTypedEventBus<AppEvents>({ label: 'my-app' }); // "[my-app] listener of ... failed"
   * ```
   */
  label?: string;
}

/**
 * Creates a {@link TypedEventBus}. Packages wrap it in their own named bus
 * (`createTenantEventBus`, `createRbacEventBus`) so that each keeps its own event map.
 *
 * @example
 * ```ts
 * interface AppEvents { 'user.created': { id: string } }
 * const events = createTypedEventBus<AppEvents>({ onListenerError: (err, name) => log.error({ err, name }) });
 * events.on('user.created', async ({ id }) => mailer.sendWelcome(id));
 * events.emit('user.created', { id: 'usr_1' });
 * ```
 */
export function createTypedEventBus<EventMap extends object>(
  options: TypedEventBusOptions<EventMap> = {},
): TypedEventBus<EventMap> {
  type Name = keyof EventMap & string;
  const listeners = new Map<Name, Set<TypedEventListener<EventMap, never>>>();
  const label = options.label ?? 'tenantkit';
  const onListenerError =
    options.onListenerError ??
    ((error: unknown, eventName: Name) => {
      console.error(`[${label}] listener of "${eventName}" failed`, error);
    });
  // Reporting must not fail the operation that emitted either.
  const reportError = (error: unknown, eventName: Name) => {
    try {
      onListenerError(error, eventName);
    } catch {
      // Nothing sensible is left to do with an error reporter that throws.
    }
  };

  return {
    on(name, listener) {
      let set = listeners.get(name);
      if (set === undefined) {
        set = new Set();
        listeners.set(name, set);
      }
      // Stored type-erased; `emit` only ever passes the payload that matches `name`.
      const erased = listener as unknown as TypedEventListener<EventMap, never>;
      set.add(erased);
      return () => {
        set.delete(erased);
      };
    },
    emit(name, payload) {
      const set = listeners.get(name);
      if (set === undefined) return;
      // A snapshot, so listeners that subscribe or unsubscribe during delivery do not change this round.
      for (const listener of [...set]) {
        try {
          const result = (listener as unknown as TypedEventListener<EventMap, typeof name>)(payload);
          if (result instanceof Promise) result.catch((error: unknown) => reportError(error, name));
        } catch (error) {
          reportError(error, name);
        }
      }
    },
  };
}
