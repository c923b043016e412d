import { ServerInterceptingCall } from "@grpc/grpc-js";
import type { Metadata, ServerInterceptingCallInterface, ServerInterceptor } from "@grpc/grpc-js";
import { ResourceExhaustedError } from "../tuple/index.ts";
import { callerKeyOf } from "./caller.ts";
import { grpcStatusFor } from "./errors.ts";
import { KeyedStreamSlots } from "./keyed-stream-slots.ts";
import { KeyedTokenBuckets } from "./keyed-token-buckets.ts";
import type { ApiLimits } from "./limits.ts";
import { HEALTH_CHECK_PATH } from "./method-roles.ts";


// A Unix socket connection has no remote address. The server binds one only privately (see
// MandateServer.listenPrivately), for `mandate serve` to load its start-up data through its own
// API: limits meant for network clients must not refuse that (test/cli/serve-limits.test.ts).
function overUnixSocket(call: ServerInterceptingCallInterface): boolean {
  return call.getConnectionInfo().remoteAddress === undefined;
}

/** PerKeyLimits are the ApiLimits perKeyLimitsInterceptor enforces. */
export type PerKeyLimits = Pick<ApiLimits, "rateLimitPerSecond" | "rateLimitBurst" | "maxStreamsPerKey">;

/**
 * perKeyLimitsInterceptor is the server interceptor that enforces, per caller key (callerKeyOf,
 * which the authentication interceptor sets, so it must run after it), the rate limit (a token
 * bucket: each call, streaming or not, spends one token when it starts) and the number of
 * streaming calls open at once (server-, client- or bidi-streaming: Watch, Lookup*, Read, Export,
 * Import; a slot is freed when the call ends, however it ends, including the client going away).
 * A call over a limit ends before its handler runs, with RESOURCE_EXHAUSTED naming the limit and
 * its serve flag; a call the rate limit refuses spends no token. The gRPC health check is
 * exempt, and so are calls over a Unix socket (the server's private start-up socket). State is in
 * memory, per interceptor (one per server, so per replica). `now` (ms, monotonic) is for tests.
 */
export function perKeyLimitsInterceptor(limits: PerKeyLimits, options: { readonly now?: () => number } = {}): ServerInterceptor {
  const burst = limits.rateLimitBurst > 0 ? limits.rateLimitBurst : Math.max(1, Math.ceil(limits.rateLimitPerSecond));
  const buckets = limits.rateLimitPerSecond > 0 ? new KeyedTokenBuckets(limits.rateLimitPerSecond, burst, options.now) : undefined;
  const slots = limits.maxStreamsPerKey > 0 ? new KeyedStreamSlots(limits.maxStreamsPerKey) : undefined;

  // admit returns why a call may not start, or takes what it needs (a token, a stream slot) and
  // returns the function that gives the slot back.
  function admit(key: string, streaming: boolean): ResourceExhaustedError | (() => void) {
    if (buckets !== undefined && !buckets.tryTake(key)) {
      return new ResourceExhaustedError(
        `rate limit exceeded for caller key "${key}": more than ${limits.rateLimitPerSecond} calls per second (burst ${burst}); ` +
          `limit rateLimitPerSecond, set with --rate-limit and --rate-burst`,
      );
    }
    if (slots === undefined || !streaming) return () => undefined;
    return (
      slots.tryAcquire(key) ??
      new ResourceExhaustedError(
        `too many concurrent streams for caller key "${key}": ${limits.maxStreamsPerKey} already open; ` +
          `limit maxStreamsPerKey, set with --max-streams-per-key`,
      )
    );
  }

  return (methodDescriptor, next) => {
    // Load balancers and orchestrators probe health often, whoever calls: the check is never limited.
    if (methodDescriptor.path === HEALTH_CHECK_PATH || overUnixSocket(next) || (buckets === undefined && slots === undefined)) {
      return new ServerInterceptingCall(next);
    }
    const streaming = methodDescriptor.requestStream || methodDescriptor.responseStream;
    let release = (): void => undefined;
    const call: ServerInterceptingCall = new ServerInterceptingCall(next, {
      start(startNext) {
        startNext({
          onReceiveMetadata(metadata: Metadata, pass: (metadata: Metadata) => void) {
            const admitted = admit(callerKeyOf(metadata), streaming);
            if (admitted instanceof ResourceExhaustedError) {
              // The metadata is not passed on, so the handler never starts (nor reads the request).
              call.sendStatus({ code: grpcStatusFor(admitted.code), details: admitted.message, metadata: null });
              return;
            }
            release = admitted;
            pass(metadata);
          },
          // gRPC calls this once the call is over, however it ended (after a status, too).
          onCancel() {
            release();
          },
        });
      },
    });
    return call;
  };
}
