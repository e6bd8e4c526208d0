// @tenantkit/rbac/kysely — helpers append their exports here.
export {};
