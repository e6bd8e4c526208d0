/**
 * Who is asking. @tenantkit/auth produces this shape (a user from a token or session, or an API
 * key); until then an app builds it itself.
 *
 * - `id` identifies the principal (a user id, or an API key id).
 * - `grantsFrom` is the user whose role assignments apply: by default `id` for a user; for an
 *   API key the user who owns it, or `null` for a key that holds only its `scopes`.
 * - `scopes`, when present, cap what the principal may do: a permission must be allowed by the
 *   roles *and* covered by a scope (an empty list allows nothing).
 * - `attributes` feed `principal.attributes.*` in conditions.
 *
 * @example
 * ```ts
 * const user: RbacPrincipal = { kind: 'user', id: 'usr_1', attributes: { department: 'sales' } };
 * const key: RbacPrincipal = { kind: 'api-key', id: 'key_9', grantsFrom: 'usr_1', scopes: ['reports:read'] };
 * ```
 */
export interface RbacPrincipal {
  readonly id: string;
  readonly kind?: 'user' | 'api-key' | 'service';
  readonly grantsFrom?: string | null;
  readonly scopes?: readonly string[];
  readonly attributes?: Readonly<Record<string, unknown>>;
}
