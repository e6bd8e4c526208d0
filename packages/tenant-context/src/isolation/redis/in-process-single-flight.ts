/**
 * Runs at most one task per key at a time in this process: callers asking for a key whose task
 * is running get that task's promise instead of starting another. The entry is dropped when the
 * task settles, so a failure is shared by the callers that waited for it and never remembered.
 *
 * Keys must carry everything that makes results differ (for tenant data: the tenant), since
 * callers of one key share one result.
 *
 * @example
 * ```ts
 * const flights = new InProcessSingleFlight<string>();
 * const [a, b] = await Promise.all([flights.run('k', load), flights.run('k', load)]); // load ran once
 * ```
 */
export class InProcessSingleFlight<T> {
  readonly #running = new Map<string, Promise<T>>();

  /**
   * Joins the running task of `key`, or starts `task` as it.
   *
   * @example
   * ```ts
   * const user = await flights.run(`user:${id}`, () => loadUser(id));
   * ```
   */
  run(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key);
    if (running !== undefined) return running;
    const started = (async () => {
      try {
        return await task();
      } finally {
        this.#running.delete(key);
      }
    })();
    this.#running.set(key, started);
    return started;
  }
}
