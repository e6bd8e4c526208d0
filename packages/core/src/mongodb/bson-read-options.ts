/**
 * Deserialization options passed on every read, so records come back with plain JS numbers
 * whatever the application configured on its `MongoClient` (`promoteValues: false` or
 * `useBigInt64: true` would otherwise hand out `Double`, `Long` or `bigint` values, and a
 * counter that `$inc` promoted to int64 would not read back as a number).
 *
 * @example
 * ```ts
 * await collection.findOne({ _id: id }, bsonReadOptions);
 * ```
 */
export const bsonReadOptions = Object.freeze({
  promoteValues: true,
  promoteLongs: true,
  promoteBuffers: false,
  useBigInt64: false,
  bsonRegExp: false,
  raw: false,
} as const);
