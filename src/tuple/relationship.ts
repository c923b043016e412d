/**
 * Revision identifies a committed state of the store. Revisions strictly increase with every
 * committed write; 0 is the empty store before any write.
 */
export type Revision = number;

/** ObjectRef names one object, e.g. `{ type: "document", id: "readme" }` for `document:readme`. */
export interface ObjectRef {
  readonly type: string;
  readonly id: string;
}

/**
 * SubjectRef is the subject of a relationship: an object (`user:alice`, relation undefined), a
 * userset (`group:eng#member`), or the wildcard `user:*` (id `*`). SpiceDB's `...` relation is
 * normalised to undefined when parsed.
 */
export interface SubjectRef {
  readonly type: string;
  readonly id: string;
  readonly relation?: string | undefined;
}

/** CaveatRef attaches a named caveat and its partial context to a relationship. */
export interface CaveatRef {
  readonly name: string;
  readonly context: Readonly<Record<string, unknown>>;
}

/**
 * Relationship is Zanzibar's tuple `resource#relation@subject`, optionally caveated and expiring.
 * Example: `document:readme#viewer@group:eng#member`.
 */
export interface Relationship {
  readonly resource: ObjectRef;
  readonly relation: string;
  readonly subject: SubjectRef;
  readonly caveat?: CaveatRef | undefined;
  readonly expiresAt?: Date | undefined;
}

/** WILDCARD_ID is the subject id that stands for every object of its type (`user:*`). */
export const WILDCARD_ID = "*";
