import { assertLimiterSpec, limiterSpecId } from './limiter-spec-guards.js';
import type { LimiterSpec } from './rate-limit-store.js';

/**
 * One rate-limiter-flexible limiter per distinct {@link LimiterSpec}, as every store keeps
 * them: looked up by the spec object first (the limiter hands the same resolved specs back on
 * every check, so the hot path skips building the string id), then by the spec's id. A spec is
 * validated once, when its limiter is made.
 *
 * @example
 * ```ts
 * const limiters = createLimiterMemo((spec) => new RateLimiterMemory({ keyPrefix: spec.keyPrefix, points: spec.points, duration: spec.duration }));
 * limiters.of(spec) === limiters.of({ ...spec }); // true
 * ```
 */
export interface LimiterMemo<Limiter> {
  /** The spec's limiter, made on first use. @throws `VALIDATION_FAILED` for a bad spec. */
  of(spec: LimiterSpec): Limiter;
  /** Forgets every limiter (a closed store). */
  clear(): void;
}

/**
 * Makes a {@link LimiterMemo} that builds limiters with `create`.
 *
 * @example
 * ```ts
 * const limiters = createLimiterMemo((spec) => new RateLimiterRedis({ storeClient: redis, keyPrefix: spec.keyPrefix, points: spec.points, duration: spec.duration }));
 * ```
 */
export function createLimiterMemo<Limiter>(create: (spec: LimiterSpec) => Limiter): LimiterMemo<Limiter> {
  const byId = new Map<string, Limiter>();
  let bySpec = new WeakMap<LimiterSpec, Limiter>();
  return {
    of(spec) {
      const cached = bySpec.get(spec);
      if (cached !== undefined) return cached;
      assertLimiterSpec(spec);
      const id = limiterSpecId(spec);
      let limiter = byId.get(id);
      if (limiter === undefined) {
        limiter = create(spec);
        byId.set(id, limiter);
      }
      bySpec.set(spec, limiter);
      return limiter;
    },
    clear() {
      byId.clear();
      bySpec = new WeakMap();
    },
  };
}
