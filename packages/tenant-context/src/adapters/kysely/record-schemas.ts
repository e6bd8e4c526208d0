import { z } from 'zod';
import type { LifecycleRun } from '../../lifecycle/lifecycle-run.js';
import type { Membership, Tenant, TenantDomain } from '../../tenant.js';
import { parseOrThrow } from '../../validation.js';
import { columnLengths } from './schema.js';

/*
 * What a record must look like before it is written. The stores do not check business rules
 * (the registry does); these schemas only keep out what a column would store differently from
 * what was given: strings longer than their column (silently truncated by a non-strict MySQL),
 * NUL characters (refused by Postgres, kept by MySQL), lone UTF-16 surrogates (replaced by
 * U+FFFD on the way to UTF-8) and numbers that are not safe integers.
 */

// With the `u` flag, \p{Cs} only matches surrogates that are not part of a pair.
const UNSTORABLE_CHARACTERS = /[\u0000\p{Cs}]/u;

function storableText(maxLength?: number) {
  const text = maxLength === undefined ? z.string() : z.string().max(maxLength);
  return text.refine((value) => !UNSTORABLE_CHARACTERS.test(value), 'must not contain NUL or unpaired surrogate characters');
}

const safeInteger = z.number().refine(Number.isSafeInteger, 'must be a safe integer');
const stringList = z.array(storableText());

const tenantRecordSchema = z.object({
  id: storableText(columnLengths.tenantId),
  slug: storableText(columnLengths.slug),
  name: storableText(),
  status: storableText(columnLengths.status),
  statusReason: storableText().nullable(),
  plan: storableText(columnLengths.plan),
  region: storableText(columnLengths.region).nullable(),
  createdAt: safeInteger,
  updatedAt: safeInteger,
  deletedAt: safeInteger.nullable(),
  version: safeInteger,
});

const domainRecordSchema = z.object({
  hostname: storableText(columnLengths.hostname),
  tenantId: storableText(columnLengths.tenantId),
  status: storableText(columnLengths.status),
  verificationToken: storableText(columnLengths.verificationToken),
  createdAt: safeInteger,
  verifiedAt: safeInteger.nullable(),
});

const membershipRecordSchema = z.object({
  tenantId: storableText(columnLengths.tenantId),
  userId: storableText(columnLengths.userId),
  status: storableText(columnLengths.status),
  invitedBy: storableText(columnLengths.userId).nullable(),
  createdAt: safeInteger,
  updatedAt: safeInteger,
});

const lifecycleRunRecordSchema = z.object({
  id: storableText(columnLengths.runId),
  tenantId: storableText(columnLengths.tenantId),
  kind: storableText(columnLengths.status),
  state: storableText(columnLengths.status),
  completedSteps: stringList,
  compensatedSteps: stringList,
  leaseOwner: storableText(columnLengths.leaseOwner).nullable(),
  leaseExpiresAt: safeInteger.nullable(),
  createdAt: safeInteger,
  updatedAt: safeInteger,
  version: safeInteger,
});

const counterKeySchema = z.object({
  tenantId: storableText(columnLengths.tenantId),
  resource: storableText(columnLengths.resource),
});

/**
 * Throws `VALIDATION_FAILED` unless the tenant's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableTenant(tenant);
 * ```
 */
export function assertStorableTenant(tenant: Tenant): void {
  parseOrThrow(tenantRecordSchema, tenant, 'VALIDATION_FAILED', 'tenant record');
}

/**
 * Throws `VALIDATION_FAILED` unless the domain's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableDomain(domain);
 * ```
 */
export function assertStorableDomain(domain: TenantDomain): void {
  parseOrThrow(domainRecordSchema, domain, 'VALIDATION_FAILED', 'domain record');
}

/**
 * Throws `VALIDATION_FAILED` unless the membership's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableMembership(membership);
 * ```
 */
export function assertStorableMembership(membership: Membership): void {
  parseOrThrow(membershipRecordSchema, membership, 'VALIDATION_FAILED', 'membership record');
}

/**
 * Throws `VALIDATION_FAILED` unless the run's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableLifecycleRun(run);
 * ```
 */
export function assertStorableLifecycleRun(run: LifecycleRun): void {
  parseOrThrow(lifecycleRunRecordSchema, run, 'VALIDATION_FAILED', 'lifecycle run record');
}

/**
 * Throws `VALIDATION_FAILED` unless a counter's key can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableCounterKey('tnt_1', 'projects');
 * ```
 */
export function assertStorableCounterKey(tenantId: string, resource: string): void {
  parseOrThrow(counterKeySchema, { tenantId, resource }, 'VALIDATION_FAILED', 'usage counter key');
}
