#!/usr/bin/env node
import { cliEnvironment, ConfigValidationError } from '@herald/config';
import type { CliCommand, CliContext } from './cli.context';
import { CliError, Output, UsageError } from './cli.output';
import { doctorCommand } from './doctor.command';
import { publishCommand } from './publish.command';
import { tailCommand } from './tail.command';
import { tokenCommand } from './token.command';

const COMMANDS: readonly CliCommand[] = [tokenCommand, publishCommand, tailCommand, doctorCommand];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: herald <command> [options]   (herald <command> --help for its options)',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Environment: HERALD_URL (default http://localhost:$PORT), HERALD_TOKEN, NO_COLOR, and the',
    "gateway's own keys (JWT_SECRET, JWT_*, NODE_ENV) for `token`.",
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and the script); resolves with the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const env = cliEnvironment();
  const out = new Output(process.stdout, env.noColor);
  const err = new Output(process.stderr, env.noColor);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
    out.line(topic?.help ?? usage());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    err.line(err.paint('red', `herald: unknown command "${name}"`));
    err.line(usage());
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out.line(command.help);
    return 0;
  }
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const ctx: CliContext = { out, err, env, signal: abort.signal };
  try {
    return await command.run(rest, ctx);
  } catch (e) {
    err.clearProgress();
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err.line(err.paint('red', `herald ${command.name}: ${(e as Error).message}`));
      err.line(`Run "herald ${command.name} --help" for usage.`);
      return 2;
    }
    if (e instanceof CliError || e instanceof ConfigValidationError) {
      err.line(err.paint('red', `herald ${command.name}: ${e.message}`));
      return e instanceof CliError ? e.exitCode : 1;
    }
    throw e;
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`herald: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
