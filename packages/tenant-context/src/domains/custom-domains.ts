import { resolveTxt as nodeResolveTxt } from 'node:dns/promises';
import { type Clock, createSecretToken, systemClock } from '@tenantkit/core';
import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { createTenantEventBus, type TenantEventBus } from '../events.js';
import type { TenantRegistry } from '../registry/tenant-registry.js';
import { tenantIdSchema } from '../registry/tenant-input-schemas.js';
import type { TenantDomain } from '../tenant.js';
import { hasMethods, parseOrThrow } from '../validation.js';
import { isSameOrSubdomain, normalizeHostname } from './hostname.js';

/**
 * The DNS lookup custom-domain verification needs; `node:dns/promises` by default, injectable
 * for tests or DNS-over-HTTPS.
 *
 * @example
 * ```ts
 * const resolver: TxtResolver = { resolveTxt: async () => [['tenantkit-verification=abc']] };
 * ```
 */
export interface TxtResolver {
  /** TXT records of a name, each as its character-string chunks (as node:dns returns them). */
  resolveTxt(name: string): Promise<string[][]>;
}

/**
 * What the tenant must publish to prove control of a domain.
 *
 * @example
 * ```ts
 * const { verification } = await domains.addDomain(tenantId, 'app.acme.com');
 * console.log(`${verification.recordType} ${verification.name} "${verification.value}"`);
 * ```
 */
export interface DomainVerificationRecord {
  recordType: 'TXT';
  /** The record name, e.g. `_tenantkit-challenge.app.acme.com`. */
  name: string;
  /** The exact record value. */
  value: string;
}

/**
 * Options of {@link createCustomDomains}.
 *
 * @example
 * ```ts
 * createCustomDomains({ registry, platformDomains: ['example.com'], dns: { resolveTxt } });
 * ```
 */
export interface CustomDomainsOptions {
  registry: TenantRegistry<unknown>;
  events?: TenantEventBus;
  clock?: Clock;
  /** DNS resolver. Default: `node:dns/promises`. */
  dns?: TxtResolver;
  /**
   * Your own domains (e.g. the base domain of tenant subdomains): nobody may claim them or
   * their subdomains as a custom domain.
   */
  platformDomains?: readonly string[];
  /** Label prepended to the host for the TXT record. Default: `_tenantkit-challenge`. */
  challengeLabel?: string;
  /** Most domains one tenant may hold. Default: 20. */
  maxDomainsPerTenant?: number;
  /**
   * How long an unverified claim holds a host name against other tenants. After it, another
   * tenant may claim the host (the stale claim is removed), so nobody can squat a domain they
   * do not control. Default: 72 hours.
   */
  pendingClaimTtlMs?: number;
}

/**
 * Custom domains: a tenant claims a host name, proves control with a DNS TXT record, and only
 * then does the host resolve to the tenant.
 *
 * @example
 * ```ts
 * const { verification } = await domains.addDomain(tenant.id, 'app.acme.com');
 * // ...the customer publishes the TXT record...
 * await domains.verifyDomain(tenant.id, 'app.acme.com');
 * ```
 */
export interface CustomDomains {
  /** @throws `DOMAIN_INVALID`, `DOMAIN_TAKEN`, `TENANT_NOT_FOUND`, `VALIDATION_FAILED` (too many domains) */
  addDomain(tenantId: string, hostname: string): Promise<{ domain: TenantDomain; verification: DomainVerificationRecord }>;
  /** The TXT record a pending domain needs. @throws `DOMAIN_NOT_FOUND` */
  getVerificationRecord(tenantId: string, hostname: string): Promise<DomainVerificationRecord>;
  /**
   * Looks the TXT record up and marks the domain verified when it matches.
   * @throws `DOMAIN_VERIFICATION_FAILED` (record missing or different; DNS failure as `cause`), `DOMAIN_NOT_FOUND`
   */
  verifyDomain(tenantId: string, hostname: string): Promise<TenantDomain>;
  /** @returns whether the domain existed. */
  removeDomain(tenantId: string, hostname: string): Promise<boolean>;
  listDomains(tenantId: string): Promise<TenantDomain[]>;
}

const domainStoreMethods = ['insertDomain', 'getDomain', 'listDomains', 'updateDomain', 'deleteDomain'];

const optionsSchema = z.object({
  // The service reads and writes domains through `registry.store`, so that must be a store too.
  registry: z.custom<TenantRegistry<unknown>>(
    (value) => hasMethods(value, ['getTenant']) && hasMethods((value as { store?: unknown }).store, domainStoreMethods),
    'must be a TenantRegistry',
  ),
  events: z.custom<TenantEventBus>((value) => hasMethods(value, ['on', 'emit']), 'must be a TenantEventBus').optional(),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
  dns: z.custom<TxtResolver>((value) => typeof (value as TxtResolver)?.resolveTxt === 'function').optional(),
  platformDomains: z.array(z.string()).optional(),
  challengeLabel: z
    .string()
    .regex(/^_?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)
    .optional(),
  maxDomainsPerTenant: z.number().int().min(1).max(10_000).optional(),
  pendingClaimTtlMs: z.number().int().min(60_000).optional(),
});

/**
 * Creates the {@link CustomDomains} service.
 *
 * @example
 * ```ts
 * const domains = createCustomDomains({ registry, platformDomains: ['saas.example'] });
 * ```
 */
export function createCustomDomains(options: CustomDomainsOptions): CustomDomains {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'custom domain options');
  const { registry } = options;
  const store = registry.store;
  const events = options.events ?? registry.events ?? createTenantEventBus();
  const clock = options.clock ?? systemClock;
  const dns: TxtResolver = options.dns ?? { resolveTxt: nodeResolveTxt };
  const challengeLabel = parsed.challengeLabel ?? '_tenantkit-challenge';
  const maxDomains = parsed.maxDomainsPerTenant ?? 20;
  const pendingClaimTtlMs = parsed.pendingClaimTtlMs ?? 72 * 60 * 60 * 1000;

  /** Removes another tenant's unverified claim on `hostname` once it is stale. @returns whether it did. */
  async function releaseStaleClaim(hostname: string, claimant: string): Promise<boolean> {
    const current = await store.getDomain(hostname);
    if (current === null || current.tenantId === claimant || current.status !== 'pending') return false;
    if (clock.now() - current.createdAt < pendingClaimTtlMs) return false;
    // Conditional on what was read: a claim its owner verified (or re-created) since then stays.
    const removed = await store.deleteDomain(current.tenantId, hostname, { status: 'pending', createdAt: current.createdAt });
    if (removed) events.emit('domain.removed', { domain: current });
    return removed;
  }
  const platformDomains = (parsed.platformDomains ?? []).map((domain) => {
    const normalized = normalizeHostname(domain);
    if (normalized === undefined) {
      throw new TenantContextError('CONFIGURATION_INVALID', `"${domain}" is not a valid platform domain`);
    }
    return normalized;
  });

  const recordFor = (domain: TenantDomain): DomainVerificationRecord => ({
    recordType: 'TXT',
    name: `${challengeLabel}.${domain.hostname}`,
    value: `tenantkit-verification=${domain.verificationToken}`,
  });

  function checkHostname(hostname: string): string {
    const normalized = normalizeHostname(hostname);
    if (normalized === undefined) {
      throw new TenantContextError('DOMAIN_INVALID', 'Not a valid host name', { details: { hostname: String(hostname).slice(0, 255) } });
    }
    return normalized;
  }

  async function requireDomain(tenantId: string, hostname: string): Promise<TenantDomain> {
    parseOrThrow(tenantIdSchema, tenantId, 'TENANT_IDENTIFIER_INVALID', 'tenant id');
    const domain = await store.getDomain(checkHostname(hostname));
    // Another tenant's domain answers exactly like a missing one.
    if (domain === null || domain.tenantId !== tenantId) {
      throw new TenantContextError('DOMAIN_NOT_FOUND', 'Domain not found for this tenant');
    }
    return domain;
  }

  return {
    async addDomain(tenantId, hostname) {
      parseOrThrow(tenantIdSchema, tenantId, 'TENANT_IDENTIFIER_INVALID', 'tenant id');
      const normalized = checkHostname(hostname);
      if (platformDomains.some((platform) => isSameOrSubdomain(normalized, platform))) {
        throw new TenantContextError('DOMAIN_INVALID', 'This host name belongs to the platform and cannot be claimed', {
          details: { hostname: normalized },
        });
      }
      const tenant = await registry.getTenant(tenantId);
      if (tenant === null || tenant.status === 'deleted') {
        throw new TenantContextError('TENANT_NOT_FOUND', 'Tenant not found', { details: { tenantId } });
      }
      const existing = await store.listDomains(tenantId);
      if (existing.length >= maxDomains) {
        throw new TenantContextError('VALIDATION_FAILED', `A tenant may hold at most ${maxDomains} domains`, {
          details: { maxDomainsPerTenant: maxDomains },
        });
      }
      const domain: TenantDomain = {
        hostname: normalized,
        tenantId,
        status: 'pending',
        verificationToken: createSecretToken(24),
        createdAt: clock.now(),
        verifiedAt: null,
      };
      try {
        await store.insertDomain(domain);
      } catch (error) {
        const taken = error instanceof TenantContextError && error.code === 'DOMAIN_TAKEN';
        if (!taken || !(await releaseStaleClaim(normalized, tenantId))) throw error;
        // The stale claim is gone; a concurrent claimant may still win this insert (DOMAIN_TAKEN).
        await store.insertDomain(domain);
      }
      events.emit('domain.added', { domain });
      return { domain, verification: recordFor(domain) };
    },

    async getVerificationRecord(tenantId, hostname) {
      return recordFor(await requireDomain(tenantId, hostname));
    },

    async verifyDomain(tenantId, hostname) {
      const domain = await requireDomain(tenantId, hostname);
      if (domain.status === 'verified') return domain;
      const record = recordFor(domain);
      let answers: unknown;
      try {
        answers = await dns.resolveTxt(record.name);
      } catch (error) {
        throw new TenantContextError('DOMAIN_VERIFICATION_FAILED', `No TXT record found at ${record.name}`, {
          cause: error,
          details: { recordName: record.name },
        });
      }
      // A TXT record may be split into several character strings; they are one value joined.
      // The resolver is injectable, so a malformed answer counts as no match, not a TypeError.
      const found =
        Array.isArray(answers) &&
        answers.some((chunks: unknown) => Array.isArray(chunks) && chunks.join('') === record.value);
      if (!found) {
        throw new TenantContextError('DOMAIN_VERIFICATION_FAILED', `The TXT record at ${record.name} does not match`, {
          details: { recordName: record.name },
        });
      }
      const verified: TenantDomain = { ...domain, status: 'verified', verifiedAt: clock.now() };
      if (!(await store.updateDomain(verified))) {
        throw new TenantContextError('DOMAIN_NOT_FOUND', 'Domain not found for this tenant');
      }
      events.emit('domain.verified', { domain: verified });
      return verified;
    },

    async removeDomain(tenantId, hostname) {
      let domain: TenantDomain;
      try {
        domain = await requireDomain(tenantId, hostname);
      } catch (error) {
        if (error instanceof TenantContextError && error.code === 'DOMAIN_NOT_FOUND') return false;
        throw error;
      }
      const removed = await store.deleteDomain(tenantId, domain.hostname);
      if (removed) events.emit('domain.removed', { domain });
      return removed;
    },

    async listDomains(tenantId) {
      parseOrThrow(tenantIdSchema, tenantId, 'TENANT_IDENTIFIER_INVALID', 'tenant id');
      return store.listDomains(tenantId);
    },
  };
}
