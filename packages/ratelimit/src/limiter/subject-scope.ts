import { currentScope } from '@tenantkit/tenant-context';
import { RateLimitError } from '../errors.js';
import type { RateLimitSubject } from '../policies/rate-limit-policy.js';

/**
 * The tenant and plan a check counts for.
 *
 * @example
 * ```ts
 * const { tenantId, plan }: SubjectScope = resolveSubjectScope(subject);
 * ```
 */
export interface SubjectScope {
  readonly tenantId: string | undefined;
  readonly plan: string | undefined;
}

/**
 * Resolves the tenant (`subject.tenantId`, else the ambient tenant scope's) and the plan
 * (`subject.plan`, else the plan of the tenant record the scope was opened with). One
 * AsyncLocalStorage read per call.
 *
 * @throws `VALIDATION_FAILED` when the subject is not an object; `RATE_LIMIT_KEY_INVALID` when
 *   `subject.tenantId` is not a string of 1-256 characters; `TENANT_SCOPE_CONFLICT` when it
 *   names another tenant than the active tenant scope.
 * @example
 * ```ts
 * await runWithTenant(tenant, async () => resolveSubjectScope({ userId: 'u_1' })); // { tenantId: tenant.id, plan: tenant.plan }
 * ```
 */
export function resolveSubjectScope(subject: RateLimitSubject): SubjectScope {
  if (typeof subject !== 'object' || subject === null) {
    throw new RateLimitError('VALIDATION_FAILED', 'The rate-limit subject must be an object');
  }
  const scope = currentScope();
  const scopeTenant = scope?.kind === 'tenant' ? scope : undefined;
  let tenantId = subject.tenantId;
  if (tenantId === undefined) {
    tenantId = scopeTenant?.tenantId;
  } else {
    if (typeof tenantId !== 'string' || tenantId.length === 0 || tenantId.length > 256) {
      throw new RateLimitError('RATE_LIMIT_KEY_INVALID', 'subject.tenantId must be a string of 1-256 characters', {
        details: { dimension: 'tenant' },
      });
    }
    if (scopeTenant !== undefined && scopeTenant.tenantId !== tenantId) {
      throw new RateLimitError('TENANT_SCOPE_CONFLICT', 'subject.tenantId names another tenant than the active tenant scope');
    }
  }
  return { tenantId, plan: subject.plan ?? scopeTenant?.tenant?.plan };
}
