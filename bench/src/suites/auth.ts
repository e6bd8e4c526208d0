import { type ChildProcess, fork } from 'node:child_process';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import {
  createAccessTokenService,
  createRevocationService,
  createSigningKeySet,
  generateSigningKey,
  memoryRevocationStore,
  type AccessTokenService,
  type SigningAlgorithm,
  type SigningKeySet,
} from '@tenantkit/auth';
import { importJWK, jwtVerify, type CryptoKey, type JWK } from 'jose';
import jwt from 'jsonwebtoken';
import { benchResult, type BenchResult, type BenchSuite } from '../bench-result.js';
import { compareHttp } from '../measure-http.js';
import { compareOps } from '../measure-ops.js';
import {
  benchAudience,
  benchIssuer,
  benchTenants,
  benchUserId,
  createBenchSigningKey,
  createBenchTokenService,
  requestTenant,
} from '../servers/fastify-auth-fixture.js';

/*
 * Access-token verification against jose (the library ours is built on) and jsonwebtoken, and
 * a Fastify route behind the whole tenantkit stack against a bare route and a hand-rolled one,
 * in the same run.
 *
 * - Repeated token: ours `AccessTokenService.verify(token, { tenantId })` (default
 *   verified-token cache of 10k entries, revocation via createRevocationService +
 *   memoryRevocationStore) vs jose `jwtVerify(token, key, { issuer, audience, algorithms:
 *   ['EdDSA'] })` with the key imported once before timing (a CryptoKey). A pool of 1,000
 *   distinct EdDSA tokens (1,000 users and sessions over 5 tenants) is cycled, so the cache
 *   sees repeats but no single hot entry; and one token verified again and again.
 * - jsonwebtoken has no usable EdDSA support, so against it the same comparison runs on ES256
 *   tokens: ours (ES256 keyset) vs `jwt.verify(token, publicKeyObject, { algorithms:
 *   ['ES256'], issuer, audience })` (synchronous, node:crypto), pool and single token.
 * - First sight: every verify sees a token it has never seen. 50,000 distinct tokens (5,000 with
 *   BENCH_QUICK=1) are signed with our issue() before timing and cycled. Ours runs with a
 *   verified-token cache of 1,000 entries and a revocation view of 1,000 answers, both far
 *   smaller than the pool, so even when the pool wraps no cache holds a token (each first-sight
 *   verify also asks the memory revocation store). jose verifies the same tokens, in the same
 *   order, with the pre-imported key. EdDSA (the default) and ES256.
 * - HTTP (autocannon, 50 connections, the same Bearer token on every request, as clients send
 *   between refreshes): GET /projects behind tenantContextPlugin (header resolver over a memory
 *   registry of 5 tenants) + authPlugin (createAuthenticator over our token service) +
 *   rateLimitPlugin (tenant + user, memory store, a limit nothing reaches) +
 *   app.requirePermission (rbacPlugin, memory rbac, the user holds a role with the
 *   permission), vs the bare Fastify route and vs a hand-rolled stack (header tenant lookup,
 *   jose jwtVerify in onRequest, @fastify/rate-limit, a Map-based permission check).
 *
 * Every side's answers are checked before anything is timed: each accepts its valid tokens
 * (with the expected subject) and refuses a token with a changed signature; ours also refuses a
 * token at another tenant; each HTTP stack answers 200 with the token and 401 without it, with a
 * changed signature and at another tenant.
 */

const quick = process.env.BENCH_QUICK === '1';
const opsOptions = quick ? { rounds: 2, roundMs: 100 } : { rounds: 7, roundMs: 300 };
const httpOptions = quick ? { rounds: 1, durationSeconds: 1 } : { rounds: 5, durationSeconds: 3 };
const repeatedPoolSize = 1_000;
const firstSightPoolSize = quick ? 5_000 : 50_000;
/** Bounds of ours in the first-sight cases: far below the pool, so nothing is ever a hit. */
const firstSightCacheEntries = 1_000;
const ttlSeconds = 3600;
const server = (name: string) => fileURLToPath(new URL(`../servers/${name}.ts`, import.meta.url));
const thousands = (count: number) => count.toLocaleString('en-US');

interface PoolToken {
  readonly token: string;
  readonly sub: string;
  /** Built before timing, so the loop allocates nothing for it. */
  readonly options: { readonly tenantId: string };
}

/** Cycles through a fixed array, so neither side allocates while it is timed. */
function cycle<T>(items: readonly T[]): () => T {
  let index = 0;
  return () => {
    const item = items[index]!;
    index = index + 1 === items.length ? 0 : index + 1;
    return item;
  };
}

/** `count` distinct tokens from our issue(): 1,000 users and sessions spread over the bench tenants. */
async function issuePool(tokens: AccessTokenService, count: number): Promise<PoolToken[]> {
  const pool: PoolToken[] = [];
  for (let start = 0; start < count; start += 1000) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(1000, count - start) }, async (_, offset) => {
        const index = start + offset;
        const sub = `usr_${index % 1000}`;
        const tenantId = benchTenants[index % benchTenants.length]!.id;
        const { token } = await tokens.issue({ userId: sub, tenantId, sessionId: `ses_${index % 1000}` });
        return { token, sub, options: Object.freeze({ tenantId }) };
      }),
    );
    pool.push(...chunk);
  }
  return pool;
}

/** The same token with one signature character changed (a middle one: every bit of it counts). */
function withBadSignature(token: string): string {
  const signatureStart = token.lastIndexOf('.') + 1;
  const at = signatureStart + Math.floor((token.length - signatureStart) / 2);
  return `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
}

async function expectRefusal(side: string, verify: () => Promise<unknown>, expectedCode?: string): Promise<void> {
  let error: unknown;
  try {
    await verify();
  } catch (caught) {
    error = caught;
  }
  if (error === undefined) throw new Error(`${side}: accepted a token it must refuse`);
  const code = (error as { code?: unknown }).code;
  if (expectedCode !== undefined && code !== expectedCode) throw new Error(`${side}: refused with ${String(code)}, expected ${expectedCode}`);
}

interface Verifiers {
  ours: (item: PoolToken) => Promise<unknown>;
  peer: (item: PoolToken) => unknown;
}

/** Every verifier accepts every token of `pool` with its subject, and refuses a forged one. */
async function checkVerifiers(label: string, pool: readonly PoolToken[], sides: Record<string, (item: PoolToken) => unknown>): Promise<void> {
  for (const [side, verify] of Object.entries(sides)) {
    for (const item of pool) {
      const result = (await verify(item)) as { sub?: unknown; payload?: { sub?: unknown } };
      const sub = result.payload?.sub ?? result.sub;
      if (sub !== item.sub) throw new Error(`${label}, ${side}: verified ${String(sub)}, expected ${item.sub}`);
    }
    const forged = { ...pool[0]!, token: withBadSignature(pool[0]!.token) };
    await expectRefusal(`${label}, ${side}, changed signature`, async () => verify(forged));
  }
}

async function keySetOf(alg: SigningAlgorithm): Promise<{ keys: SigningKeySet; publicJwk: JWK }> {
  const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: `bench-${alg.toLowerCase()}`, alg })] });
  return { keys, publicJwk: keys.jwks().keys[0]! };
}

/** Ours as an app configures it: the default verified-token cache, memory revocation. */
function cachedService(keys: SigningKeySet): AccessTokenService {
  return createAccessTokenService({
    keys,
    issuer: benchIssuer,
    audience: benchAudience,
    ttlSeconds,
    revocation: createRevocationService({ store: memoryRevocationStore() }),
  });
}

/** Ours for first sight: caches far smaller than the pool, so no verify is ever a hit. */
function firstSightService(keys: SigningKeySet): AccessTokenService {
  return createAccessTokenService({
    keys,
    issuer: benchIssuer,
    audience: benchAudience,
    ttlSeconds,
    cache: { maxEntries: firstSightCacheEntries },
    revocation: createRevocationService({ store: memoryRevocationStore(), maxEntries: firstSightCacheEntries }),
  });
}

async function joseVerifier(alg: SigningAlgorithm, publicJwk: JWK): Promise<(item: PoolToken) => Promise<unknown>> {
  const key = (await importJWK(publicJwk, alg)) as CryptoKey;
  const options = { issuer: benchIssuer, audience: benchAudience, algorithms: [alg] };
  return (item) => jwtVerify(item.token, key, options);
}

function jsonwebtokenVerifier(alg: 'ES256', publicJwk: JWK): (item: PoolToken) => unknown {
  const key = createPublicKey({ key: publicJwk as JsonWebKey, format: 'jwk' });
  const options: jwt.VerifyOptions & { complete?: false } = { algorithms: [alg], issuer: benchIssuer, audience: benchAudience };
  return (item) => jwt.verify(item.token, key, options);
}

async function compareVerifiers(verifiers: Verifiers, oursPool: readonly PoolToken[], peerPool: readonly PoolToken[] = oursPool) {
  const nextOurs = cycle(oursPool);
  const nextPeer = cycle(peerPool);
  return compareOps(
    () => verifiers.ours(nextOurs()),
    () => verifiers.peer(nextPeer()),
    opsOptions,
  );
}

async function measureRepeated(results: BenchResult[]): Promise<void> {
  const eddsa = await keySetOf('EdDSA');
  const es256 = await keySetOf('ES256');
  const oursEddsa = cachedService(eddsa.keys);
  const oursEs256 = cachedService(es256.keys);
  try {
    const eddsaPool = await issuePool(oursEddsa, repeatedPoolSize);
    const es256Pool = await issuePool(oursEs256, repeatedPoolSize);
    const jose = await joseVerifier('EdDSA', eddsa.publicJwk);
    const jsonwebtoken = jsonwebtokenVerifier('ES256', es256.publicJwk);
    const verifyEddsa = (item: PoolToken) => oursEddsa.verify(item.token, item.options);
    const verifyEs256 = (item: PoolToken) => oursEs256.verify(item.token, item.options);
    // The first pass verifies and fills the cache; the cases below measure the passes after it.
    await checkVerifiers('EdDSA pool', eddsaPool, { ours: verifyEddsa, jose });
    await checkVerifiers('ES256 pool', es256Pool, { ours: verifyEs256, jsonwebtoken });
    const otherTenant = { tenantId: benchTenants.find((tenant) => tenant.id !== eddsaPool[0]!.options.tenantId)!.id };
    await expectRefusal('ours, cached token at another tenant', () => oursEddsa.verify(eddsaPool[0]!.token, otherTenant), 'TOKEN_INVALID');
    await expectRefusal('ours, changed signature of a cached token', () => verifyEddsa({ ...eddsaPool[0]!, token: withBadSignature(eddsaPool[0]!.token) }), 'TOKEN_INVALID');

    const joseName = "jose jwtVerify(token, pre-imported CryptoKey, { issuer, audience, algorithms: ['EdDSA'] })";
    const jsonwebtokenName = "jsonwebtoken jwt.verify(token, public KeyObject, { algorithms: ['ES256'], issuer, audience }) (sync)";
    const cases = [
      [`repeated EdDSA token, pool of ${thousands(repeatedPoolSize)} cycled (cache hits): verify(token, { tenantId }) (target >= 10)`, verifyEddsa, jose, eddsaPool, joseName],
      ['repeated EdDSA token, one token: verify(token, { tenantId }) (target >= 10)', verifyEddsa, jose, eddsaPool.slice(0, 1), joseName],
      [`repeated ES256 token, pool of ${thousands(repeatedPoolSize)} cycled (cache hits): verify(token, { tenantId }) (jsonwebtoken has no EdDSA)`, verifyEs256, jsonwebtoken, es256Pool, jsonwebtokenName],
      ['repeated ES256 token, one token: verify(token, { tenantId }) (jsonwebtoken has no EdDSA)', verifyEs256, jsonwebtoken, es256Pool.slice(0, 1), jsonwebtokenName],
    ] as const;
    for (const [caseName, ours, peer, pool, peerName] of cases) {
      const measured = await compareVerifiers({ ours, peer }, pool);
      results.push(benchResult({ suite: 'auth', case: caseName, unit: 'ops/s', value: measured.ours, peer: peerName, peerValue: measured.peer }));
    }
  } finally {
    await oursEddsa.close();
    await oursEs256.close();
  }
}

async function measureFirstSight(results: BenchResult[]): Promise<void> {
  for (const alg of ['EdDSA', 'ES256'] as const) {
    const { keys, publicJwk } = await keySetOf(alg);
    const issuer = cachedService(keys);
    const ours = firstSightService(keys);
    // Checks ours on a service of its own (no cache), so the timed one sees every token first.
    const checker = createAccessTokenService({
      keys,
      issuer: benchIssuer,
      audience: benchAudience,
      cache: false,
      revocation: createRevocationService({ store: memoryRevocationStore() }),
    });
    try {
      const pool = await issuePool(issuer, firstSightPoolSize);
      const jose = await joseVerifier(alg, publicJwk);
      await checkVerifiers(`${alg} first sight`, pool, { ours: (item) => checker.verify(item.token, item.options), jose });
      const measured = await compareVerifiers({ ours: (item) => ours.verify(item.token, item.options), peer: jose }, pool);
      results.push(
        benchResult({
          suite: 'auth',
          case: `first-sight ${alg} token, ${thousands(firstSightPoolSize)} distinct cycled (cache ${thousands(firstSightCacheEntries)}, never a hit): verify(token, { tenantId }) (target >= 0.9)`,
          unit: 'ops/s',
          value: measured.ours,
          peer: `jose jwtVerify(token, pre-imported CryptoKey, { issuer, audience, algorithms: ['${alg}'] }), the same tokens`,
          peerValue: measured.peer,
        }),
      );
    } finally {
      await Promise.all([issuer.close(), ours.close(), checker.close()]);
    }
  }
}

/** Starts a server module as measure-http does, to ask it a few questions before timing. */
async function withServer<T>(serverModule: string, use: (origin: string) => Promise<T>): Promise<T> {
  const child: ChildProcess = fork(serverModule, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const [message] = (await once(child, 'message')) as [{ port: number }];
    return await use(`http://127.0.0.1:${message.port}`);
  } finally {
    child.kill();
  }
}

async function checkHttpStack(serverModule: string, path: string, token: string): Promise<void> {
  const tenantHeader = { 'x-tenant-id': requestTenant.slug };
  const otherTenant = benchTenants.find((tenant) => tenant.id !== requestTenant.id)!;
  const expectations = [
    ['the token', { ...tenantHeader, authorization: `Bearer ${token}` }, 200],
    ['no token', tenantHeader, 401],
    ['a changed signature', { ...tenantHeader, authorization: `Bearer ${withBadSignature(token)}` }, 401],
    ['the token at another tenant', { 'x-tenant-id': otherTenant.slug, authorization: `Bearer ${token}` }, 401],
  ] as const;
  await withServer(serverModule, async (origin) => {
    for (const [what, headers, status] of expectations) {
      const response = await fetch(`${origin}${path}`, { headers });
      await response.arrayBuffer();
      if (response.status !== status) throw new Error(`${serverModule}: answered ${response.status} to ${what}, expected ${status}`);
    }
  });
}

async function measureHttp(results: BenchResult[]): Promise<void> {
  const path = '/projects';
  // Before any server forks: they inherit the key through the environment.
  const key = await createBenchSigningKey();
  const tokens = await createBenchTokenService(key, ttlSeconds);
  const { token } = await tokens.issue({ userId: benchUserId, tenantId: requestTenant.id, sessionId: 'ses_bench' });
  await tokens.close();
  const headers = { authorization: `Bearer ${token}`, 'x-tenant-id': requestTenant.slug };
  await checkHttpStack(server('fastify-auth-ours'), path, token);
  await checkHttpStack(server('fastify-auth-hand-rolled'), path, token);
  const ours = { serverModule: server('fastify-auth-ours'), path, headers };
  const caseName = 'fastify route: tenant (header) + authenticate (Bearer, repeated token) + rate limit (tenant+user, memory) + requirePermission (memory rbac)';
  const httpCases = [
    ['fastify-bare', 'bare fastify route (no tenant, auth, limit or permission) (target >= 0.70)'],
    ['fastify-auth-hand-rolled', 'hand-rolled: Map tenant lookup + jose jwtVerify in onRequest + @fastify/rate-limit (tenant+user) + Map permission check'],
  ] as const;
  for (const [peerServer, peerName] of httpCases) {
    const measured = await compareHttp(ours, { serverModule: server(peerServer), path, headers }, httpOptions);
    results.push(benchResult({ suite: 'auth', case: caseName, unit: 'req/s', value: measured.ours, peer: peerName, peerValue: measured.peer }));
  }
}

/**
 * `pnpm bench --json auth`: access-token verify of repeated tokens (cache hits) against jose
 * (target >= 10x) and jsonwebtoken (ES256), first-sight verify against jose (target >= 0.9,
 * EdDSA and ES256), and a Fastify route behind tenant + auth + rate limit + permission against a
 * bare route (target >= 0.70) and a hand-rolled jose + @fastify/rate-limit stack.
 */
export const authSuite: BenchSuite = {
  name: 'auth',
  description: 'access-token verify (repeated and first-sight) vs jose and jsonwebtoken; fastify tenant+auth+ratelimit+rbac route vs bare and hand-rolled',
  async run() {
    const results: BenchResult[] = [];
    await measureRepeated(results);
    await measureFirstSight(results);
    await measureHttp(results);
    return results;
  },
};
