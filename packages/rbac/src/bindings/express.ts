// @tenantkit/rbac/express — the binding's exports.
export {};
