import type { CommandIo } from "./command-io.ts";

/** ProgressOptions: `tty` redraws one line in place; otherwise a plain line every `intervalMs`; `quiet` prints nothing. */
export interface ProgressOptions {
  readonly tty: boolean;
  readonly quiet: boolean;
  readonly intervalMs?: number | undefined;
  /** now is the clock in milliseconds; tests pass their own. */
  readonly now?: (() => number) | undefined;
}

// A terminal line is redrawn at most this often, so that a fast import does not spend its time printing.
const TTY_REDRAW_MS = 100;
const PLAIN_INTERVAL_MS = 5_000;

/**
 * ProgressReporter shows a running count and rate on stderr, e.g.
 * `import: 120,000 relationships sent (45,210/s)`: redrawn in place on a terminal, as a plain line
 * every few seconds otherwise (logs, CI), and not at all when quiet. stdout stays for the data.
 */
export class ProgressReporter {
  readonly #io: CommandIo;
  readonly #label: string;
  readonly #options: ProgressOptions;
  readonly #now: () => number;
  readonly #started: number;
  #lastShown: number;
  #drawn = false;

  constructor(io: CommandIo, label: string, options: ProgressOptions) {
    this.#io = io;
    this.#label = label;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
    this.#lastShown = this.#started;
  }

  /** update reports the running `count`; it prints only when the redraw or plain interval has passed. */
  update(count: number): void {
    if (this.#options.quiet) return;
    const now = this.#now();
    const interval = this.#options.tty ? TTY_REDRAW_MS : (this.#options.intervalMs ?? PLAIN_INTERVAL_MS);
    if (now - this.#lastShown < interval) return;
    this.#lastShown = now;
    this.#show(count, now);
  }

  /** finish prints the final count and rate (and ends the redrawn line on a terminal). */
  finish(count: number): void {
    if (this.#options.quiet) return;
    this.#show(count, this.#now());
    if (this.#options.tty) this.#io.err("\n");
  }

  /** abandon ends a redrawn line without a final count, so that an error message starts on its own line. */
  abandon(): void {
    if (this.#options.tty && this.#drawn) this.#io.err("\n");
  }

  #show(count: number, now: number): void {
    const seconds = Math.max((now - this.#started) / 1000, 0.001);
    const line = `${this.#label}: ${formatCount(count)} relationships (${formatCount(Math.round(count / seconds))}/s, ${seconds.toFixed(1)} s)`;
    if (this.#options.tty) {
      this.#io.err(`\r\x1b[K${line}`);
      this.#drawn = true;
    } else {
      this.#io.err(`${line}\n`);
    }
  }
}

function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}
