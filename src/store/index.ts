// Package store: the Store contract (revisions, snapshot reads, atomic writes, change stream) and its in-memory and Postgres/PGlite implementations.
export type {
  SubjectFilter,
  RelationshipFilter,
  QueryOptions,
  RelationshipReader,
  RelationshipUpdate,
  Precondition,
  StoredSchema,
  WriteOptions,
  Change,
  ChangeSet,
  WatchOptions,
  ImportOptions,
  ImportResult,
  BudgetCharge,
  BudgetOutcome,
  ApiKeyRole,
  ApiKeyRecord,
  ApiKeyStore,
  Store,
} from "./store.ts";
export { API_KEY_ROLES } from "./store.ts";
export { AlreadyExistsError, AbortedError, StoreUnavailableError } from "./errors.ts";
export { MemoryStore } from "./memory/memory-store.ts";
export { PostgresStore } from "./postgres/postgres-store.ts";
export type { PostgresStoreOptions, PostgresConnectOptions, GarbageCollectionOptions } from "./postgres/postgres-store.ts";
export { migrate } from "./postgres/migrate.ts";
export type { SqlClient, SqlQueryable, SqlResult, SqlRow, PoolUsage } from "./postgres/sql-client.ts";
export type { DatastoreLocation } from "./postgres/migrate.ts";
