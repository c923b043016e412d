/**
 * CommandIo is everything a command touches outside its arguments: output streams, the
 * environment, the working directory and stdin. `main` binds it to the process; tests pass fakes,
 * so commands never reach for `process` themselves.
 */
export interface CommandIo {
  /** out writes to stdout; the text is written as-is (commands add their own newlines). */
  readonly out: (text: string) => void;
  /** err writes to stderr. */
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** cwd resolves relative paths given on the command line. */
  readonly cwd: string;
  /** readStdin returns all of stdin as text. */
  readonly readStdin: () => Promise<string>;
  /** stdinStream returns stdin as a stream, for input too large to hold (import); absent in most fakes. */
  readonly stdinStream?: (() => AsyncIterable<string | Buffer>) | undefined;
  /** stderrIsTty is true when stderr is a terminal (progress is then redrawn in place). */
  readonly stderrIsTty?: boolean | undefined;
  /**
   * waitForShutdown resolves when the process is asked to stop (SIGINT or SIGTERM); `serve` waits
   * on it. Tests resolve it themselves.
   */
  readonly waitForShutdown: () => Promise<string>;
}

/**
 * ExitCode is the contract of every command with scripts:
 * 0 success (check: ALLOWED), 1 a negative answer (check: DENIED, validate: a failed assertion or
 * invalid file), 2 a usage error, 3 check: CONDITIONAL, 4 the command could not do its work
 * (server unreachable, server-side error).
 */
export const ExitCode = {
  ok: 0,
  negative: 1,
  usage: 2,
  conditional: 3,
  error: 4,
} as const;

/** ExitCode values, as returned by commands. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
