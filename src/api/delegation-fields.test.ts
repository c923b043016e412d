import { describe, expect, it } from "vitest";
import { FailedPreconditionError, InvalidArgumentError, ResourceExhaustedError } from "../tuple/index.ts";
import { grantFieldToWire } from "./delegation-fields.ts";
import { withRenamedField } from "./renamed-field.ts";

describe("grantFieldToWire", () => {
  it.each([
    ["grant.expiresAt", "expires_at"],
    ["grant.notBefore", "not_before"],
    ["expires_at", "expires_at"],
    ["grant.principal", "principal"],
    ["grant.principal.type", "principal.object_type"],
    ["actor.type", "actor.object_type"],
    ["actor.id", "actor.object_id"],
    ["grant.via", "via"],
    ["grant.via.actor.id", "via.object_id"],
    ["grant.via.delegation", "via"],
    ["grant.chain", "via"],
    ["grant.caveat.name", "caveat.caveat_name"],
    ["grant.caveat.context.current_ticket", "caveat.context.current_ticket"],
    ["grant.caveatContext.ticket", "caveat.context.ticket"],
    ["grant.scope[2]", "scope[2]"],
    ["scope", "scope"],
    ["grant.budget", "budget"],
    ["grant", "grant"],
  ])("maps %s to %s", (field, wire) => {
    expect(grantFieldToWire(field)).toBe(wire);
  });
});

describe("withRenamedField", () => {
  it("renames the field and the message's leading field, keeping the class and the cause", () => {
    const original = new InvalidArgumentError("grant.expiresAt: is past max_lifetime", { field: "grant.expiresAt" });
    const renamed = withRenamedField(original, grantFieldToWire);
    expect(renamed).toBeInstanceOf(InvalidArgumentError);
    expect(renamed).toMatchObject({ field: "expires_at", message: "expires_at: is past max_lifetime", cause: original });
  });

  it("prefixes the new field to a message that does not start with the old one", () => {
    const renamed = withRenamedField(new FailedPreconditionError("the parent edge is gone", { field: "preconditions[0]" }), () => "via");
    expect(renamed).toBeInstanceOf(FailedPreconditionError);
    expect(renamed).toMatchObject({ field: "via", message: "via: the parent edge is gone" });
  });

  it.each([
    ["an error of another class", new ResourceExhaustedError("too many", { field: "scope" })],
    ["an error without a field", new InvalidArgumentError("bad")],
    ["an error whose field is already the wire's", new InvalidArgumentError("scope: bad", { field: "scope" })],
    ["something that is not an AuthzError", new Error("boom")],
  ])("passes %s unchanged", (_name, error) => {
    expect(withRenamedField(error, grantFieldToWire)).toBe(error);
  });
});
