// @tenantkit/rbac/redis — helpers append their exports here.
export {};
