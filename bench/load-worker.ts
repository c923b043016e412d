// Entry of one load-generator worker process (forked by load-generator.ts with an IPC channel).
//
// It holds its own gRPC client and keeps its share of the in-flight requests busy for a phase,
// verifying every answer against the workload's expectation, and sends back its raw latencies so
// that the generator can merge exact percentiles across workers.
import { createMandateClient } from "../src/api/index.ts";
import type { MandateClient, WireCheckBulkPermissionsRequestItem, WireCheckPermissionRequest, WireZedToken } from "../src/api/index.ts";
import { answerOf, checkItem, checkRequest, describeCheck } from "./check-wire.ts";
import type { LoadMode, LoadWorkerReply, LoadWorkerRequest, WorkerResult } from "./load-protocol.ts";
import type { BenchCheck } from "./workloads/index.ts";

const MAX_PROBLEMS = 5;

/** Target is the server and the prepared requests of the current target message. */
interface Target {
  readonly client: MandateClient;
  readonly token: WireZedToken;
  readonly checks: readonly BenchCheck[];
  readonly requests: readonly WireCheckPermissionRequest[];
  readonly items: readonly WireCheckBulkPermissionsRequestItem[];
  readonly firstCheck: number;
}

let target: Target | undefined;

const send = (reply: LoadWorkerReply): void => {
  process.send?.(reply);
};

process.on("message", (request: LoadWorkerRequest) => {
  switch (request.type) {
    case "target":
      target?.client.close();
      target = {
        client: createMandateClient(request.address),
        token: request.token,
        checks: request.checks,
        requests: request.checks.map((check) => checkRequest(check, request.token)),
        items: request.checks.map(checkItem),
        firstCheck: request.firstCheck,
      };
      send({ type: "ready" });
      break;
    case "run": {
      if (target === undefined) throw new Error("load worker: run before target");
      void runPhase(target, request.mode, request.inFlight, request.durationMs, request.bulkSize, request.maxRequests).then((result) => send({ type: "result", result }));
      break;
    }
    default:
      throw new Error(`load worker: unknown request ${JSON.stringify(request)}`);
  }
});
process.on("disconnect", () => {
  target?.client.close();
  process.exit(0);
});

/** Recorder collects one phase's latencies, counts and first problems. */
class Recorder {
  readonly latencies: number[] = [];
  readonly byTag = new Map<string, number[]>();
  readonly problems: string[] = [];
  errors = 0;
  wrongAnswers = 0;
  items = 0;

  record(latency: number, tag: string | undefined): void {
    this.latencies.push(latency);
    if (tag === undefined) return;
    let tagged = this.byTag.get(tag);
    if (tagged === undefined) this.byTag.set(tag, (tagged = []));
    tagged.push(latency);
  }

  problem(text: string): void {
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(text);
  }

  verify(check: BenchCheck, got: string): void {
    if (got === check.expected) return;
    this.wrongAnswers++;
    this.problem(`${describeCheck(check)}: expected ${check.expected}, got ${got}`);
  }

  fail(what: string, error: unknown): void {
    this.errors++;
    this.problem(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }

  result(seconds: number): WorkerResult {
    return {
      requests: this.latencies.length,
      items: this.items,
      seconds,
      latencies: Float64Array.from(this.latencies),
      latenciesByTag: Object.fromEntries([...this.byTag].map(([tag, values]) => [tag, Float64Array.from(values)])),
      errors: this.errors,
      wrongAnswers: this.wrongAnswers,
      problems: this.problems,
    };
  }
}

// Keeps `inFlight` requests of `mode` going until `durationMs` has passed or `maxRequests` were sent.
async function runPhase(target: Target, mode: LoadMode, inFlight: number, durationMs: number, bulkSize: number, maxRequests: number): Promise<WorkerResult> {
  const recorder = new Recorder();
  const { checks } = target;
  let sent = 0;
  let next = target.firstCheck;
  const started = performance.now();
  const deadline = started + durationMs;
  const send = sendFor(target, mode, bulkSize, recorder);
  const lane = async (): Promise<void> => {
    while (performance.now() < deadline && sent < maxRequests) {
      sent++;
      const first = next;
      next = (next + (mode === "bulk" ? bulkSize : 1)) % checks.length;
      await send(first);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, () => lane()));
  return recorder.result((performance.now() - started) / 1000);
}

// One request of `mode` starting at check `first` of the mix; records its latency and verifies it.
function sendFor(target: Target, mode: LoadMode, bulkSize: number, recorder: Recorder): (first: number) => Promise<void> {
  const { client, checks, requests, items, token } = target;
  const checkAt = (index: number): BenchCheck => {
    const check = checks[index % checks.length];
    if (check === undefined) throw new RangeError(`check ${index} is out of range`);
    return check;
  };
  switch (mode) {
    case "health":
      return async () => {
        const sent = performance.now();
        try {
          const status = await client.health("");
          recorder.record(performance.now() - sent, undefined);
          recorder.items++;
          if (status !== "SERVING") {
            recorder.wrongAnswers++;
            recorder.problem(`health: ${status}`);
          }
        } catch (error) {
          recorder.fail("health", error);
        }
      };
    case "check":
      return async (first) => {
        const check = checkAt(first);
        const request = requests[first % requests.length];
        const sent = performance.now();
        try {
          const response = await client.check(request ?? checkRequest(check, token));
          recorder.record(performance.now() - sent, check.tag);
          recorder.items++;
          recorder.verify(check, answerOf(response.permissionship));
        } catch (error) {
          recorder.fail(describeCheck(check), error);
        }
      };
    case "bulk":
      return async (first) => {
        const batch = Array.from({ length: bulkSize }, (_, i) => (first + i) % checks.length);
        const sent = performance.now();
        try {
          const response = await client.checkBulk({
            consistency: { requirement: "atLeastAsFresh", atLeastAsFresh: token },
            items: batch.map((index) => items[index] ?? checkItem(checkAt(index))),
          });
          recorder.record(performance.now() - sent, undefined);
          const pairs = response.pairs ?? [];
          batch.forEach((index, i) => {
            const pair = pairs[i];
            const check = checkAt(index);
            if (pair?.response === "item") {
              recorder.items++;
              recorder.verify(check, answerOf(pair.item?.permissionship));
            } else {
              recorder.fail(describeCheck(check), new Error(pair?.error?.message ?? "no answer in the batch response"));
            }
          });
        } catch (error) {
          recorder.fail(`batch of ${bulkSize} from check ${first}`, error);
        }
      };
    default:
      throw new Error(`unknown mode ${String(mode)}`);
  }
}

send({ type: "ready" });
