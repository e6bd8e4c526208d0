// What every section of the auth store conformance suite shares: the stores of the current test,
// its base time and a per-test tag that keeps ids unique on a shared backend.
import type { AuthStores } from '@tenantkit/auth';
import { it } from 'vitest';

/** One minute, hour and day in milliseconds (the suite only uses large offsets). */
export const minuteMs = 60_000;
export const hourMs = 3_600_000;
export const dayMs = 86_400_000;

/** The stores of one test, with the time and id helpers the cases build records from. */
export interface AuthConformanceRun {
  readonly stores: Partial<AuthStores>;
  /** The test's base time (the factory's `now()` or `Date.now()` when the test started). */
  readonly t0: number;
  /** A random lower-case tag, unique per test. */
  readonly tag: string;
  /** A new id `<prefix>_<tag>_<n>`, unique in this test and across tests. */
  readonly id: (prefix: string) => string;
  /** A new normalized email, unique in this test and across tests. */
  readonly email: () => string;
}

/** Tuning the sections read. */
export interface AuthSuiteTuning {
  readonly leakKitOperations: number;
  readonly isolationRuns: number;
  readonly propertyTimeoutMs: number;
}

/** Handed to every section. */
export interface AuthSuiteContext {
  /** The run of the test in progress (made in `beforeEach`). */
  readonly current: () => AuthConformanceRun;
  /** Stores the caller declared with `only`: a missing one fails instead of skipping. */
  readonly required: ReadonlySet<keyof AuthStores>;
  readonly tuning: AuthSuiteTuning;
}

/**
 * Registers one test of the section of `key`: it runs `body` with that store, skips when the
 * factory did not return the store, and fails when the store was declared in `only` but is missing.
 */
export function storeTest<K extends keyof AuthStores>(
  context: AuthSuiteContext,
  key: K,
  name: string,
  body: (store: AuthStores[K], run: AuthConformanceRun) => Promise<void>,
  timeoutMs?: number,
): void {
  it(
    name,
    async ({ skip }) => {
      const run = context.current();
      const store = run.stores[key];
      if (store === undefined) {
        if (context.required.has(key)) throw new Error(`The factory returned no "${key}" store, but "${key}" is listed in options.only`);
        skip(`the factory returns no "${key}" store`);
        return;
      }
      await body(store as AuthStores[K], run);
    },
    timeoutMs,
  );
}

/**
 * Mutates a record the store returned or was given, to prove the store keeps no reference to it.
 * A frozen record (the store may return those) throws a `TypeError`, which proves the same.
 */
export function tamper<T extends object>(record: T | null | undefined, mutate: (writable: { -readonly [P in keyof T]: T[P] }) => void): void {
  if (record === null || record === undefined) throw new Error(`expected a record to tamper with, got ${String(record)}`);
  try {
    mutate(record as { -readonly [P in keyof T]: T[P] });
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
  }
}

/** Sorted copy, for comparing id sets the contract returns in no particular order. */
export function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}
