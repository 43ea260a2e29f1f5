import type { CliEnvironment } from '@herald/config';
import type { CliIo } from './cli.output';

/** What every command gets: its outputs, the CLI environment and a way to stop early. */
export interface CliContext extends CliIo {
  readonly env: CliEnvironment;
  /** Aborted on SIGINT / SIGTERM; long-running commands finish cleanly. */
  readonly signal: AbortSignal;
}

/** One `herald <name>` command. */
export interface CliCommand {
  readonly name: string;
  /** One line for `herald --help`. */
  readonly summary: string;
  /** Full `herald <name> --help` text. */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves with the exit code. */
  run(args: string[], ctx: CliContext): Promise<number>;
}
