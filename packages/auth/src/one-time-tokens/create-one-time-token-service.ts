import { createSecretToken, systemClock, type Clock } from '@tenantkit/core';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import { hashSecret } from '../secrets/hash-secret.js';
import type { OneTimeTokenPurpose, OneTimeTokenRecord, OneTimeTokenStore } from '../store.js';
import { assertLinkPath, buildOneTimeTokenLink, defaultOneTimeTokenPaths, parseLinkBaseUrl } from './one-time-token-links.js';
import type { IssuedOneTimeToken, OneTimeTokenService } from './one-time-token-service.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

/**
 * Where one-time-token links point. Only configuration decides: the service has no parameter
 * through which a request's Host or X-Forwarded-Host could reach a link.
 *
 * @example
 * ```ts
 * const links: OneTimeTokenLinks = {
 *   baseUrl: 'https://app.example.com',
 *   paths: { 'password-reset': '/account/reset' },
 *   tenantBaseUrl: async (tenantId) => (await tenants.get(tenantId))?.customDomainUrl,
 * };
 * ```
 */
export interface OneTimeTokenLinks {
  /**
   * The application's URL, checked when the service is created: absolute `https:` (or `http:`
   * on localhost), no credentials, query or fragment. A path in it is kept
   * (`https://example.com/app` + `/reset-password`).
   */
  readonly baseUrl: string;
  /** The path per purpose; defaults `/reset-password`, `/verify-email`, `/accept-invitation`. */
  readonly paths?: Partial<Record<OneTimeTokenPurpose, string>>;
  /**
   * The base URL of a tenant (its own domain), for tokens issued with a `tenantId`; `undefined`
   * falls back to `baseUrl`. Its answer is checked as `baseUrl` is, on every issue: a bad one
   * is `CONFIGURATION_INVALID` and nothing is issued.
   */
  readonly tenantBaseUrl?: (tenantId: string) => string | undefined | Promise<string | undefined>;
}

/**
 * Options of {@link createOneTimeTokenService}, validated when it is called
 * (`CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const options: OneTimeTokenServiceOptions = {
 *   store: stores.oneTimeTokens,
 *   links: { baseUrl: 'https://app.example.com' },
 *   ttlSeconds: { 'password-reset': 1800 },
 * };
 * ```
 */
export interface OneTimeTokenServiceOptions {
  readonly store: OneTimeTokenStore;
  readonly links: OneTimeTokenLinks;
  /**
   * Lifetime per purpose, 60 s to 30 days; defaults: password reset 3600 (one hour), email
   * verification 86,400 (a day), invitation 604,800 (a week).
   */
  readonly ttlSeconds?: Partial<Record<OneTimeTokenPurpose, number>>;
  readonly clock?: Clock;
}


const PURPOSES = ['password-reset', 'email-verification', 'invitation'] as const satisfies readonly OneTimeTokenPurpose[];
const DEFAULT_TTL_SECONDS: Readonly<Record<OneTimeTokenPurpose, number>> = {
  'password-reset': 3600,
  'email-verification': 86_400,
  invitation: 604_800,
};
const MAX_DATA_JSON_LENGTH = 16_384;
// createSecretToken(32): 32 bytes as unpadded base64url.
const TOKEN_FORMAT = /^[A-Za-z0-9_-]{43}$/;

const purposeSchema = z.enum(PURPOSES);
const ttlSchema = z.int().min(60).max(2_592_000);

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');
}

const optionsSchema = z.strictObject({
  store: z.custom<OneTimeTokenStore>((value) => hasMethods(value, ['issue', 'consume', 'voidFor']), 'must be a OneTimeTokenStore'),
  links: z.strictObject({
    baseUrl: z.string(),
    paths: z.partialRecord(purposeSchema, z.string()).optional(),
    tenantBaseUrl: z
      .custom<NonNullable<OneTimeTokenLinks['tenantBaseUrl']>>((value) => typeof value === 'function', 'must be a function')
      .optional(),
  }),
  ttlSeconds: z.partialRecord(purposeSchema, ttlSchema).optional(),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
});

const subjectSchema = z.string().min(1).max(512);
const tenantIdSchema = z.string().min(1).max(256).nullable();

// Strict: an issue takes nothing else (no request, no host), so nothing else can shape the link.
const issueOptionsSchema = z.strictObject({
  tenantId: tenantIdSchema.optional(),
  data: z
    .record(z.string(), z.json())
    .refine((data) => JSON.stringify(data).length <= MAX_DATA_JSON_LENGTH, `must serialize to at most ${MAX_DATA_JSON_LENGTH} characters`)
    .optional(),
  ttlSeconds: ttlSchema.optional(),
});

function invalidToken(): AuthError {
  return new AuthError('ONE_TIME_TOKEN_INVALID', 'The link is invalid or has expired; request a new one');
}

/**
 * A {@link OneTimeTokenService}: reset, verification and invitation tokens of 256 random bits
 * (`createSecretToken(32)`), stored only as their SHA-256 (`hashSecret`), expiring (reset after
 * an hour by default), taken at most once (the store's atomic `consume`), voided when a new one
 * is issued for the same purpose, subject and tenant.
 *
 * Links are the configured base URL (or the tenant's, from `links.tenantBaseUrl`), the
 * purpose's path and `?token=`, built with the URL API. Nothing from a request takes part: base
 * URLs come from configuration only, are checked (https, or http on localhost) when the service
 * is created and on every issue for tenant URLs, and `issue` accepts no other options.
 *
 * @example
 * ```ts
 * const oneTimeTokens = createOneTimeTokenService({
 *   store: stores.oneTimeTokens,
 *   links: { baseUrl: 'https://app.example.com', tenantBaseUrl: (tenantId) => customDomains.get(tenantId) },
 * });
 * const { link } = await oneTimeTokens.issue('password-reset', account.id); // https://app.example.com/reset-password?token=...
 * const record = await oneTimeTokens.consume(tokenFromLink, 'password-reset'); // once; then ONE_TIME_TOKEN_INVALID
 * ```
 */
export function createOneTimeTokenService(options: OneTimeTokenServiceOptions): OneTimeTokenService {
  const settings = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createOneTimeTokenService options');
  const { store } = settings;
  const clock = settings.clock ?? systemClock;
  const baseUrl = parseLinkBaseUrl(settings.links.baseUrl, 'links.baseUrl');
  const paths: Record<OneTimeTokenPurpose, string> = { ...defaultOneTimeTokenPaths, ...settings.links.paths };
  for (const purpose of PURPOSES) assertLinkPath(paths[purpose], `links.paths.${purpose}`);
  const ttlSeconds: Record<OneTimeTokenPurpose, number> = { ...DEFAULT_TTL_SECONDS, ...settings.ttlSeconds };
  const { tenantBaseUrl } = settings.links;

  async function baseUrlFor(tenantId: string | null): Promise<URL> {
    if (tenantId === null || tenantBaseUrl === undefined) return baseUrl;
    const configured: unknown = await tenantBaseUrl(tenantId);
    if (configured === undefined) return baseUrl;
    return parseLinkBaseUrl(configured, `links.tenantBaseUrl(${JSON.stringify(tenantId)})`);
  }

  function parsePurpose(purpose: unknown): OneTimeTokenPurpose {
    return parseOrThrow(purposeSchema, purpose, 'VALIDATION_FAILED', 'one-time token purpose');
  }

  return {
    async issue(purpose, subject, issueOptions = {}): Promise<IssuedOneTimeToken> {
      const validPurpose = parsePurpose(purpose);
      const validSubject = parseOrThrow(subjectSchema, subject, 'VALIDATION_FAILED', 'one-time token subject');
      const parsed = parseOrThrow(issueOptionsSchema, issueOptions, 'VALIDATION_FAILED', 'one-time token options');
      const tenantId = parsed.tenantId ?? null;
      // The link first: a configuration error must not void the tokens already out.
      const base = await baseUrlFor(tenantId);
      const token = createSecretToken(32);
      const now = clock.now();
      const expiresAt = now + (parsed.ttlSeconds ?? ttlSeconds[validPurpose]) * 1000;
      const record: OneTimeTokenRecord = {
        tokenHash: hashSecret(token),
        purpose: validPurpose,
        subject: validSubject,
        tenantId,
        data: structuredClone(parsed.data ?? {}),
        createdAt: now,
        expiresAt,
      };
      await store.issue(record);
      return { token, link: buildOneTimeTokenLink(base, paths[validPurpose], token), expiresAt, record };
    },

    async consume(token, purpose) {
      const validPurpose = parsePurpose(purpose);
      if (typeof token !== 'string' || !TOKEN_FORMAT.test(token)) throw invalidToken();
      const record = await store.consume(hashSecret(token), validPurpose, clock.now());
      if (record === null) throw invalidToken();
      return record;
    },

    async voidFor(purpose, subject, tenantId) {
      const validPurpose = parsePurpose(purpose);
      const validSubject = parseOrThrow(subjectSchema, subject, 'VALIDATION_FAILED', 'one-time token subject');
      if (tenantId === undefined) return store.voidFor(validPurpose, validSubject);
      return store.voidFor(validPurpose, validSubject, parseOrThrow(tenantIdSchema, tenantId, 'VALIDATION_FAILED', 'one-time token tenant id'));
    },
  };
}
