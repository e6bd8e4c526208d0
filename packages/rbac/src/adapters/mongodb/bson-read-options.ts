/**
 * Deserialization options passed on every read, so records come back with plain JS numbers
 * whatever the application configured on its `MongoClient` (`promoteValues: false` or
 * `useBigInt64: true` would otherwise hand out `Double`, `Long` or `bigint` values).
 *
 * @example
 * ```ts
 * await roles.findOne(roleFilter('tnt_1', 'editor'), rbacBsonReadOptions);
 * ```
 */
export const rbacBsonReadOptions = Object.freeze({
  promoteValues: true,
  promoteLongs: true,
  promoteBuffers: false,
  useBigInt64: false,
  bsonRegExp: false,
  raw: false,
} as const);
