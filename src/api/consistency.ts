import type { Revision } from "../tuple/index.ts";
import { FailedPreconditionError, InvalidArgumentError, assertNever } from "../tuple/index.ts";
import type { Store } from "../store/index.ts";
import type { GraphIndexFollower } from "../graph/index.ts";
import type { DecodedZedToken } from "./consistency-token.ts";

/**
 * INDEX_WAIT_MS is how long a read that needs a revision the graph index has not applied yet waits
 * for it before reading the store instead. The index follows the store's change stream and is
 * normally milliseconds behind; waiting briefly keeps the read on the fast path.
 */
const INDEX_WAIT_MS = 50;

/**
 * ConsistencyRequirement is a request's decoded `consistency` field. `field` on the token-bearing
 * kinds names the request field the token came from, for error messages.
 */
export type ConsistencyRequirement =
  | { readonly kind: "minimize_latency" }
  | { readonly kind: "fully_consistent" }
  | { readonly kind: "at_least_as_fresh"; readonly token: DecodedZedToken; readonly field: string }
  | { readonly kind: "at_exact_snapshot"; readonly token: DecodedZedToken; readonly field: string };

/**
 * resolveRevision picks the revision a read runs at, on the datastore tagged `datastoreTag`.
 * Without a graph index (`follower` undefined, or not following):
 * - minimize_latency and fully_consistent: the head, read now;
 * - at_least_as_fresh(t): the head, once t is known to be this datastore's and not ahead of it. A
 *   token older than the kept history is still honoured: the head is at least as fresh as it;
 * - at_exact_snapshot(t): exactly t, which must still be within the kept history.
 * With a following index, reads go where the index can answer them without asking the store:
 * - minimize_latency: the index's revision, once it has reached `ownWrites` (the newest revision
 *   written through this server, so that a client never reads from before its own write here;
 *   waiting up to INDEX_WAIT_MS, else the head). It is a committed revision, normally
 *   milliseconds old, at worst as old as the store's watch is slow to report (Postgres: a lost
 *   notification is caught up by the watch's poll, every 5 s), like SpiceDB's quantized revision;
 * - at_least_as_fresh(t): the index's revision once it has reached t (waiting up to INDEX_WAIT_MS),
 *   which is then known to be this datastore's and not ahead of the head; if it does not get there
 *   in time, the head as above;
 * - fully_consistent: the head read now, or the index's revision if it has reached the head
 *   (waiting up to INDEX_WAIT_MS): it is committed and no older than the head was;
 * - at_exact_snapshot(t): t, as above (the engine uses the index only when it is exactly at t).
 * Errors are those of verifyToken.
 */
export async function resolveRevision(
  store: Store,
  datastoreTag: string,
  requirement: ConsistencyRequirement,
  follower?: GraphIndexFollower | undefined,
  ownWrites: Revision = 0,
): Promise<Revision> {
  const index = follower?.following === true ? follower : undefined;
  switch (requirement.kind) {
    case "minimize_latency":
      if (index !== undefined && (await index.waitFor(ownWrites, INDEX_WAIT_MS))) return index.index.revision;
      return store.headRevision();
    case "fully_consistent": {
      const head = await store.headRevision();
      if (index !== undefined && (await index.waitFor(head, INDEX_WAIT_MS))) return index.index.revision;
      return head;
    }
    case "at_least_as_fresh":
      if (index !== undefined && requirement.token.datastoreTag === datastoreTag && (await index.waitFor(requirement.token.revision, INDEX_WAIT_MS))) {
        return index.index.revision;
      }
      return (await verifyToken(store, datastoreTag, requirement.token, requirement.field, { needsHistory: false })).head;
    case "at_exact_snapshot":
      await verifyToken(store, datastoreTag, requirement.token, requirement.field, { needsHistory: true });
      return requirement.token.revision;
    default:
      return assertNever(requirement, "consistency requirement");
  }
}

/**
 * verifyToken checks that `token` names a revision this datastore can serve and returns the head.
 * Throws InvalidArgumentError when the token is from another datastore, FailedPreconditionError
 * when it is ahead of the head (it cannot have been issued here), and, with `needsHistory`,
 * FailedPreconditionError when its revision is older than the history the store still keeps.
 */
export async function verifyToken(
  store: Store,
  datastoreTag: string,
  token: DecodedZedToken,
  field: string,
  options: { readonly needsHistory: boolean },
): Promise<{ head: Revision }> {
  if (token.datastoreTag !== datastoreTag) {
    throw new InvalidArgumentError(`${field}: token is from another datastore (it was issued by a server on a different database)`, { field });
  }
  const head = await store.headRevision();
  if (token.revision > head) {
    throw new FailedPreconditionError(`${field}: token is from the future (it names revision ${token.revision}, the newest is ${head})`, { field });
  }
  if (options.needsHistory) {
    const oldest = await store.oldestReadableRevision();
    if (token.revision < oldest) {
      throw new FailedPreconditionError(
        `${field}: token expired: revision ${token.revision} is older than the GC window (the oldest readable revision is ${oldest}); use a fresh token`,
        { field },
      );
    }
  }
  return { head };
}
