// Package store: the Store contract (revisions, snapshot reads, atomic writes, change stream) and its in-memory implementation.
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
  Store,
} from "./store.ts";
export { AlreadyExistsError, AbortedError, StoreUnavailableError } from "./errors.ts";
export { MemoryStore } from "./memory/memory-store.ts";
