/**
 * DELEGATION_SCHEMA is the schema of the delegation suites (delegation-spec §1 with documents and
 * repositories): agents act for users (optionally under a ticket caveat) and for other agents,
 * within document#view | document#edit | repository#*, for at most 30 days, in chains of at most
 * two hops, capped by their own grants (`ceiling`).
 */
export const DELEGATION_SCHEMA = `use expiration

caveat on_ticket(ticket string, current_ticket string) {
	ticket == current_ticket
}

definition user {}

definition repository {
	relation reader: user | agent
	relation writer: user | agent
	permission read = reader + writer
	permission write = writer
}

definition document {
	relation repo: repository
	relation viewer: user | agent
	relation editor: user | agent
	relation owner: user
	permission edit = editor + owner + repo->write
	permission view = viewer + edit + repo->read
	permission delete = owner
}

definition agent {
	relation operator: user
	relation installed_in: repository

	/** acts_for: agents act for humans and for other agents. */
	delegation acts_for: user | user with on_ticket | agent {
		scope document#view | document#edit | repository#*
		max_lifetime 30d
		max_chain 2
		ceiling
	}
}
`;
