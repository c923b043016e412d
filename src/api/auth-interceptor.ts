import { ServerInterceptingCall } from "@grpc/grpc-js";
import type { Metadata, ServerInterceptingCallInterface, ServerInterceptor } from "@grpc/grpc-js";
import type { Logger } from "pino";
import { PermissionDeniedError, ResourceExhaustedError, UnauthenticatedError } from "../tuple/index.ts";
import type { ApiKeyCaller, ApiKeyVerifier } from "./api-key-registry.ts";
import { ANONYMOUS_CALLER, CALLER_KEY_HEADER } from "./caller.ts";
import type { Role } from "./caller.ts";
import { toGrpcStatus } from "./errors.ts";
import { requiredRole, roleAllows } from "./method-roles.ts";
import { KeyedTokenBuckets } from "./keyed-token-buckets.ts";

const AUTHORIZATION_HEADER = "authorization";
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** DEFAULT_RECHECK_MS is how often a call in flight (a Watch, a long export) re-verifies its key. */
export const DEFAULT_RECHECK_MS = 1_000;

/** AuthInterceptorOptions: `recheckMs` is the interval at which calls in flight re-verify their key (see authInterceptor). */
export interface AuthInterceptorOptions {
  readonly verifier: ApiKeyVerifier;
  readonly logger: Logger;
  readonly recheckMs?: number | undefined;
  /**
   * failedAuthentications bounds failed authentications per client address (default 10 per
   * second, bursts of 20): past it, calls from that address get RESOURCE_EXHAUSTED before their
   * key is looked up, so guessing keys cannot flood the datastore with lookups. `now` is for tests.
   */
  readonly failedAuthentications?: { readonly perSecond: number; readonly burst: number; readonly now?: () => number } | undefined;
}

const DEFAULT_FAILED_AUTHENTICATIONS: NonNullable<AuthInterceptorOptions["failedAuthentications"]> = { perSecond: 10, burst: 20 };

/**
 * authInterceptor authenticates every call but the gRPC health check by its
 * `authorization: Bearer <API key>` metadata, and authorizes it by the role its method needs
 * (method-roles.ts). A missing, malformed, unknown, wrong, expired, revoked or rotated-out key
 * ends the call with UNAUTHENTICATED, a role too weak with PERMISSION_DENIED naming the role
 * needed; neither message quotes the credentials. An authorized call goes on with the key id
 * under CALLER_KEY_HEADER (whatever the client sent under that name is replaced) and without
 * the authorization metadata, so nothing after this point can log the secret.
 *
 * A streaming call in flight re-verifies its key when the registry changes that key (a revocation or
 * rotation on this server: at once) and every `recheckMs` (a change made on another server, or
 * an expiry or grace period ending meanwhile): when the key no longer verifies, the call ends
 * with UNAUTHENTICATED. This is how a Watch stream ends when its key is revoked.
 */
export function authInterceptor(options: AuthInterceptorOptions): ServerInterceptor {
  const recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
  const anonymous = anonymousCallerInterceptor();
  const failuresAllowed = options.failedAuthentications ?? DEFAULT_FAILED_AUTHENTICATIONS;
  const failures = new KeyedTokenBuckets(failuresAllowed.perSecond, failuresAllowed.burst, failuresAllowed.now);
  return (methodDescriptor, next) => {
    const needed = requiredRole(methodDescriptor.path);
    // Health needs no key; its calls still get the anonymous caller key, whatever the client sent.
    if (needed === undefined) return anonymous(methodDescriptor, next);
    const streaming = methodDescriptor.requestStream || methodDescriptor.responseStream;
    let watchdog: (() => void) | undefined;
    let ended = false;
    const call: ServerInterceptingCall = new ServerInterceptingCall(next, {
      start: (startNext) =>
        startNext({
          onReceiveMetadata: (metadata, metadataNext) => {
            const token = bearerTokenOf(metadata);
            metadata.remove(AUTHORIZATION_HEADER);
            metadata.remove(CALLER_KEY_HEADER);
            const address = clientAddressOf(next);
            if (!failures.hasToken(address)) {
              fail(new ResourceExhaustedError(`too many failed authentications from this address (more than ${failuresAllowed.perSecond} per second); wait, then send a valid API key`));
              return;
            }
            authorize(options.verifier, token, needed).then(
              (caller) => {
                if (ended) return;
                metadata.set(CALLER_KEY_HEADER, caller.keyId);
                // Only streams outlive a revocation long enough to need ending; a unary call that the
                // watchdog failed after its handler committed would report a done write as failed.
                if (streaming) {
                  watchdog = watchCaller(options.verifier, caller.keyId, token ?? "", recheckMs, (reason) => fail(new UnauthenticatedError(`${reason}; the call was ended`)));
                }
                metadataNext(metadata);
              },
              (error: unknown) => {
                if (error instanceof UnauthenticatedError) failures.tryTake(address);
                fail(error);
              },
            );
          },
          onCancel: () => {
            ended = true;
            watchdog?.();
          },
        }),
    });
    const fail = (error: unknown): void => {
      if (ended) return;
      ended = true;
      watchdog?.();
      const failure = toGrpcStatus(error, options.logger);
      call.sendStatus({ code: failure.code, details: failure.details });
    };
    return call;
  };
}

/** anonymousCallerInterceptor is authInterceptor's stand-in when authentication is off: every call's caller key is ANONYMOUS_CALLER, whatever the client sent. */
export function anonymousCallerInterceptor(): ServerInterceptor {
  return (_methodDescriptor, next: ServerInterceptingCallInterface) =>
    new ServerInterceptingCall(next, {
      start: (startNext) =>
        startNext({
          onReceiveMetadata: (metadata, metadataNext) => {
            metadata.set(CALLER_KEY_HEADER, ANONYMOUS_CALLER);
            metadataNext(metadata);
          },
        }),
    });
}

// The client's address without its port (a client opens connections from many ports).
function clientAddressOf(call: ServerInterceptingCallInterface): string {
  return call.getConnectionInfo().remoteAddress ?? "local";
}

/** bearerTokenOf returns the token of `authorization: Bearer <token>`, or undefined when the metadata is absent or not of that form. */
function bearerTokenOf(metadata: Metadata): string | undefined {
  const value = metadata.get(AUTHORIZATION_HEADER)[0];
  if (typeof value !== "string") return undefined;
  return BEARER.exec(value)?.[1];
}

async function authorize(verifier: ApiKeyVerifier, token: string | undefined, needed: Role): Promise<ApiKeyCaller> {
  if (token === undefined) {
    throw new UnauthenticatedError("missing credentials: send the metadata `authorization: Bearer <API key>` (an API key looks like mk_<id>_<secret>)");
  }
  const verification = await verifier.verify(token);
  if (!verification.ok) throw new UnauthenticatedError(verification.reason);
  if (!roleAllows(verification.caller.role, needed)) {
    throw new PermissionDeniedError(`API key ${verification.caller.keyId} has role ${verification.caller.role}; this method needs role ${needed}`);
  }
  return verification.caller;
}

// Re-verifies `token` when the registry changes key `keyId` and every `recheckMs`, calling
// `onRefused` (once) when it no longer verifies. Returns the function that stops watching.
function watchCaller(verifier: ApiKeyVerifier, keyId: string, token: string, recheckMs: number, onRefused: (reason: string) => void): () => void {
  let stopped = false;
  const recheck = () => {
    verifier.verify(token).then(
      (verification) => {
        if (!stopped && !verification.ok) onRefused(verification.reason);
      },
      // The store did not answer: keep the call; the next recheck tries again.
      () => undefined,
    );
  };
  const unsubscribe = verifier.onChange((changed) => {
    if (changed === keyId) recheck();
  });
  const timer = setInterval(recheck, recheckMs);
  timer.unref();
  return () => {
    stopped = true;
    unsubscribe();
    clearInterval(timer);
  };
}
