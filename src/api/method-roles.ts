import type { Role } from "./caller.ts";

// Which role each RPC needs. A path missing from the table needs `admin`, so that a method added
// later is closed until someone decides who may call it (pinned by src/api/method-roles.test.ts,
// "names a role for every method of every mandate.v1 service").

/**
 * HEALTH_CHECK_PATH: the health service's unary Check answers without credentials and outside
 * the per-key limits (load balancers and probes hold no key). Its streaming Watch needs a read
 * key like any stream, so that keyless callers cannot hold streams open.
 */
export const HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check";

const READ_METHODS = [
  "/grpc.health.v1.Health/Watch",
  "/mandate.v1.PermissionsService/CheckPermission",
  "/mandate.v1.PermissionsService/CheckBulkPermissions",
  "/mandate.v1.PermissionsService/ExpandPermissionTree",
  "/mandate.v1.PermissionsService/ReadRelationships",
  "/mandate.v1.PermissionsService/ExportBulkRelationships",
  "/mandate.v1.PermissionsService/LookupResources",
  "/mandate.v1.PermissionsService/LookupSubjects",
  "/mandate.v1.SchemaService/ReadSchema",
  "/mandate.v1.WatchService/Watch",
  "/mandate.v1.DelegationService/ListDelegations",
  "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
];

const WRITE_METHODS = [
  "/mandate.v1.PermissionsService/WriteRelationships",
  "/mandate.v1.PermissionsService/DeleteRelationships",
  "/mandate.v1.PermissionsService/ImportBulkRelationships",
  "/mandate.v1.DelegationService/GrantDelegation",
  "/mandate.v1.DelegationService/RevokeDelegations",
];

const ADMIN_METHODS = [
  "/mandate.v1.SchemaService/WriteSchema",
  "/mandate.v1.KeyService/CreateKey",
  "/mandate.v1.KeyService/ListKeys",
  "/mandate.v1.KeyService/RotateKey",
  "/mandate.v1.KeyService/RevokeKey",
];

/** METHOD_ROLES maps each method path (`/package.Service/Method`) to the role it needs. */
export const METHOD_ROLES: ReadonlyMap<string, Role> = new Map<string, Role>([
  ...READ_METHODS.map((path): [string, Role] => [path, "read"]),
  ...WRITE_METHODS.map((path): [string, Role] => [path, "write"]),
  ...ADMIN_METHODS.map((path): [string, Role] => [path, "admin"]),
]);

/** requiredRole returns the role a call of `path` needs, or undefined for the health check, which needs no credentials. */
export function requiredRole(path: string): Role | undefined {
  if (path === HEALTH_CHECK_PATH) return undefined;
  return METHOD_ROLES.get(path) ?? "admin";
}

const RANK: Readonly<Record<Role, number>> = { read: 0, write: 1, admin: 2 };

/** roleAllows tells whether a key with `role` may make a call that needs `needed`: admin > write > read. */
export function roleAllows(role: Role, needed: Role): boolean {
  return RANK[role] >= RANK[needed];
}
