import type { CheckContext, PermissionChecker } from '../../src/authorizer/authorizer-contract.js';
import type { CompiledPermissions, PermissionDecision } from '../../src/compiler/compiled-permissions.js';
import type { ConditionContext, ResourceAttributes } from '../../src/conditions/condition.js';
import { RbacError } from '../../src/errors.js';
import type { RbacPrincipal } from '../../src/principal.js';

/*
 * A small hand-written checker: the bindings hold no authorization logic, so their tests only
 * need a checker whose answers are obvious. Grants per principal id:
 * - `usr_reader`: docs:read, docs:list
 * - `usr_editor`: docs:read, docs:update when resource.ownerId is the principal, docs:delete when
 *   context.ip is 10.0.0.1 — and, in tenant `tnt_other`, nothing at all
 * - `usr_broken`: the checker rejects (a store down)
 */

interface Grant {
  readonly permission: string;
  readonly when?: (principal: RbacPrincipal, resource: ResourceAttributes | undefined, context: ConditionContext | undefined) => boolean;
}

const grantsById: Readonly<Record<string, readonly Grant[]>> = {
  usr_reader: [{ permission: 'docs:read' }, { permission: 'docs:list' }],
  usr_editor: [
    { permission: 'docs:read' },
    { permission: 'docs:update', when: (principal, resource) => resource?.ownerId === principal.id },
    { permission: 'docs:delete', when: (_principal, _resource, context) => context?.ip === '10.0.0.1' },
  ],
};

/** What the bindings asked the checker, for assertions. */
export interface CheckerCalls {
  readonly forPrincipal: Array<{ principal: RbacPrincipal; tenantId: string | undefined }>;
  readonly can: Array<{ permission: string; resource: ResourceAttributes | undefined; context: ConditionContext | undefined }>;
}

export function createFixtureChecker(): PermissionChecker & { readonly calls: CheckerCalls } {
  const calls: CheckerCalls = { forPrincipal: [], can: [] };

  function compile(principal: RbacPrincipal, tenantId: string): CompiledPermissions {
    const grants = tenantId === 'tnt_other' ? [] : (grantsById[principal.id] ?? []);
    const explain = (permission: string, resource?: ResourceAttributes, context?: ConditionContext): PermissionDecision => {
      const grant = grants.find((candidate) => candidate.permission === permission);
      const allowed = grant !== undefined && (grant.when === undefined || grant.when(principal, resource, context));
      return {
        allowed,
        permission,
        reason: allowed ? 'allowed' : grant === undefined ? 'no-matching-rule' : 'condition-not-met',
        // A rule the client must never see.
        rule: grant === undefined ? null : { effect: 'allow', permission, source: 'role', roleChain: ['secret-internal-role'] },
        missing: [],
      };
    };
    return {
      tenantId,
      principal,
      validUntil: Number.POSITIVE_INFINITY,
      can(permission, resource, context) {
        calls.can.push({ permission, resource, context });
        return explain(permission, resource, context).allowed;
      },
      explain,
      permissions: () => [],
      queryConditions: () => ({ kind: 'none' }),
      holds: () => false,
    };
  }

  async function forPrincipal(principal: RbacPrincipal, options?: { readonly tenantId?: string }): Promise<CompiledPermissions> {
    calls.forPrincipal.push({ principal, tenantId: options?.tenantId });
    await Promise.resolve();
    if (principal.id === 'usr_broken') throw new Error('store unavailable');
    return compile(principal, options?.tenantId ?? 'tnt_default');
  }

  return {
    calls,
    forPrincipal,
    async can(principal, permission, resource, context?: CheckContext) {
      const compiled = await forPrincipal(principal, context?.tenantId === undefined ? undefined : { tenantId: context.tenantId });
      return compiled.can(permission, resource, context);
    },
    async require(principal, permission, resource, context) {
      if (!(await this.can(principal, permission, resource, context))) {
        throw new RbacError('PERMISSION_DENIED', `Permission denied: ${permission}`, { details: { permission } });
      }
    },
    async explain(principal, permission, resource, context) {
      const compiled = await forPrincipal(principal, context?.tenantId === undefined ? undefined : { tenantId: context.tenantId });
      return compiled.explain(permission, resource, context);
    },
  };
}

/** The principal a test request names in its `x-user` header, as an auth layer would set it. */
export function principalFromHeader(value: string | string[] | undefined): RbacPrincipal | null {
  return typeof value === 'string' && value !== '' ? { kind: 'user', id: value } : null;
}
