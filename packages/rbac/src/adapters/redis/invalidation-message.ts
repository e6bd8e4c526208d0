import { isValidTenantId } from '@tenantkit/tenant-context';

/** Longer messages are not ours; refusing them before `JSON.parse` bounds the work garbage costs. */
const MAX_MESSAGE_LENGTH = 512;
const MESSAGE_VERSION = 1;

/**
 * The wire form of one invalidation: `{"v":1,"tenantId":"tnt_1"}` (`null` for global roles).
 * The version field lets a later format coexist with processes still running this one.
 *
 * @example
 * ```ts
 * encodeInvalidationMessage('tnt_1'); // '{"v":1,"tenantId":"tnt_1"}'
 * ```
 */
export function encodeInvalidationMessage(tenantId: string | null): string {
  return JSON.stringify({ v: MESSAGE_VERSION, tenantId });
}

/**
 * Reads a message received on the invalidation channel. Anything else — another app's
 * message on a shared channel name, a hand-typed PUBLISH, a tenant id that is not one — is
 * `undefined`, so a listener never sees a value no store could hold.
 *
 * @example
 * ```ts
 * decodeInvalidationMessage('{"v":1,"tenantId":"tnt_1"}'); // { tenantId: 'tnt_1' }
 * decodeInvalidationMessage('hello');                        // undefined
 * ```
 */
export function decodeInvalidationMessage(message: unknown): { readonly tenantId: string | null } | undefined {
  if (typeof message !== 'string' || message.length > MAX_MESSAGE_LENGTH) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const keys = Object.keys(parsed);
  if (keys.length !== 2 || !keys.includes('v') || !keys.includes('tenantId')) return undefined;
  const { v, tenantId } = parsed as { v: unknown; tenantId: unknown };
  if (v !== MESSAGE_VERSION) return undefined;
  if (tenantId === null) return { tenantId: null };
  return isValidTenantId(tenantId) ? { tenantId } : undefined;
}
