import type { JsonValue, Tenant } from '../tenant.js';
import type { LifecycleRunKind } from './lifecycle-run.js';

/**
 * The onboarding phases other packages plug steps into. Built-in steps sit between them:
 * `create-record` → `provision-storage` → `seed-defaults` → `create-admin-membership` →
 * `activate` → `notify`.
 *
 * @example
 * ```ts
 * const phase: OnboardingHookPhase = 'seed-defaults';
 * ```
 */
export type OnboardingHookPhase = 'provision-storage' | 'seed-defaults' | 'notify';

/**
 * The offboarding phases other packages plug steps into, in order. Built-in steps move the
 * tenant to `offboarding` before them and clean up and soft-delete after them.
 *
 * @example
 * ```ts
 * const phase: OffboardingHookPhase = 'shred-keys';
 * ```
 */
export type OffboardingHookPhase = 'export' | 'delete-data' | 'shred-keys';

/**
 * What a step is given. Steps run inside `runWithTenant(tenant, ...)`, so tenant-scoped code
 * (stores calling `requireTenantId()`) works in them.
 *
 * @example
 * ```ts
 * lifecycle.useOnboardingStep('seed-defaults', {
 *   name: 'roles',
 *   run: async ({ tenantId, input }) => roles.seed(tenantId, input.plan),
 * });
 * ```
 */
export interface LifecycleStepContext<Settings = Record<string, JsonValue>, Input = Readonly<Record<string, JsonValue>>> {
  readonly kind: LifecycleRunKind;
  readonly runId: string;
  /** The full step name, `${phase}:${name}`. */
  readonly step: string;
  readonly tenantId: string;
  /** The tenant record as it is when the step starts. */
  readonly tenant: Tenant<Settings>;
  /**
   * The JSON input the run was started with ({@link OnboardingRunInput} for onboarding hooks,
   * {@link OffboardingRunInput} for offboarding hooks). Read it, never the caller's live
   * objects: a resumed run has nothing else.
   */
  readonly input: Readonly<Input>;
  /** 1 for the first try in this process; a resumed run starts counting again. */
  readonly attempt: number;
  /**
   * Aborted when this worker lost the run's lease (another worker took the run over); a long
   * step should stop then, since its result can no longer be recorded.
   */
  readonly signal: AbortSignal;
}

/**
 * What a compensation is given: as {@link LifecycleStepContext}, except that the tenant record
 * may already be gone (an operator purged it by hand).
 *
 * @example
 * ```ts
 * const compensate = async ({ tenantId, tenant }: LifecycleCompensationContext) => {
 *   if (tenant !== null) await schemas.drop(tenantId);
 * };
 * ```
 */
export interface LifecycleCompensationContext<Settings = Record<string, JsonValue>, Input = Readonly<Record<string, JsonValue>>>
  extends Omit<LifecycleStepContext<Settings, Input>, 'tenant'> {
  readonly tenant: Tenant<Settings> | null;
}

/**
 * An onboarding step another package contributes. It is persisted as its own step named
 * `${phase}:${name}`.
 *
 * Both functions must be **idempotent**: a step that was running when its process died is run
 * again by `resumeRun` (completed steps never are), and a compensation may run again after a
 * crash or even when its step never ran or half ran (the step that failed is compensated too,
 * so it leaves nothing behind).
 *
 * @example
 * ```ts
 * const hook: OnboardingStepHook = {
 *   name: 'schema',
 *   run: ({ tenantId }) => db.schema.createSchema(`t_${tenantId}`).ifNotExists().execute(),
 *   compensate: ({ tenantId }) => db.schema.dropSchema(`t_${tenantId}`).ifExists().cascade().execute(),
 * };
 * ```
 */
export interface OnboardingStepHook<Settings = Record<string, JsonValue>> {
  /** 1-63 characters of `a-z 0-9 . _ -`, starting with a letter or digit; unique per phase. */
  readonly name: string;
  run(context: LifecycleStepContext<Settings, OnboardingRunInput>): Promise<void> | void;
  /**
   * Undoes `run` when a later step fails for good. Steps of the `notify` phase run after the
   * tenant is active and are never compensated (see `TenantLifecycle.useOnboardingStep`).
   */
  compensate?(context: LifecycleCompensationContext<Settings, OnboardingRunInput>): Promise<void> | void;
}

/**
 * What an offboarding step may report back: where it put something (an export archive, a
 * deletion receipt). It is stored in the run's `artifacts`.
 *
 * @example
 * ```ts
 * const reference: LifecycleArtifactReference = { location: 's3://exports/tnt_1.zip', details: { bytes: 1024 } };
 * ```
 */
export interface LifecycleArtifactReference {
  /** 1 to 2048 characters. */
  location: string;
  details?: Record<string, JsonValue>;
}

/**
 * An offboarding step another package contributes, persisted as `${phase}:${name}`.
 * Offboarding only moves forward: a failing step is retried, then leaves the run `failed`
 * until `resumeRun`, so `run` must be **idempotent** (it may run again after a crash).
 *
 * @example
 * ```ts
 * const hook: OffboardingStepHook = {
 *   name: 's3',
 *   run: async ({ tenantId }) => ({ location: await exporter.exportTenant(tenantId) }),
 * };
 * ```
 */
export interface OffboardingStepHook<Settings = Record<string, JsonValue>> {
  /** 1-63 characters of `a-z 0-9 . _ -`, starting with a letter or digit; unique per phase. */
  readonly name: string;
  run(
    context: LifecycleStepContext<Settings, OffboardingRunInput>,
  ): Promise<LifecycleArtifactReference | void> | LifecycleArtifactReference | void;
}

/**
 * The input an onboarding run stores (and hooks read from `context.input`).
 *
 * @example
 * ```ts
 * lifecycle.useOnboardingStep('notify', {
 *   name: 'welcome',
 *   run: ({ input }) => mailer.sendWelcome(input.adminUserId, input.metadata?.locale),
 * });
 * ```
 */
export interface OnboardingRunInput {
  slug: string;
  name: string;
  plan?: string;
  settings?: Record<string, JsonValue>;
  features?: Record<string, boolean>;
  limits?: Record<string, number>;
  region?: string | null;
  adminUserId: string;
  metadata?: Record<string, JsonValue>;
}

/**
 * The input an offboarding run stores.
 *
 * @example
 * ```ts
 * lifecycle.useOffboardingStep('export', { name: 'audit', run: ({ input }) => audit.record('export', input.reason) });
 * ```
 */
export interface OffboardingRunInput {
  reason: string;
  requestedBy: string | null;
}
