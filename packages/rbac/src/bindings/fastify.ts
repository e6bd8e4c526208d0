// @tenantkit/rbac/fastify — the binding's exports.
export {};
