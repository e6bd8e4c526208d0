// The read options every MongoDB store passes live in @tenantkit/core/mongodb.
export { bsonReadOptions as authBsonReadOptions } from '@tenantkit/core/mongodb';
