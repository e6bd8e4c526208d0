// Entry of @tenantkit/auth/fastify. Explicit named exports only.
export {};
