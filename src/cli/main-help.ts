/** MAIN_HELP is the text of `mandate --help`. */
export const MAIN_HELP = `Mandate: relationship-based authorization (Zanzibar-style, SpiceDB schema language, gRPC).

Usage: mandate COMMAND [ARGS] [FLAGS]

Server:
  serve                          run the gRPC server (mandate serve --help for flags)
  health                         ask a server whether it is SERVING (exit 0) or not (exit 1)
  migrate                        apply the datastore's migrations (DATABASE_URL or --data DIR) and exit

Clients of a running server (--endpoint HOST:PORT, env MANDATE_ENDPOINT, default 127.0.0.1:50051;
API key: --key KEY or env MANDATE_KEY):
  check RESOURCE PERMISSION SUBJECT   e.g. check document:readme view user:alice
  check RESOURCE#PERMISSION@SUBJECT   e.g. check document:readme#view@user:alice
  check ... --on-behalf-of PRINCIPAL  an agent acting for PRINCIPAL, e.g.
                                      check document:readme view agent:bot --on-behalf-of user:ann
  expand RESOURCE PERMISSION          print the permission's tree of subjects
  lookup-resources TYPE PERM SUBJECT  e.g. lookup-resources document view user:alice
  lookup-subjects RESOURCE PERM TYPE  e.g. lookup-subjects document:readme view group#member
  relationships write REL...          write relationships (or --file F, or - for stdin)
  relationships read [FILTER]         e.g. document:readme#viewer, document, --subject user:alice
  relationships delete FILTER         delete every relationship matching FILTER
  delegations grant AGENT PRINCIPAL   let AGENT act for PRINCIPAL, e.g. --scope document#view --expires-in 2h
  delegations list|revoke             list or revoke delegation edges (--actor AGENT | --principal P)
  keys create|list|rotate|revoke      manage API keys (admin), e.g. keys create --owner ci --role write
  schema write FILE | schema read
  import FILE|-                       create every relationship of FILE (one per line) atomically
  export [FILTER] > FILE              print every relationship, one per line; resumable by --cursor

Local, no server:
  keys generate                  print a fresh API key token (e.g. for MANDATE_BOOTSTRAP_KEY)
  schema validate FILE           compile a schema, print FILE:LINE:COL: diagnostics
  validate FILE.yaml...          run validation files (SpiceDB's format, as zed validate)

Exit codes: 0 success (check: ALLOWED), 1 negative answer (DENIED, failed validation),
2 usage error, 3 CONDITIONAL, 4 error (server unreachable, request refused).
Run "mandate COMMAND --help" for a command's flags.
`;
