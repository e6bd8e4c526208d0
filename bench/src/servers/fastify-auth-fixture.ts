import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import {
  createAccessTokenService,
  createRevocationService,
  createSigningKeySet,
  generateSigningKey,
  memoryRevocationStore,
  type AccessTokenService,
  type SigningKeyInput,
} from '@tenantkit/auth';
import { createRbac, memoryRbacStore, type Rbac } from '@tenantkit/rbac';
import {
  createTenantRegistry,
  createTenantResolver,
  fromHeader,
  memoryTenantStore,
  type TenantResolver,
} from '@tenantkit/tenant-context';
import type { JWK } from 'jose';

/*
 * What the auth HTTP servers share: the tenants, the user and its role, the issuer and
 * audience, and the signing key of the run. The bench process generates the key
 * (createBenchSigningKey) before it forks the servers, which read it from the environment they
 * inherit; so every server verifies the token the bench signed, with nothing secret in the tree.
 */

export const benchIssuer = 'https://auth.bench.tenantkit.dev';
export const benchAudience = 'https://api.bench.tenantkit.dev';
export const benchUserId = 'usr_bench';
export const benchPermission = 'projects:list';
/** A limit no run reaches: every request is admitted. */
export const benchRateLimit = Object.freeze({ points: 1_000_000_000, windowSeconds: 3600 });

/** Five active tenants; the requests name `tenant-2` by slug in `x-tenant-id`. */
export const benchTenants: readonly { readonly id: string; readonly slug: string }[] = Object.freeze(
  Array.from({ length: 5 }, (_, index) => Object.freeze({ id: `tnt_bench_${index}`, slug: `tenant-${index}` })),
);
export const requestTenant = benchTenants[2]!;

const keyEnvironment = 'TENANTKIT_BENCH_AUTH_KEY';

/**
 * Generates the run's Ed25519 key and puts it in this process's environment, so servers forked
 * afterwards inherit it. Call once in the bench process, before any server starts.
 */
export async function createBenchSigningKey(): Promise<SigningKeyInput> {
  const generated = await generateSigningKey({ kid: 'bench-eddsa', alg: 'EdDSA' });
  const privateKey = generated.privateKey as KeyObject;
  process.env[keyEnvironment] = JSON.stringify({ kid: generated.kid, jwk: privateKey.export({ format: 'jwk' }) });
  return generated;
}

/** The key the bench process generated, in a forked server. */
export function benchSigningKey(): { readonly input: SigningKeyInput; readonly publicJwk: JsonWebKey } {
  const raw = process.env[keyEnvironment];
  if (raw === undefined) throw new Error(`${keyEnvironment} is not set: start the auth servers from the bench suite`);
  const { kid, jwk } = JSON.parse(raw) as { kid: string; jwk: JsonWebKey };
  const publicJwk = createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'jwk' });
  return { input: { kid, alg: 'EdDSA', privateKey: jwk as JWK }, publicJwk };
}

/** Our token service over the key: memory revocation store, default verified-token cache. */
export async function createBenchTokenService(key: SigningKeyInput, ttlSeconds = 3600): Promise<AccessTokenService> {
  return createAccessTokenService({
    keys: await createSigningKeySet({ keys: [key] }),
    issuer: benchIssuer,
    audience: benchAudience,
    ttlSeconds,
    revocation: createRevocationService({ store: memoryRevocationStore() }),
  });
}

/** The bench tenants in a memory registry and a header resolver (slug in x-tenant-id) with the default cache. */
export async function createBenchAuthResolver(): Promise<TenantResolver> {
  const registry = createTenantRegistry({ store: memoryTenantStore() });
  for (const tenant of benchTenants) {
    await registry.createTenant({ id: tenant.id, slug: tenant.slug, name: `Bench ${tenant.slug}` });
  }
  return createTenantResolver({ registry, sources: [fromHeader({ by: 'slug' })] });
}

/** A memory rbac where the bench user holds `member` (which grants `projects:list`) in every bench tenant. */
export async function createBenchRbac(): Promise<Rbac> {
  const rbac = createRbac({ store: memoryRbacStore() });
  const system = { reason: 'bench fixture' };
  for (const tenant of benchTenants) {
    await rbac.roles.createAsSystem(system, { key: 'member', permissions: [benchPermission, 'projects:read'] }, { tenantId: tenant.id });
    await rbac.assignments.assignAsSystem(system, { subject: { type: 'user', id: benchUserId }, roleKey: 'member' }, { tenantId: tenant.id });
  }
  return rbac;
}
