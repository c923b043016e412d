import { describe, expect, it } from "vitest";
import { loadMandatePackage } from "./mandate-proto.ts";
import { METHOD_ROLES, requiredRole, roleAllows } from "./method-roles.ts";

describe("method roles", () => {
  it("names a role for every method of every mandate.v1 service", () => {
    const definition = loadMandatePackage();
    const paths = Object.entries(definition)
      .filter(([name, value]) => name.startsWith("mandate.v1.") && typeof value === "object" && value !== null && !("format" in value) && !("type" in value))
      .flatMap(([, service]) => Object.values(service as Record<string, { path: string }>).map((method) => method.path));
    expect(paths.length).toBeGreaterThan(15);
    expect(paths.filter((path) => !METHOD_ROLES.has(path))).toEqual([]);
  });

  it.each([
    ["/grpc.health.v1.Health/Check", undefined],
    ["/grpc.health.v1.Health/Watch", "read"],
    ["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "read"],
    ["/mandate.v1.WatchService/Watch", "read"],
    ["/mandate.v1.PermissionsService/ImportBulkRelationships", "write"],
    ["/mandate.v1.SchemaService/WriteSchema", "admin"],
    ["/mandate.v1.SomethingNew/Method", "admin"],
  ])("requires of %s the role %s", (path, role) => {
    expect(requiredRole(path)).toBe(role);
  });

  it.each([
    ["read", "read", true],
    ["read", "write", false],
    ["write", "read", true],
    ["write", "admin", false],
    ["admin", "write", true],
  ] as const)("lets %s do what needs %s: %s", (role, needed, allowed) => {
    expect(roleAllows(role, needed)).toBe(allowed);
  });
});
