import type { LifecycleRun } from '../../lifecycle/lifecycle-run.js';
import { toStoredJson } from '../stored-json.js';

/**
 * A lifecycle run as stored: the record with its id as `_id`.
 *
 * @example
 * ```ts
 * const document: LifecycleRunDocument = lifecycleRunToDocument(run);
 * ```
 */
export type LifecycleRunDocument = Omit<LifecycleRun, 'id'> & { _id: string };

/**
 * The document stored for a run (a JSON-exact copy of it).
 *
 * @throws TenantContextError `VALIDATION_FAILED` when the run's input is not JSON-serializable.
 *
 * @example
 * ```ts
 * await runs.insertOne(lifecycleRunToDocument(run));
 * ```
 */
export function lifecycleRunToDocument(run: LifecycleRun): LifecycleRunDocument {
  const stored = toStoredJson(run, 'lifecycle run');
  return {
    _id: stored.id,
    kind: stored.kind,
    tenantId: stored.tenantId,
    state: stored.state,
    completedSteps: stored.completedSteps,
    compensatedSteps: stored.compensatedSteps,
    input: stored.input,
    error: stored.error,
    // Left out when the run has none, so it reads back without the property (not as `[]`).
    ...(stored.artifacts === undefined ? {} : { artifacts: stored.artifacts }),
    leaseOwner: stored.leaseOwner,
    leaseExpiresAt: stored.leaseExpiresAt,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    version: stored.version,
  };
}

/**
 * The run record of a stored document, field by field; `artifacts` only when the document has
 * them (documents written before the field existed have none).
 *
 * @example
 * ```ts
 * const run = lifecycleRunFromDocument(document);
 * ```
 */
export function lifecycleRunFromDocument(document: LifecycleRunDocument): LifecycleRun {
  return {
    id: document._id,
    kind: document.kind,
    tenantId: document.tenantId,
    state: document.state,
    completedSteps: document.completedSteps,
    compensatedSteps: document.compensatedSteps,
    input: document.input,
    error: document.error,
    ...(document.artifacts === undefined ? {} : { artifacts: document.artifacts }),
    leaseOwner: document.leaseOwner,
    leaseExpiresAt: document.leaseExpiresAt,
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
    version: document.version,
  };
}
