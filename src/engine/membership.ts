/**
 * Membership is the three-valued answer for one subproblem. A conditional membership carries the
 * caveat parameters whose absence kept it from being decided (never empty).
 */
export type Membership =
  | { readonly permissionship: "allowed" }
  | { readonly permissionship: "denied" }
  | { readonly permissionship: "conditional"; readonly missingParameters: ReadonlySet<string> };

/** ALLOWED is the decided "yes". */
export const ALLOWED: Membership = { permissionship: "allowed" };
/** DENIED is the decided "no". */
export const DENIED: Membership = { permissionship: "denied" };

/** conditional builds a conditional membership; `missingParameters` must not be empty. */
export function conditional(missingParameters: Iterable<string>): Membership {
  return { permissionship: "conditional", missingParameters: new Set(missingParameters) };
}

function missingOf(...memberships: readonly Membership[]): Set<string> {
  const missing = new Set<string>();
  for (const membership of memberships) {
    if (membership.permissionship === "conditional") {
      for (const parameter of membership.missingParameters) missing.add(parameter);
    }
  }
  return missing;
}

/**
 * unionOf is `a + b`: allowed if either is, denied if both are, otherwise conditional on the
 * parameters of the conditional side(s).
 */
export function unionOf(a: Membership, b: Membership): Membership {
  if (a.permissionship === "allowed" || b.permissionship === "allowed") return ALLOWED;
  if (a.permissionship === "denied" && b.permissionship === "denied") return DENIED;
  return conditional(missingOf(a, b));
}

/** intersectionOf is `a & b`: denied if either is, allowed if both are, otherwise conditional. */
export function intersectionOf(a: Membership, b: Membership): Membership {
  if (a.permissionship === "denied" || b.permissionship === "denied") return DENIED;
  if (a.permissionship === "allowed" && b.permissionship === "allowed") return ALLOWED;
  return conditional(missingOf(a, b));
}

/**
 * exclusionOf is `base - subtract`: denied if base is denied or subtract is allowed, allowed if
 * base is allowed and subtract denied, otherwise conditional on both sides' parameters (SpiceDB
 * reports `viewer - banned` with a conditional `banned` as conditional, not as allowed).
 */
export function exclusionOf(base: Membership, subtract: Membership): Membership {
  if (base.permissionship === "denied" || subtract.permissionship === "allowed") return DENIED;
  if (base.permissionship === "allowed" && subtract.permissionship === "denied") return ALLOWED;
  return conditional(missingOf(base, subtract));
}

/** sortedMissingParameters lists a conditional membership's missing parameters in name order. */
export function sortedMissingParameters(membership: Membership): string[] | undefined {
  return membership.permissionship === "conditional" ? [...membership.missingParameters].sort() : undefined;
}

