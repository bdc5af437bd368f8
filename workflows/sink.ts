/**
 * How a workflow tells its caller what it is doing. The workflow emits; whoever runs it subscribes:
 * cli/sink.ts writes progress to stderr and run summaries where the command wants them, a test
 * collects the lines. A workflow never writes to the terminal itself, so the same workflow serves
 * `peakday run`, a rehearsal's live window and `compare --live` without flags that say where to print.
 */
import type { RunOutcome } from '../engine/run.ts';

/** Receives a workflow's progress. Every method is optional except `log`. */
export interface WorkflowSink {
  /** A progress line: the step being taken, a stack log line, a note. */
  log(line: string): void;
  /**
   * The engine's live progress (a status line rewritten in place on a TTY, plain lines otherwise);
   * omitted: the engine runs silently.
   */
  engineProgress?: { tty: boolean; write: (text: string) => void };
  /** A load run finished and its run directory is complete (the CLI prints its summary). */
  runFinished?(run: RunOutcome): void;
}

/** A sink that drops everything: for callers that only want the outcome. */
export const silentSink: WorkflowSink = { log: () => {} };
