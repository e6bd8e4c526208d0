// SQLite's write lock for migrations and read-check-write steps lives in @tenantkit/core/kysely.
export { withSqliteWriteLock } from '@tenantkit/core/kysely';
