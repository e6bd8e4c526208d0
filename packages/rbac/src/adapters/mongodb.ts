// @tenantkit/rbac/mongodb — helpers append their exports here.
export {};
export { mongoPermissionFilter, type MongoPermissionFilterOptions } from '../filters/mongo-permission-filter.js';
export { mongoRbacStore } from './mongodb/mongo-rbac-store.js';
export { ensureRbacIndexes, rbacIndexes, type RbacIndexDefinition } from './mongodb/rbac-indexes.js';
export { defaultRbacCollectionPrefix, type MongoRbacStoreOptions, type RbacCollection } from './mongodb/rbac-collections.js';
