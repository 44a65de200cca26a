/** A `tts-distill` subcommand: gets its arguments (after the subcommand name) and returns the exit code. */
export interface CliCommand {
  /** One line for `tts-distill --help`. */
  summary: string;
  /** Full usage text for `tts-distill <cmd> --help`. */
  usage: string;
  run(args: string[], io: CliIO): Promise<number>;
}

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Aborted on SIGINT/SIGTERM: long commands stop cleanly and keep what they finished. */
  signal: AbortSignal;
  /** Standard input (process.stdin when absent). */
  stdin?: NodeJS.ReadableStream;
}

/** Thrown for bad usage; printed without a stack, exit code 64. */
export class UsageError extends Error {}
