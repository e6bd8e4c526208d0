// Entry of @tenantkit/auth/kysely. Explicit named exports only.
export {};
