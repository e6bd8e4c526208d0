// @tenantkit/rbac/mongodb — helpers append their exports here.
export {};
