import { assertNever } from "../tuple/index.ts";
import type { DelegationAst, DelegationOptionAst, NameAst, SourcePosition } from "./ast.ts";
import { didYouMean } from "./did-you-mean.ts";
import { formatScopeEntry } from "./delegation-grant.ts";
import { formatDelegationPrincipal } from "./format-allowed-subject.ts";
import { MAX_LIFETIME_LIMIT_MS, formatLifetime, parseLifetime } from "./lifetime.ts";
import type { Delegation, DelegationPrincipal, ScopeEntry } from "./model.ts";

// A delegation's `max_lifetime` when it declares none: 24h, so that no edge lives forever.
const DEFAULT_MAX_LIFETIME_MS = 24 * 60 * 60 * 1000;

// The largest `max_chain` a schema may declare.
const MAX_CHAIN_LIMIT = 16;

/** MemberNames is what a delegation needs to know of a definition: the names it declares, by kind. */
export interface MemberNames {
  readonly relations: ReadonlyMap<string, unknown>;
  readonly permissions: ReadonlyMap<string, unknown>;
  readonly delegations: ReadonlyMap<string, unknown>;
}

/**
 * DelegationContext is the rest of the schema as a delegation sees it: the definitions by name,
 * the caveat names, and where to report a problem (the compiler collects them all).
 */
export interface DelegationContext {
  readonly definitions: ReadonlyMap<string, MemberNames>;
  readonly caveats: ReadonlySet<string>;
  readonly report: (position: SourcePosition, message: string) => void;
}

/**
 * compileDelegation checks a `delegation` of definition `actorType` and returns its model, with
 * the defaults of options not given (max_lifetime 24h, max_chain 1, no ceiling). Each problem is
 * reported (the result is then only good for further checking): an unknown principal type or
 * caveat, a principal listed twice, an option given twice, no `scope`, a scope entry naming an
 * unknown definition or a name that is not a relation or permission of it, `*` combined with
 * other entries, an entry listed twice, a `max_lifetime` that is not a positive duration up to
 * 3650d, a `max_chain` that is not an integer from 1 to MAX_CHAIN_LIMIT.
 */
export function compileDelegation(ast: DelegationAst, actorType: string, context: DelegationContext): Delegation {
  const where = `delegation "${actorType}#${ast.name.text}"`;
  const principals = compilePrincipals(ast, where, context);
  const seen = new Map<string, NameAst>();
  let scope: ScopeEntry[] | undefined;
  let maxLifetimeMs = DEFAULT_MAX_LIFETIME_MS;
  let maxChain = 1;
  let ceiling = false;
  for (const option of ast.options) {
    const first = seen.get(option.kind);
    if (first !== undefined) {
      context.report(option.keyword.position, `option \`${option.kind}\` is given twice in ${where} (first at ${first.position.line}:${first.position.column})`);
      continue;
    }
    seen.set(option.kind, option.keyword);
    switch (option.kind) {
      case "scope":
        scope = compileScope(option, where, context);
        break;
      case "max_lifetime":
        maxLifetimeMs = compileLifetime(option.value, where, context) ?? maxLifetimeMs;
        break;
      case "max_chain":
        maxChain = compileMaxChain(option.value, where, context) ?? maxChain;
        break;
      case "ceiling":
        ceiling = true;
        break;
      default:
        assertNever(option, "delegation option");
    }
  }
  if (scope === undefined) {
    context.report(ast.name.position, `${where} has no \`scope\`: add \`scope document#view\` (the most its edges may cover) or \`scope *\` to its block`);
  }
  return { name: ast.name.text, comment: ast.comment, actorType, principals, scope: scope ?? [], maxLifetimeMs, maxChain, ceiling };
}

function compilePrincipals(ast: DelegationAst, where: string, context: DelegationContext): DelegationPrincipal[] {
  const principals: DelegationPrincipal[] = [];
  const seen = new Set<string>();
  for (const principal of ast.principals) {
    const type = principal.type.text;
    if (!context.definitions.has(type)) {
      const isCaveat = context.caveats.has(type) ? ` ("${type}" is a caveat; write \`with ${type}\` after a type)` : "";
      context.report(principal.type.position, `definition "${type}" is not defined, in ${where}${isCaveat}${didYouMean(type, context.definitions.keys())}`);
    }
    const caveat = principal.caveat;
    if (caveat !== undefined && !context.caveats.has(caveat.text)) {
      const hint =
        caveat.text === "expiration"
          ? "; delegation edges always expire (at most max_lifetime after they are granted), so `with expiration` is not needed"
          : didYouMean(caveat.text, context.caveats);
      context.report(caveat.position, `caveat "${caveat.text}" is not defined, in ${where}${hint}`);
    }
    const compiled: DelegationPrincipal = { type, caveat: caveat?.text };
    const text = formatDelegationPrincipal(compiled);
    if (seen.has(text)) {
      context.report(principal.type.position, `principal type \`${text}\` is listed twice on ${where}`);
      continue;
    }
    seen.add(text);
    principals.push(compiled);
  }
  return principals;
}

function compileScope(option: Extract<DelegationOptionAst, { kind: "scope" }>, where: string, context: DelegationContext): ScopeEntry[] {
  const entries: ScopeEntry[] = [];
  const seen = new Set<string>();
  for (const entry of option.entries) {
    const type = entry.type.text;
    const permission = entry.permission.text;
    if (type === "*") {
      if (option.entries.length > 1) {
        context.report(entry.type.position, `\`*\` covers everything and cannot be combined with other scope entries, in ${where}`);
      }
    } else {
      const definition = context.definitions.get(type);
      if (definition === undefined) {
        context.report(entry.type.position, `definition "${type}" is not defined, in the scope of ${where}${didYouMean(type, context.definitions.keys())}`);
      } else if (permission !== "*" && !definition.relations.has(permission) && !definition.permissions.has(permission)) {
        const delegation = definition.delegations.has(permission) ? ` ("${type}#${permission}" is a delegation; a scope names what may be done on a resource)` : "";
        const candidates = [...definition.relations.keys(), ...definition.permissions.keys()];
        context.report(
          entry.permission.position,
          `relation or permission "${permission}" is not defined on definition "${type}", in the scope of ${where}${delegation}${didYouMean(permission, candidates)}`,
        );
      }
    }
    const text = formatScopeEntry({ type, permission });
    if (seen.has(text)) {
      context.report(entry.type.position, `scope entry \`${text}\` is listed twice on ${where}`);
      continue;
    }
    seen.add(text);
    entries.push({ type, permission });
  }
  return entries;
}

function compileLifetime(value: NameAst, where: string, context: DelegationContext): number | undefined {
  const milliseconds = parseLifetime(value.text);
  if (milliseconds === undefined) {
    context.report(
      value.position,
      `max_lifetime "${value.text}" of ${where} is not a valid duration: write whole days, hours, minutes and seconds, largest unit first (\`30d\`, \`12h\`, \`1h30m\`), more than 0s and at most ${formatLifetime(MAX_LIFETIME_LIMIT_MS)}`,
    );
  }
  return milliseconds;
}

function compileMaxChain(value: NameAst, where: string, context: DelegationContext): number | undefined {
  const chain = /^[0-9]{1,3}$/.test(value.text) ? Number(value.text) : Number.NaN;
  if (chain >= 1 && chain <= MAX_CHAIN_LIMIT) return chain;
  context.report(value.position, `max_chain "${value.text}" of ${where} is not an integer from 1 to ${MAX_CHAIN_LIMIT} (the most hops a path of edges may have; 1: no sub-delegation)`);
  return undefined;
}
