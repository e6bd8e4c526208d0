// The read options every MongoDB store passes live in @tenantkit/core/mongodb.
export { bsonReadOptions as rbacBsonReadOptions } from '@tenantkit/core/mongodb';
