import type { Relationship } from "../../tuple/index.ts";
import type { SqlRow } from "./sql-client.ts";

// The SQL vocabulary of the `relationships` table (see migrations.ts) that PostgresStore and its
// ChangeStream share: the columns, the row they read, and helpers that build statements.

/** KEY_COLUMNS are the columns that name a relationship, in the order reads sort by (QueryOptions). */
export const KEY_COLUMNS = "resource_type, resource_id, relation, subject_type, subject_id, subject_relation";

/** SELECT_COLUMNS are the columns a Relationship is read from (see toRelationship). */
export const SELECT_COLUMNS = `${KEY_COLUMNS}, caveat_name, caveat_context, expires_at`;

/** RelationshipRow is one row of `relationships` read with SELECT_COLUMNS; a subject without relation has `subject_relation` ''. */
export interface RelationshipRow extends SqlRow {
  resource_type: string;
  resource_id: string;
  relation: string;
  subject_type: string;
  subject_id: string;
  subject_relation: string;
  caveat_name: string | null;
  caveat_context: Record<string, unknown> | null;
  expires_at: Date | string | null;
}

/** Params collects statement parameters; `add` returns the placeholder (`$n`) of the value. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** keyJoin is the condition that the rows aliased `left` and `right` name the same relationship. */
export function keyJoin(left: string, right: string): string {
  return KEY_COLUMNS.split(", ")
    .map((name) => `${left}.${name} = ${right}.${name}`)
    .join(" AND ");
}

/** prefixed qualifies every column of `columns` (a ", "-separated list) with `alias`. */
export function prefixed(alias: string, columns: string): string {
  return columns
    .split(", ")
    .map((name) => `${alias}.${name}`)
    .join(", ");
}

/** toRelationship is the Relationship a RelationshipRow stores. */
export function toRelationship(row: RelationshipRow): Relationship {
  return {
    resource: { type: row.resource_type, id: row.resource_id },
    relation: row.relation,
    subject: row.subject_relation === "" ? { type: row.subject_type, id: row.subject_id } : { type: row.subject_type, id: row.subject_id, relation: row.subject_relation },
    ...(row.caveat_name === null ? {} : { caveat: { name: row.caveat_name, context: row.caveat_context ?? {} } }),
    ...(row.expires_at === null ? {} : { expiresAt: new Date(row.expires_at) }),
  };
}
