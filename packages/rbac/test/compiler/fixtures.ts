import { createManualClock, type Clock } from '@tenantkit/core';
import {
  compilePermissions,
  parseRoleDefinition,
  type CompileInput,
  type GrantSource,
  type PermissionRule,
  type RbacPrincipal,
  type Role,
  type RoleDefinition,
} from '../../src/index.js';

export const TENANT = 'tnt_1';
export const START = Date.UTC(2026, 0, 5, 10); // a Monday, 10:00 UTC

export function role(def: RoleDefinition, tenantId: string | null = TENANT): Role {
  const parsed = parseRoleDefinition(def);
  return { tenantId, ...parsed, origin: 'custom', customized: false, version: 1, createdAt: 0, updatedAt: 0 };
}

export function rolesOf(...roles: Role[]): Map<string, Role> {
  return new Map(roles.map((r) => [r.key, r]));
}

export function grant(roleKey: string, options: Partial<GrantSource> = {}): GrantSource {
  return { assignmentId: `asg_${roleKey}`, roleKey, via: { type: 'user' }, expiresAt: null, ...options };
}

export interface CompileOptions {
  readonly principal?: RbacPrincipal;
  readonly planRules?: readonly PermissionRule[] | null;
  readonly clock?: Clock;
  readonly tenantId?: string;
}

export function compile(roles: Map<string, Role>, grants: GrantSource[], options: CompileOptions = {}) {
  const input: CompileInput = {
    tenantId: options.tenantId ?? TENANT,
    principal: options.principal ?? { id: 'usr_1', kind: 'user' },
    grants,
    roles,
    planRules: options.planRules,
    clock: options.clock ?? createManualClock(START),
  };
  return compilePermissions(input);
}
