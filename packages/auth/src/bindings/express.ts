// Entry of @tenantkit/auth/express. Explicit named exports only.
export {};
