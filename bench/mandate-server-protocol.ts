// The IPC messages between the harness (mandate-process.ts) and its Mandate server child (mandate-server.ts).
import type { ServiceStats } from "../src/cli/mandate-service.ts";

/** ServerRequest is what the harness asks the server child; `resetPeak` starts a new peak after this answer. */
export type ServerRequest = { readonly type: "stats"; readonly collectGarbage?: boolean; readonly resetPeak?: boolean } | { readonly type: "stop" };

/** ServerReply is what the server child sends: once "ready", then one "stats" per request. */
export type ServerReply =
  | { readonly type: "ready"; readonly port: number; readonly rssBytes: number }
  | { readonly type: "stats"; readonly stats: ServiceStats; readonly peakRssBytes: number };
