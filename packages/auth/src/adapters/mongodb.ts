// Entry of @tenantkit/auth/mongodb. Explicit named exports only.
export { mongoAuthStores } from './mongodb/mongo-auth-stores.js';
export { ensureAuthIndexes, authMongoIndexes, type AuthIndexDefinition } from './mongodb/auth-indexes.js';
export { defaultAuthCollectionPrefix, type MongoAuthStoresOptions, type AuthCollection } from './mongodb/auth-collections.js';
