// Schemas shared by compiler.test.ts and spicedb-agreement.test.ts: what Mandate accepts and
// rejects, and whether SpiceDB agrees (it does except where `spicedb` says otherwise).

/** DRIVE_SCHEMA is a Google-Drive-like schema using every construct of the language. */
export const DRIVE_SCHEMA = `use expiration

/** only_on_weekdays limits access to working days. */
caveat only_on_weekdays(day_of_week string) {
  day_of_week != "saturday" && day_of_week != "sunday"
}

// A caveat body may span lines and hold braces inside strings and maps.
caveat ip_allowlist(user_ip ipaddress, allowed_ranges list<string>, labels map<int>) {
  allowed_ranges.exists(r, user_ip.in_cidr(r)) && labels != {"}": 1}
}

/** user is a human. */
definition user {}

definition service_account {}

/**
 * group is a set of users and nested groups.
 */
definition group {
  relation member: user | service_account | group#member
  relation manager: user
  permission membership = member + manager
}

definition organization {
  relation admin: user
  relation member: user | group#member
  permission administer = admin
  permission browse = member + admin
}

definition folder {
  relation org: organization
  relation parent: folder
  relation owner: user
  relation editor: user | group#member
  /** viewer is who may see the folder. */
  relation viewer: user | user:* | group#member | user with only_on_weekdays | user with expiration | user with ip_allowlist and expiration
  permission edit = owner + editor + parent->edit + org->administer
  permission view = viewer + edit + parent->view + org.any(browse)
}

definition document {
  relation folder: folder
  relation owner: user
  relation editor: user | group#member
  relation viewer: user | user:* | group#member with expiration
  relation banned: user
  permission edit = owner + editor + folder->edit
  /** view is everyone who may read, minus the banned. */
  permission view = (viewer + edit + folder->view) - banned
  permission comment = view & editor
  permission delete = owner & folder.all(edit)
}
`;

/** NESTED_TEAMS_SCHEMA models teams inside teams and projects owned by teams. */
export const NESTED_TEAMS_SCHEMA = `definition user {}

definition team {
  relation member: user | team#member
  relation parent: team
  permission all_members = member + parent->all_members
}

definition project {
  relation owner_team: team
  relation contributor: user | team#member | team#all_members
  permission contribute = contributor + owner_team->all_members
  permission nobody = nil
}
`;

/** ValidCase is a schema that compiles. */
export interface ValidCase {
  readonly name: string;
  readonly source: string;
  /** "rejects" when SpiceDB rejects it and Mandate, deliberately, does not. */
  readonly spicedb?: "rejects";
}

/** VALID_SCHEMAS covers every construct, one or a few per schema. */
export const VALID_SCHEMAS: readonly ValidCase[] = [
  { name: "an empty schema", source: "" },
  { name: "a schema of comments only", source: "// nothing\n/* here */\n/** yet */\n" },
  { name: "the Google-Drive-like schema", source: DRIVE_SCHEMA },
  { name: "the nested-teams schema", source: NESTED_TEAMS_SCHEMA },
  { name: "empty definitions on one line", source: "definition user {} definition robot {}" },
  { name: "prefixed type names", source: "definition acme/user {}\ndefinition acme/eng/doc {\n  relation viewer: acme/user\n}" },
  { name: "semicolons as statement ends", source: "definition user {}\ndefinition doc {\n  relation viewer: user; relation editor: user\n  permission view = viewer;\n}" },
  { name: "an expression continued after an operator", source: "definition user {}\ndefinition doc {\n  relation viewer: user\n  relation editor: user\n  permission view = viewer +\n    editor\n}" },
  { name: "a type list continued after a pipe", source: "definition user {}\ndefinition doc {\n  relation viewer: user |\n    doc\n}" },
  { name: "a block comment spanning lines inside an expression", source: "definition user {}\ndefinition doc {\n  relation viewer: user\n  permission view = viewer /* a\n  b */ + viewer\n}" },
  { name: "contextual keywords used as names", source: "definition use {}\ndefinition any {\n  relation all: use\n  relation expiration: use\n  relation and: use\n  relation self: use\n}" },
  { name: "arrows to any and all with spaces", source: "definition user {\n  relation any: user\n}\ndefinition doc {\n  relation parent: user\n  permission one = parent -> any\n  permission two = parent . any ( any )\n  permission three = parent.all(any)\n}" },
  { name: "an arrow whose target exists on only one subject type", source: "definition user {}\ndefinition org {\n  relation admin: user\n}\ndefinition doc {\n  relation parent: user | org\n  permission admin = parent->admin\n}" },
  { name: "an arrow over a subject relation", source: "definition user {}\ndefinition group {\n  relation member: user\n}\ndefinition doc {\n  relation parent: group#member\n  permission view = parent->member\n}" },
  { name: "nil alone and in expressions", source: "definition user {}\ndefinition doc {\n  relation viewer: user\n  permission none = nil\n  permission view = viewer + nil - nil\n}" },
  { name: "permissions referring to later relations and permissions", source: "definition doc {\n  permission view = edit\n  relation owner: user\n  permission edit = owner\n}\ndefinition user {}" },
  { name: "a cycle through a relation", source: "definition user {}\ndefinition doc {\n  relation viewer: user | doc#view\n  permission view = viewer\n}" },
  { name: "a cycle through an arrow", source: "definition user {}\ndefinition doc {\n  relation parent: doc\n  permission view = parent->view\n}" },
  { name: "a cycle of permissions with a base case", source: "definition user {}\ndefinition doc {\n  relation viewer: user\n  permission aaa = bbb + viewer\n  permission bbb = aaa\n  permission ccc = viewer - ccc\n}" },
  { name: "a wildcard reached through a permission", source: "definition user {}\ndefinition group {\n  relation everyone: user:*\n  permission member = everyone\n}\ndefinition doc {\n  relation viewer: group#member\n}" },
  { name: "a wildcard reached through a subject relation of the same definition", source: "definition user {}\ndefinition group {\n  relation everyone: user:*\n  relation member: group#everyone\n}" },
  { name: "the same type with different caveats and expiration", source: "use expiration\ncaveat cav(num int) { num == 1 }\ndefinition user {}\ndefinition doc {\n  relation viewer: user | user with cav | user with expiration | user with cav and expiration | user:* with cav\n}" },
  { name: "a caveat named expiration without use expiration", source: "caveat expiration(num int) { num > 1 }\ndefinition user {}\ndefinition doc {\n  relation viewer: user with expiration\n}" },
  { name: "every caveat parameter type", source: "caveat every_type(a int, b uint, c double, d bool, e string, f bytes, g duration, h timestamp, i ipaddress, j any, k list<int>, l map<list<string>>) {\n  a == 1 && b == 1 && c == 1.0 && d && e == \"\" && f == b\"\" && g == duration(\"1s\") && h == timestamp(\"2024-01-01T00:00:00Z\") && i.in_cidr(\"10.0.0.0/8\") && j == 1 && k == [1] && l == {}\n}\ndefinition user {}" },
  { name: "prefixed caveat names with short parameter names", source: "caveat acme/cav(x int, Y int) { x == Y }\ndefinition user {}\ndefinition doc {\n  relation viewer: user with acme/cav\n}" },
  { name: "caveat names that would be invalid definition names", source: "caveat cv(num int) { num == 1 }\ncaveat Upper_(num int) { num == 2 }\ndefinition user {}\ndefinition doc {\n  relation viewer: user with cv | user with Upper_\n}" },
  { name: "use typechecking", source: "use typechecking\ndefinition user {}" },
  {
    name: "caveat expressions with macros, conversions, time functions and null",
    source: [
      "caveat rich(num int, ratio double, name string, at timestamp, ttl duration, tags list<string>, attrs map<int>, ip ipaddress, extra any, small uint) {",
      '  tags.exists(t, t.startsWith("a")) && attrs.all(k, attrs[k] > 0) && size(name) > 2 && double(num) < ratio',
      '  && at + ttl > timestamp("2024-01-01T00:00:00Z") && at.getDayOfWeek("UTC") != 0 && ip.in_cidr("10.0.0.0/8")',
      '  && extra.anything == 1 && small == 1 && has(attrs.key) && (num > 1 ? name : "x") in tags && at != null',
      "}",
      "definition user {}",
    ].join("\n"),
  },
  { name: "names of 64 characters", source: `definition a${"b".repeat(62)}c {}` },
  {
    name: "a relation ended by the closing brace on its line",
    source: "definition user {}\ndefinition doc { relation viewer: user }",
    // The brief for Mandate allows `}` to end a statement; SpiceDB wants a line break or `;`.
    spicedb: "rejects",
  },
];

/** InvalidCase is a schema that must not compile, with the position and text of its first diagnostic. */
export interface InvalidCase {
  readonly name: string;
  readonly source: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
  /** "accepts" when SpiceDB accepts it and Mandate, deliberately, does not. */
  readonly spicedb?: "accepts";
}

/** INVALID_SCHEMAS has one case per error Mandate reports. */
export const INVALID_SCHEMAS: readonly InvalidCase[] = [
  // Syntax.
  { name: "two relations on one line", source: "definition user {}\ndefinition doc {\n  relation viewer: user relation editor: user\n}", line: 3, column: 25, message: 'expected the end of the relation (a line break or `;`), found "relation"' },
  { name: "a relation and a permission on one line behind a block comment", source: "definition user {}\ndefinition doc {\n  relation viewer: user /* c */ permission view = viewer\n}", line: 3, column: 33, message: "each statement goes on its own line" },
  { name: "an operator starting a new line", source: "definition user {}\ndefinition doc {\n  relation viewer: user\n  permission view = viewer\n    + viewer\n}", line: 5, column: 5, message: "expected `relation`, `permission`, `delegation` or `}` in definition \"doc\", found `+`" },
  { name: "a nested arrow", source: "definition user {\n  relation next: user\n}\ndefinition doc {\n  relation parent: user\n  permission view = parent->next->next\n}", line: 6, column: 33, message: "nested arrows are not supported" },
  { name: "an arrow from a parenthesised expression", source: "definition user {}\ndefinition doc {\n  relation parent: user\n  permission view = (parent)->next\n}", line: 4, column: 29, message: "the left side of an arrow must be a relation name" },
  { name: "an unknown arrow function", source: "definition user {}\ndefinition doc {\n  relation parent: user\n  permission view = parent.some(next)\n}", line: 4, column: 28, message: 'unknown arrow function "some"' },
  { name: "a reserved word as a name", source: "definition user {}\ndefinition doc {\n  relation nil: user\n}", line: 3, column: 12, message: "found the keyword `nil`, which cannot be used as a name" },
  { name: "a relation without types", source: "definition user {}\ndefinition doc {\n  relation viewer\n}", line: 3, column: 18, message: "expected `:` after `relation viewer`" },
  { name: "a permission without an expression", source: "definition doc {\n  permission view =\n}", line: 3, column: 1, message: "expected a relation or permission name, `nil` or `(`, found `}`" },
  { name: "a subject relation of ellipsis", source: "definition user {}\ndefinition doc {\n  relation viewer: user#...\n}", line: 3, column: 25, message: "expected a relation name after `user#`" },
  { name: "a colon not followed by the wildcard", source: "definition user {}\ndefinition doc {\n  relation viewer: user:alice\n}", line: 3, column: 25, message: "only the wildcard `user:*` may follow a colon" },
  { name: "expiration before the caveat", source: "use expiration\ncaveat cav(num int) { num == 1 }\ndefinition user {}\ndefinition doc {\n  relation viewer: user with expiration and cav\n}", line: 5, column: 41, message: "the caveat must come before expiration" },
  { name: "caveat and expiration without use expiration", source: "caveat cav(num int) { num == 1 }\ndefinition user {}\ndefinition doc {\n  relation viewer: user with cav and expiration\n}", line: 4, column: 34, message: "`with ... and expiration` requires `use expiration`" },
  { name: "use after a definition", source: "definition user {}\nuse expiration\n", line: 2, column: 1, message: "`use` must come before every definition and caveat" },
  { name: "an unclosed caveat body", source: "caveat cav(num int) {\n  num == 1\n", line: 1, column: 21, message: "caveat expression is not closed" },
  { name: "an unclosed block comment", source: "definition user {}\n/* oops", line: 2, column: 1, message: "comment is not closed" },
  { name: "a caveat without parameters", source: "caveat cav() { true }", line: 1, column: 12, message: "expected a parameter name, found `)`" },
  { name: "a stray character", source: "definition user {}\n$", line: 2, column: 1, message: 'unexpected character "$"' },
  // Names.
  { name: "a definition name of two characters", source: "definition us {}", line: 1, column: 12, message: 'definition name "us" is invalid: "us" is shorter than 3 characters' },
  { name: "a relation name of one character", source: "definition user {}\ndefinition doc {\n  relation v: user\n}", line: 3, column: 12, message: 'relation name "v" is invalid' },
  { name: "an upper-case definition name", source: "definition User {}", line: 1, column: 12, message: "contains upper-case letters" },
  { name: "a name ending with an underscore", source: "definition user_ {}", line: 1, column: 12, message: "ends with _" },
  { name: "a short prefix", source: "definition ab/user {}", line: 1, column: 12, message: '"ab" is shorter than 3 characters' },
  { name: "a prefixed relation name", source: "definition user {}\ndefinition doc {\n  relation acme/viewer: user\n}", line: 3, column: 12, message: "only definitions (and caveats) may have a `prefix/`" },
  // Use flags.
  { name: "an unknown use flag", source: "use expirations\ndefinition user {}", line: 1, column: 5, message: 'unknown flag `use expirations`; the known flags are: expiration, typechecking (did you mean "expiration"?)' },
  { name: "an unsupported use flag", source: "use self\ndefinition user {}", line: 1, column: 5, message: "`use self` is a SpiceDB feature that Mandate does not support", spicedb: "accepts" },
  // Duplicates.
  { name: "a duplicate definition", source: "definition user {}\ndefinition user {}", line: 2, column: 12, message: 'definition "user" is already declared as a definition at 1:12' },
  { name: "a caveat and a definition of the same name", source: "caveat user(num int) { num == 1 }\ndefinition user {}", line: 2, column: 12, message: "definitions and caveats share one namespace" },
  { name: "a duplicate relation", source: "definition user {}\ndefinition doc {\n  relation viewer: user\n  relation viewer: user\n}", line: 4, column: 12, message: 'relation "viewer" is already declared as a relation on definition "doc" at 3:12' },
  { name: "a permission named like a relation", source: "definition user {}\ndefinition doc {\n  relation viewer: user\n  permission viewer = viewer\n}", line: 4, column: 14, message: "relations and permissions share one namespace" },
  { name: "a duplicate caveat", source: "caveat cav(num int) { num == 1 }\ncaveat cav(num int) { num == 2 }", line: 2, column: 8, message: 'caveat "cav" is already declared as a caveat at 1:8' },
  { name: "a duplicate caveat parameter", source: "caveat cav(num int, num int) { num == 1 }", line: 1, column: 21, message: 'parameter "num" is declared twice on caveat "cav"' },
  { name: "a duplicate allowed subject type", source: "definition user {}\ndefinition doc {\n  relation viewer: user | user:* | user:*\n}", line: 3, column: 36, message: 'subject type `user:*` is listed twice on relation "doc#viewer"' },
  // References.
  { name: "an unknown definition in a type reference", source: "definition user {}\ndefinition doc {\n  relation viewer: usr\n}", line: 3, column: 20, message: 'definition "usr" is not defined, in relation "doc#viewer" (did you mean "user"?)' },
  { name: "a caveat used as a type", source: "caveat cav(num int) { num == 1 }\ndefinition doc {\n  relation viewer: cav\n}", line: 3, column: 20, message: '"cav" is a caveat; write `with cav` after a type' },
  { name: "an unknown relation in type#relation", source: "definition user {}\ndefinition group {\n  relation member: user\n}\ndefinition doc {\n  relation viewer: group#membr\n}", line: 6, column: 26, message: 'relation or permission "membr" is not defined on definition "group", in relation "doc#viewer" (did you mean "member"?)' },
  { name: "an unknown caveat", source: "caveat weekdays(day string) { day != \"sun\" }\ndefinition user {}\ndefinition doc {\n  relation viewer: user with weekday\n}", line: 4, column: 30, message: 'caveat "weekday" is not defined, in relation "doc#viewer" (did you mean "weekdays"?)' },
  { name: "with expiration without use expiration", source: "definition user {}\ndefinition doc {\n  relation viewer: user with expiration\n}", line: 3, column: 30, message: "`with expiration` requires `use expiration` at the top of the schema" },
  { name: "an unknown name in a permission", source: "definition user {}\ndefinition folder {\n  relation owners: user\n  permission edit = owner\n}", line: 4, column: 21, message: 'relation or permission "owner" is not defined on definition "folder", in permission "edit" (did you mean "owners"?)' },
  { name: "an unknown arrow tupleset", source: "definition user {}\ndefinition doc {\n  relation viewer: user\n  permission view = parent->view\n}", line: 4, column: 21, message: 'relation or permission "parent" is not defined on definition "doc"' },
  { name: "a permission on the left of an arrow", source: "definition user {}\ndefinition doc {\n  relation parent: doc\n  permission ancestor = parent\n  permission view = ancestor->view\n}", line: 5, column: 21, message: 'the left side of an arrow must be a relation, but "ancestor" is a permission on definition "doc"' },
  { name: "an arrow target missing on every subject type", source: "definition user {}\ndefinition folder {\n  relation viewer: user\n}\ndefinition doc {\n  relation parent: folder | user\n  permission view = parent->viewr\n}", line: 7, column: 29, message: 'relation or permission "viewr" is not defined on any subject type of relation "doc#parent" (folder, user), in permission "view" (did you mean "viewer"?)', spicedb: "accepts" },
  // Wildcards.
  { name: "a subject relation that reaches a wildcard through another relation", source: "definition user {}\ndefinition group {\n  relation everyone: user:*\n  relation member: group#everyone\n}\ndefinition doc {\n  relation viewer: group#member\n}", line: 7, column: 20, message: 'relation "group#member" includes the wildcard `user:*` through relation "group#everyone"' },
  { name: "a subject relation that allows a wildcard", source: "definition user {}\ndefinition group {\n  relation member: user | user:*\n}\ndefinition doc {\n  relation viewer: group#member\n}", line: 6, column: 20, message: "relation \"group#member\" includes the wildcard `user:*`, and wildcards cannot be included through a subject relation" },
  { name: "a wildcard relation on the left of an arrow", source: "definition user {\n  relation friend: user\n}\ndefinition doc {\n  relation viewer: user:*\n  permission view = viewer->friend\n}", line: 6, column: 21, message: "relation \"doc#viewer\" includes the wildcard `user:*`, so it cannot be the left side of an arrow" },
  { name: "a relation reaching a wildcard on the left of an arrow", source: "definition user {\n  relation friend: user\n}\ndefinition doc {\n  relation everyone: user:*\n  relation parent: doc#everyone\n  permission view = parent->friend\n}", line: 7, column: 21, message: 'relation "doc#parent" includes the wildcard `user:*` through relation "doc#everyone", so it cannot be the left side of an arrow' },
  // Cycles.
  { name: "a permission defined as itself", source: "definition user {}\ndefinition doc {\n  permission view = view\n}", line: 3, column: 14, message: 'permission "view" on definition "doc" is defined only in terms of itself (view -> view)' },
  { name: "two permissions defined through each other", source: "definition user {}\ndefinition doc {\n  relation viewer: user\n  permission aaa = bbb & ccc\n  permission bbb = aaa\n  permission ccc = bbb - aaa\n}", line: 4, column: 14, message: "(aaa -> bbb -> aaa) with no relation, arrow or nil to end the recursion", spicedb: "accepts" },
  { name: "a permission that is the union of itself", source: "definition user {}\ndefinition doc {\n  permission view = view + view\n}", line: 3, column: 14, message: "is defined only in terms of itself (view -> view)", spicedb: "accepts" },
  // Caveats.
  { name: "an unknown caveat parameter type", source: "caveat cav(num integer) { num == 1 }", line: 1, column: 16, message: 'unknown type "integer" for parameter "num" of caveat "cav"' },
  { name: "a map with two type arguments", source: "caveat cav(ages map<string, int>) { ages != {} }", line: 1, column: 17, message: 'type "map" of parameter "ages" of caveat "cav" needs exactly one type argument' },
  { name: "a scalar with a type argument", source: "caveat cav(num int<int>) { num == 1 }", line: 1, column: 16, message: 'type "int" of parameter "num" of caveat "cav" takes no type arguments', spicedb: "accepts" },
  { name: "an unused caveat parameter", source: "caveat cav(num int, other int) { num == 1 && \"other\" != \"\" }", line: 1, column: 21, message: 'parameter "other" of caveat "cav" is never used in its expression' },
  { name: "an empty caveat expression", source: "caveat cav(num int) { }", line: 1, column: 22, message: 'caveat "cav" has an empty expression' },
  // Caveat expressions (CEL), parsed and type-checked.
  { name: "a CEL syntax error", source: "caveat cav(num int) { num >>> 1 }", line: 1, column: 27, message: 'invalid expression of caveat "cav": syntax error: found > but expecting end of input' },
  { name: "an int added to a string", source: 'caveat cav(num int) { num + "x" == "y" }', line: 1, column: 27, message: "operator `+` cannot be applied to (int, string)" },
  { name: "an expression that is not a bool", source: "caveat cav(num int) { num + 1 }", line: 1, column: 23, message: "the expression must be a bool, but it is int" },
  { name: "a name that is not a parameter", source: "caveat cav(num int) {\n  num > 1 && numb > 1\n}", line: 2, column: 14, message: '"numb" is not a parameter of the caveat (its parameters: "num")' },
  { name: "a uint parameter compared with a uint literal (SpiceDB types uint parameters as int)", source: "caveat cav(num uint) { num == 1u }", line: 1, column: 28, message: "operator `==` cannot be applied to (int, uint)" },
  { name: "an ipaddress compared with a string", source: 'caveat cav(ip ipaddress) { ip == "10.0.0.1" }', line: 1, column: 31, message: "operator `==` cannot be applied to (ipaddress, string)" },
  { name: "a macro comparing list elements with another type", source: "caveat cav(names list<string>) { names.all(n, n == 1) }", line: 1, column: 49, message: "operator `==` cannot be applied to (string, int)" },
  { name: "an unknown method", source: "caveat cav(num int) { num.foo() }", line: 1, column: 26, message: "unknown method `foo`" },
  // Size limits.
  {
    name: "3,000 nested parentheses in a permission",
    source: `definition user {}\ndefinition doc {\n  relation viewer: user\n  permission view = ${"(".repeat(3000)}viewer${")".repeat(3000)}\n}`,
    line: 4,
    column: 121,
    message: "expression nests deeper than 100 levels of parentheses",
    // SpiceDB accepts any depth; Mandate bounds it so that no recursive walk can exhaust the stack.
    spicedb: "accepts",
  },
  {
    name: "3,000 nested parentheses in a caveat expression",
    source: `caveat cav(num int) { ${"(".repeat(3000)}num > 1${")".repeat(3000)} }`,
    line: 1,
    column: 123,
    message: "expression nests deeper than 100 levels of brackets",
  },
];
