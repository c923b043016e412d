import type { MandateClient, WireCursor, WireLookupResourcesRequest, WireLookupSubjectsRequest, WireZedToken } from "../../src/api/index.ts";
import { update } from "./harness.ts";

// The schema, data and request builders the lookup suites share.

/** LOOKUP_SCHEMA has nested groups, folders (arrows), exclusion, intersection, a wildcard and a caveat. */
export const LOOKUP_SCHEMA = `caveat on_network(network string, ip string) {
  ip == network
}

definition user {}

definition group {
  relation member: user | group#member
}

definition folder {
  relation parent: folder
  relation viewer: user | group#member
  permission view = viewer + parent->view
}

definition document {
  relation parent: folder
  relation owner: user
  relation viewer: user | user:* | group#member | user with on_network
  relation banned: user
  relation reviewer: user
  permission view = (viewer + owner + parent->view) - banned
  permission review = view & reviewer
}
`;

// Documents p00..p29 sit in folder:root, which staff (bob, and eng: ann, eve) may view: enough
// results to page through.
export const PAGED = Array.from({ length: 30 }, (_, i) => `p${String(i).padStart(2, "0")}`);

/** LOOKUP_RELATIONSHIPS is the data the lookup suites share. */
export const LOOKUP_RELATIONSHIPS = [
  "group:eng#member@user:ann",
  "group:eng#member@user:eve",
  "group:staff#member@group:eng#member",
  "group:staff#member@user:bob",
  "folder:root#viewer@group:staff#member",
  "folder:sub#parent@folder:root",
  "document:d1#parent@folder:sub",
  "document:d2#viewer@user:ann",
  "document:d3#owner@user:carl",
  "document:d4#viewer@group:eng#member",
  "document:d4#banned@user:ann",
  'document:d5#viewer@user:ann[on_network:{"network":"10.0.0.0"}]',
  "document:d6#viewer@user:*",
  "document:d6#banned@user:bob",
  "document:d7#viewer@user:ann",
  "document:d7#reviewer@user:ann",
  "document:d2#reviewer@user:bob",
  ...PAGED.map((id) => `document:${id}#parent@folder:root`),
];

/** writeLookupData writes LOOKUP_SCHEMA and LOOKUP_RELATIONSHIPS and returns the write's token. */
export async function writeLookupData(client: MandateClient): Promise<string> {
  await client.writeSchema({ schema: LOOKUP_SCHEMA });
  const written = await client.writeRelationships({ updates: LOOKUP_RELATIONSHIPS.map((text) => update("touch", text)) });
  return written.writtenAt?.token ?? "";
}

/** collect drains a stream into an array. */
export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

/** Flat is one result of a lookup stream, with its message's token and, on the last result of each message, the message's cursor. */
export type Flat<Result> = Result & { lookedUpAt?: WireZedToken | null; afterResultCursor?: WireCursor | null };

/**
 * collectResults drains a lookup stream into its results, in order (a message carries several):
 * each with its message's `lookedUpAt`, and the last of each message with the message's cursor.
 */
export async function collectResults<Message extends { results?: unknown[] | null; lookedUpAt?: WireZedToken | null; afterResultCursor?: WireCursor | null }>(
  stream: AsyncIterable<Message>,
): Promise<Array<Flat<NonNullable<Message["results"]>[number]>>> {
  type Result = NonNullable<Message["results"]>[number];
  const flat: Array<Flat<Result>> = [];
  for await (const message of stream) {
    const results = (message.results ?? []) as Result[];
    results.forEach((result, i) =>
      flat.push({ ...(result as object), lookedUpAt: message.lookedUpAt, ...(i === results.length - 1 ? { afterResultCursor: message.afterResultCursor } : {}) }),
    );
  }
  return flat;
}

/** resourcesRequest builds a LookupResources request for `subject` (`type:id` or `type:id#relation`). */
export function resourcesRequest(resourceType: string, permission: string, subject: string, more: Partial<WireLookupResourcesRequest> = {}): WireLookupResourcesRequest {
  const [object = "", relation = ""] = subject.split("#");
  const [objectType, objectId] = object.split(":");
  return { resourceObjectType: resourceType, permission, subject: { object: { objectType, objectId }, optionalRelation: relation }, ...more };
}

/** subjectsRequest builds a LookupSubjects request on `resource` (`type:id`). */
export function subjectsRequest(resource: string, permission: string, subjectType: string, more: Partial<WireLookupSubjectsRequest> = {}): WireLookupSubjectsRequest {
  const [objectType, objectId] = resource.split(":");
  return { resource: { objectType, objectId }, permission, subjectObjectType: subjectType, ...more };
}
