// Entry of @tenantkit/auth/redis. Explicit named exports only.
export {};
