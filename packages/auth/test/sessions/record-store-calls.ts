/** One call a wrapped store received: the method and its arguments as JSON (what crossed the boundary). */
export interface RecordedCall {
  readonly method: string;
  readonly json: string;
}

/**
 * Wraps every method of `store` so each call is recorded (method name and JSON of the arguments)
 * before the real store runs it. Used to assert what a service sends to its store — never a
 * secret, no call at all for a malformed credential — while the real memory store does the work.
 */
export function recordStoreCalls<Store extends object>(store: Store): { readonly store: Store; readonly calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const wrapped = {} as Record<string, unknown>;
  for (const [method, value] of Object.entries(store)) {
    wrapped[method] =
      typeof value === 'function'
        ? (...args: unknown[]) => {
            calls.push({ method, json: JSON.stringify(args) });
            return (value as (...args: unknown[]) => unknown).apply(store, args);
          }
        : value;
  }
  return { store: wrapped as Store, calls };
}

/** The rejection of `promise`, failing the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { readonly code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { readonly code?: string };
  }
  throw new Error('expected the promise to reject');
}
