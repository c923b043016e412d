import { formatSubjectRef } from "../tuple/index.ts";
import type { SubjectRef } from "../tuple/index.ts";
import type { GraphIndexView, IdSet } from "../graph/index.ts";

/**
 * MembershipsMemo remembers GraphIndexView.memberships per subject for as long as the index stays
 * at one revision (the closure of a subject changes with any write to a closed relation, and the
 * index allows keeping its answer no longer), so that the checks of one subject at one revision
 * compute it once, across requests. It holds at most `maxSubjects` subjects: past that it starts
 * over, which is cheap to get wrong and costs only recomputation.
 */
export class MembershipsMemo {
  readonly #maxSubjects: number;
  readonly #bySubject = new Map<string, ReadonlyMap<string, IdSet>>();
  #index: GraphIndexView | undefined;
  #revision = -1;

  constructor(maxSubjects: number) {
    this.#maxSubjects = maxSubjects;
  }

  /** of returns `index.memberships(subject)` at the index's current revision. */
  of(index: GraphIndexView, subject: SubjectRef): ReadonlyMap<string, IdSet> {
    if (index !== this.#index || index.revision !== this.#revision) {
      this.#bySubject.clear();
      this.#index = index;
      this.#revision = index.revision;
    }
    const key = formatSubjectRef(subject);
    let memberships = this.#bySubject.get(key);
    if (memberships === undefined) {
      memberships = index.memberships(subject);
      if (this.#bySubject.size >= this.#maxSubjects) this.#bySubject.clear();
      this.#bySubject.set(key, memberships);
    }
    return memberships;
  }
}
