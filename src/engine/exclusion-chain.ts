import type { PermissionExpression } from "../schema/index.ts";

/**
 * exclusionChain unfolds a left-nested exclusion `a - b - c` (parsed as `(a - b) - c`) into its
 * base `a` and its subtracted sides in order `[b, c]`, with a loop rather than recursion, so that
 * a long chain cannot overflow the stack of check or expand.
 */
export function exclusionChain(expression: PermissionExpression & { kind: "exclusion" }): {
  base: PermissionExpression;
  subtracts: PermissionExpression[];
} {
  const subtracts: PermissionExpression[] = [];
  let base: PermissionExpression = expression;
  while (base.kind === "exclusion") {
    subtracts.push(base.subtract);
    base = base.base;
  }
  return { base, subtracts: subtracts.reverse() };
}
