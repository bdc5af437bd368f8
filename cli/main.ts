/**
 * The CLI entry: builds the commander program from the command registry (one thin file per command
 * under cli/commands/), runs it, and is the only place that maps errors to exit codes
 * (README "Exit codes"). Internal errors print a short message; `PEAKDAY_DEBUG=1` adds the stack.
 */
import { readdirSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode, formatError, isPeakdayError } from '../core/errors.ts';
import { PEAKDAY_VERSION } from '../core/version.ts';
import { disableColor } from './output.ts';

/** What each file in cli/commands/ exports. */
export interface CommandModule {
  /** Adds the command (and its subcommands) to the program. Heavy imports belong inside actions. */
  register(program: Command): void;
}

async function loadCommands(program: Command): Promise<void> {
  const dir = new URL('./commands/', import.meta.url);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort();
  for (const f of files) {
    const mod = (await import(new URL(f, dir).href)) as Partial<CommandModule>;
    if (typeof mod.register === 'function') mod.register(program);
  }
}

/** Builds the program; exported for tests that inspect the command tree. */
export async function createProgram(): Promise<Command> {
  const program = new Command('peakday')
    .description('Rehearse a peak day before it happens: peak-shaped load, scaling and cost, one timeline.')
    .version(PEAKDAY_VERSION, '-V, --version')
    .option('--no-color', 'disable coloured output (also NO_COLOR)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  program.hook('preAction', (cmd) => {
    if (cmd.opts().color === false) disableColor();
  });
  await loadCommands(program);
  program.commands.forEach(function applyOverrides(c: Command): void {
    c.exitOverride();
    c.commands.forEach(applyOverrides);
  });
  return program;
}

/** Runs the CLI and exits the process with the documented code. */
export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--no-color')) disableColor();
  // `peakday ... | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(ExitCode.ok);
    throw e;
  });
  let code: number = ExitCode.ok;
  try {
    const program = await createProgram();
    await program.parseAsync(argv);
    code = process.exitCode === undefined ? ExitCode.ok : Number(process.exitCode);
  } catch (e) {
    code = exitCodeFor(e);
  }
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}

/**
 * Resolves once everything written to `stream` so far has left the process. A pipe takes 64 KiB
 * at once: past that, Node queues the rest, and `process.exit` drops the queue. A deploy's diff
 * (about 120 KiB) read by a busy consumer (a CI log, `2>&1 | tee`) lost its end that way,
 * error line included; the exit code said what the missing text did not.
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise<void>((resolve) => stream.write('', () => resolve()));
}

function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    // commander already printed its message; help and version are successes.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return ExitCode.ok;
    return ExitCode.invalidInput;
  }
  if (isPeakdayError(e)) {
    process.stderr.write(`${formatError(e)}\n`);
    return e.exitCode;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  process.stderr.write(`internal error: ${err.message}\n`);
  if (process.env.PEAKDAY_DEBUG) process.stderr.write(`${err.stack ?? ''}\n`);
  else
    process.stderr.write('hint: this is a bug in peakday; rerun with PEAKDAY_DEBUG=1 for the stack trace\n');
  return ExitCode.internal;
}
