// The read options every MongoDB store passes live in @tenantkit/core/mongodb.
export { bsonReadOptions } from '@tenantkit/core/mongodb';
