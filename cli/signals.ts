/**
 * Ctrl-C for the commands that drive load or a stack, or wait on a source (collect, merge), and the
 * only place a command installs signal handlers: the first SIGINT or SIGTERM aborts the command's AbortSignal (the workflow stops its load,
 * stops what it started, keeps what it measured and reports exit 130); a second one means "now" and
 * exits with 130 at once. Process entry points of their own (the stack's supervisor and replica
 * workers) keep theirs.
 */
import { ExitCode } from '../core/errors.ts';

/** Runs `work` with an AbortSignal that Ctrl-C (SIGINT) or SIGTERM aborts; handlers removed after. */
export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals > 1) process.exit(ExitCode.interrupted);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
