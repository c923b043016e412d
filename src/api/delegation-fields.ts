// The engine and the schema name the fields of a grant in their own terms (`grant.expiresAt`,
// `grant.principal.type`, `grant.caveat.context.ticket`); a client should read the proto field it
// sent (`expires_at`, `principal.object_type`, `caveat.context.ticket`).

// Fields of GrantDelegationRequest by the domain name of their first segment. `chain` and
// `via.delegation` have no field of their own: they follow from `via`.
const GRANT_HEADS: ReadonlyMap<string, string> = new Map([
  ["notBefore", "not_before"],
  ["expiresAt", "expires_at"],
  ["grantedAt", "expires_at"],
  ["chain", "via"],
]);

const OBJECT_FIELDS: ReadonlyMap<string, string> = new Map([
  ["type", "object_type"],
  ["id", "object_id"],
]);

/**
 * grantFieldToWire maps a field name of a grant as the engine or schema names it to the field of
 * GrantDelegationRequest, e.g. `grant.expiresAt` → `expires_at`, `grant.principal.type` →
 * `principal.object_type`, `grant.via.actor.id` → `via.object_id`, `grant.caveat.name` →
 * `caveat.caveat_name`, `grant.caveatContext.ticket` → `caveat.context.ticket` (parameter names
 * are kept as they are), `grant.scope[2]` → `scope[2]`.
 */
export function grantFieldToWire(field: string): string {
  const path = field.replace(/^(?:grant|request)(?:\.|$)/, "");
  if (path === "") return "grant";
  const [head = "", ...rest] = path.split(".");
  const headName = head.replace(/\[\d+\]$/, "");
  const index = head.slice(headName.length);
  switch (headName) {
    case "actor":
    case "principal":
      return [head, ...rest.map((part) => OBJECT_FIELDS.get(part) ?? part)].join(".");
    case "via": {
      // The request names only via's actor; its delegation and the chain follow from it.
      const objectPart = rest[0] === "actor" ? rest[1] : rest[0];
      const wire = objectPart === undefined ? undefined : OBJECT_FIELDS.get(objectPart);
      return wire === undefined ? "via" : `via.${wire}`;
    }
    case "caveat":
      if (rest[0] === "name") return "caveat.caveat_name";
      return ["caveat", ...rest].join(".");
    case "caveatContext":
    case "caveat_context":
      return ["caveat.context", ...rest].join(".");
    default:
      return [`${GRANT_HEADS.get(headName) ?? snakeCase(headName)}${index}`, ...rest.map(snakeCase)].join(".");
  }
}

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}
