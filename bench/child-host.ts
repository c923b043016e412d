// A bench child process spoken to over IPC, one message type per reply: the common part of the
// harness's handles on the Mandate server and the SpiceDB hosts.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./paths.ts";

/** How long a child may take to exit once asked to stop, before SIGKILL. */
const STOP_TIMEOUT_MS = 30_000;

/**
 * ChildHost is a forked `bin/run-ts.js <script>` child (IPC, advanced serialization). `name`
 * names it in errors. Replies are told apart by their `type`.
 */
export class ChildHost<Request, Reply extends { readonly type: string }> {
  readonly #child: ChildProcess;
  readonly #name: string;

  private constructor(child: ChildProcess, name: string) {
    this.#child = child;
    this.#name = name;
  }

  /** fork starts `script` with `args` and V8 flags `execArgv`, its stdout and stderr the harness's. */
  static fork<Request, Reply extends { readonly type: string }>(name: string, script: string, args: readonly string[], execArgv: readonly string[]): ChildHost<Request, Reply> {
    const child = fork(join(ROOT, "bin", "run-ts.js"), [script, ...args], {
      cwd: ROOT,
      execArgv: [...execArgv],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "advanced",
    });
    return new ChildHost<Request, Reply>(child, name);
  }

  /** onReply calls `listener` with every reply (for replies answered in order, e.g. stats). */
  onReply(listener: (reply: Reply) => void): void {
    this.#child.on("message", listener);
  }

  /**
   * next resolves with the next reply of `type`; rejects if the child exits first, or after
   * `timeoutMs` (if given), the error saying it did not `what` in time.
   */
  next<T extends Reply["type"]>(type: T, timeout?: { readonly ms: number; readonly what: string }): Promise<Extract<Reply, { type: T }>> {
    const child = this.#child;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        child.off("exit", onExit);
        child.off("message", onMessage);
      };
      const onExit = (code: number | null): void => {
        done();
        reject(new Error(`the ${this.#name} exited with code ${code}`));
      };
      const onMessage = (reply: Reply): void => {
        if (reply.type !== type) return;
        done();
        resolve(reply as Extract<Reply, { type: T }>);
      };
      const timer = timeout === undefined ? undefined : setTimeout(() => {
        done();
        reject(new Error(`the ${this.#name} did not ${timeout.what} within ${timeout.ms / 1000} s`));
      }, timeout.ms);
      child.once("exit", onExit);
      child.on("message", onMessage);
    });
  }

  /** ask sends `request` and resolves with the next reply of `type`. */
  ask<T extends Reply["type"]>(request: Request, type: T): Promise<Extract<Reply, { type: T }>> {
    const reply = this.next(type);
    this.send(request);
    return reply;
  }

  /** send sends `request` without waiting for a reply. */
  send(request: Request): void {
    this.#child.send(request as object);
  }

  /**
   * stop asks the child to exit (by sending `request`, or by disconnecting when there is none)
   * and waits until it has (SIGKILL after 30 s); a child that already exited is left alone.
   */
  async stop(request?: Request): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    if (request === undefined) child.disconnect();
    else this.send(request);
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}
