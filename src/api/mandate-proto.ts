import { fileURLToPath } from "node:url";
import * as protoLoader from "@grpc/proto-loader";

// proto/ sits at the repository root, two levels above src/api/.
const PROTO_ROOT = fileURLToPath(new URL("../../proto", import.meta.url));
const PROTO_FILES = [
  "mandate/v1/permissions_service.proto",
  "mandate/v1/schema_service.proto",
  "mandate/v1/watch_service.proto",
  "mandate/v1/delegation_service.proto",
  "mandate/v1/key_service.proto",
];

/** PERMISSIONS_SERVICE, SCHEMA_SERVICE, WATCH_SERVICE and DELEGATION_SERVICE are the fully-qualified gRPC service names. */
export const PERMISSIONS_SERVICE = "mandate.v1.PermissionsService";
export const SCHEMA_SERVICE = "mandate.v1.SchemaService";
export const WATCH_SERVICE = "mandate.v1.WatchService";
export const DELEGATION_SERVICE = "mandate.v1.DelegationService";
/** KEY_SERVICE is the fully-qualified name of mandate.v1.KeyService (API keys; admin only). */
export const KEY_SERVICE = "mandate.v1.KeyService";

/**
 * PROTO_LOADER_OPTIONS fix how messages look in JavaScript; wire-types.ts is written against them:
 * camelCase fields, enums as strings, 64-bit integers as numbers (revisions and counts stay far
 * below 2^53), defaults filled in, and the name of the set member on every oneof.
 */
const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

let cached: protoLoader.PackageDefinition | undefined;

/** loadMandatePackage parses proto/mandate/v1 once per process and returns its package definition. */
export function loadMandatePackage(): protoLoader.PackageDefinition {
  cached ??= protoLoader.loadSync(PROTO_FILES, PROTO_LOADER_OPTIONS);
  return cached;
}
