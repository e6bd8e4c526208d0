// Entry of @tenantkit/auth/mongodb. Explicit named exports only.
export {};
