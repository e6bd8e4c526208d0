/**
 * One index a package's MongoDB stores rely on, in the collection of role `Collection`.
 *
 * @example
 * ```ts
 * const index: MongoIndexDefinition<'sessions'> = { collection: 'sessions', name: 'tokenHash_unique', key: { tokenHash: 1 }, unique: true };
 * ```
 */
export interface MongoIndexDefinition<Collection extends string> {
  readonly collection: Collection;
  /** Stable across releases, so creating the indexes again is a no-op. */
  readonly name: string;
  /** Fields in index order (1 ascending, -1 descending). */
  readonly key: Readonly<Record<string, 1 | -1>>;
  readonly unique: boolean;
  /** Set on a TTL index: the server deletes a document this many seconds after the indexed date. */
  readonly expireAfterSeconds?: number;
}

/**
 * The part of a mongodb `Db` that {@link createMongoIndexes} uses. Structural, so this entry
 * loads no driver.
 *
 * @example
 * ```ts
 * const target: MongoIndexTarget = client.db('app');
 * ```
 */
export interface MongoIndexTarget {
  /**
   * The collection of that name.
   *
   * @example
   * ```ts
   * await target.collection('tenantkit_auth_sessions').createIndexes([{ key: { tokenHash: 1 }, name: 'tokenHash_unique', unique: true }]);
   * ```
   */
  collection(name: string): {
    createIndexes(
      indexes: { key: Record<string, 1 | -1>; name: string; unique: boolean; expireAfterSeconds?: number }[],
    ): Promise<unknown>;
  };
}

/**
 * Creates `indexes` (and so their collections), one `createIndexes` call per collection, in
 * the order the collections first appear. Idempotent for definitions that did not change.
 * `run` wraps each call, so failures come out as the package's own errors.
 *
 * @example
 * ```ts
 * await createMongoIndexes(db, resolveAuthCollectionNames('tenantkit_'), authMongoIndexes, runMongoOperation);
 * ```
 */
export async function createMongoIndexes<Collection extends string>(
  db: MongoIndexTarget,
  names: Readonly<Record<Collection, string>>,
  indexes: readonly MongoIndexDefinition<Collection>[],
  run: (operation: () => Promise<unknown>) => Promise<unknown>,
): Promise<void> {
  const byCollection = new Map<Collection, MongoIndexDefinition<Collection>[]>();
  for (const index of indexes) byCollection.set(index.collection, [...(byCollection.get(index.collection) ?? []), index]);
  for (const [collection, definitions] of byCollection) {
    await run(() =>
      db.collection(names[collection]).createIndexes(
        definitions.map((index) => ({
          key: { ...index.key },
          name: index.name,
          unique: index.unique,
          ...(index.expireAfterSeconds === undefined ? {} : { expireAfterSeconds: index.expireAfterSeconds }),
        })),
      ),
    );
  }
}
