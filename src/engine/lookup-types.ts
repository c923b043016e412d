import type { ObjectRef, SubjectRef } from "../tuple/index.ts";

/**
 * LookupResourcesRequest asks for every resource of `resourceType` on which `subject` has
 * `permission` (a relation or permission name): exactly the resources whose Check would not be
 * DENIED. `context` is the caller's caveat context, as in CheckRequest.
 */
export interface LookupResourcesRequest {
  readonly resourceType: string;
  readonly permission: string;
  readonly subject: SubjectRef;
  readonly context?: Readonly<Record<string, unknown>> | undefined;
  /** onBehalfOf: `subject` acts for this principal (see CheckRequest.onBehalfOf). */
  readonly onBehalfOf?: ObjectRef | undefined;
}

/**
 * LookupSubjectsRequest asks for every subject of `subjectType` (usersets `subjectType:x#subjectRelation`
 * when `subjectRelation` is set) that has `permission` on `resource`.
 */
export interface LookupSubjectsRequest {
  readonly resource: ObjectRef;
  readonly permission: string;
  readonly subjectType: string;
  readonly subjectRelation?: string | undefined;
  readonly context?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * LookupResult is one object found: its id and what Check would answer for it (never "denied").
 * `missingParameters` is set (non-empty) exactly when `permissionship` is "conditional".
 */
export interface LookupResult {
  readonly id: string;
  readonly permissionship: "allowed" | "conditional";
  readonly missingParameters?: readonly string[] | undefined;
}

/**
 * LookupSubjectsResult is one subject found. The id `*` stands for every subject of the type: its
 * permissionship is what Check answers for a subject that no relationship names, and
 * `excludedIds` (set only on it, possibly empty) are the subjects it leaves out (Check DENIED).
 * A concrete subject is listed only where its answer (permissionship and missing parameters)
 * differs from the wildcard's, or where there is no wildcard result: with `*` ALLOWED, subjects
 * that are allowed anyway are not repeated.
 */
export interface LookupSubjectsResult extends LookupResult {
  readonly excludedIds?: readonly string[] | undefined;
}

/**
 * LookupOptions page through a lookup. Results come in lookup order (see compareLookupOrder: a
 * stable order of ids that needs no full sort, so that the first result is sent before the last
 * is ordered), the wildcard `*` of LookupSubjects first. `after` resumes strictly after that id in
 * lookup order; `limit` (a positive integer) caps the results; `signal` aborts the lookup
 * (RequestAbortedError), also while the results are read.
 */
export interface LookupOptions {
  readonly after?: string | undefined;
  readonly limit?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}
