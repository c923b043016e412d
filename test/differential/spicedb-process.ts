// Entry of the child process that hosts the embedded SpiceDB for SpiceDBOracle (see spicedb-oracle.ts).
import { answerRequest, InProcessSpiceDB } from "./spicedb-oracle.ts";
import type { OracleReply, OracleRequest } from "./spicedb-oracle.ts";

const spicedb = await InProcessSpiceDB.start();
const reply = (message: OracleReply): void => {
  process.send?.(message);
};

process.on("message", (request: OracleRequest) => {
  void answerRequest(spicedb, request).then((result) => reply({ id: request.id, result }));
});

// The parent disconnects to ask for a clean shutdown.
process.on("disconnect", () => {
  void spicedb.close().then(() => process.exit(0));
});

reply({ ready: true });
