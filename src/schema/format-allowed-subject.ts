import type { AllowedSubject, DelegationPrincipal } from "./model.ts";

/**
 * formatAllowedSubject renders an allowed subject type as it is written in a schema:
 * `user`, `group#member`, `user:*`, `user with only_weekdays`, `user with cav and expiration`.
 */
export function formatAllowedSubject(subject: AllowedSubject): string {
  const base = subject.wildcard ? `${subject.type}:*` : subject.relation === undefined ? subject.type : `${subject.type}#${subject.relation}`;
  if (subject.caveat !== undefined && subject.expiration) return `${base} with ${subject.caveat} and expiration`;
  if (subject.caveat !== undefined) return `${base} with ${subject.caveat}`;
  if (subject.expiration) return `${base} with expiration`;
  return base;
}

/** formatDelegationPrincipal renders a delegation's principal type as written: `user`, `user with on_ticket`. */
export function formatDelegationPrincipal(principal: DelegationPrincipal): string {
  return principal.caveat === undefined ? principal.type : `${principal.type} with ${principal.caveat}`;
}
