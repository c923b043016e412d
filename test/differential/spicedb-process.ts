// Entry of the child process that hosts the embedded SpiceDB for SpiceDBOracle (see spicedb-oracle.ts).
import { InProcessSpiceDB } from "./spicedb-oracle.ts";
import type { OracleReply, OracleRequest } from "./spicedb-oracle.ts";

const spicedb = await InProcessSpiceDB.start();
const reply = (message: OracleReply): void => {
  process.send?.(message);
};

process.on("message", (request: OracleRequest) => {
  const answer = request.op === "load" ? spicedb.load(request.schemaText, request.relationships) : spicedb.check(request.check);
  void answer.then((result) => reply({ id: request.id, result }));
});

// The parent disconnects to ask for a clean shutdown.
process.on("disconnect", () => {
  void spicedb.close().then(() => process.exit(0));
});

reply({ ready: true });
