/**
 * The CLI's side of a workflow's progress (workflows/sink.ts): progress lines and the engine's live
 * status on stderr, each finished run's summary on stdout (or stderr for a command whose stdout is
 * its own, e.g. `compare --json`). Workflows emit; this is the one terminal subscriber.
 */
import type { RunSummary } from '../core/run-format.ts';
import type { WorkflowSink } from '../workflows/sink.ts';
import type { Output } from './output.ts';

/** Where the summary of each finished run goes. */
export type SummaryTarget = 'stdout' | 'stderr' | 'none';

/** A sink writing to the terminal through `out`. */
export function createCliSink(out: Output, opts: { summary: SummaryTarget }): WorkflowSink {
  return {
    log: (line) => out.err(line),
    engineProgress: { tty: process.stderr.isTTY === true, write: (t) => process.stderr.write(t) },
    runFinished: (run) => {
      if (opts.summary !== 'none')
        printSummary(
          (s) => (opts.summary === 'stderr' ? out.err(s) : out.out(s)),
          run.dir,
          run.summary,
          run.meta.notes,
        );
      if (run.meta.endDetail) out.err(`stopped: ${run.meta.endDetail}`);
    },
  };
}

/** The plain-text summary of a run, as `peakday run` prints it. */
export function printSummary(write: (s: string) => void, dir: string, s: RunSummary, notes: string[]): void {
  const l = s.latency.intended?.overall;
  const snd = s.latency.send?.overall;
  const f = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
  write(`run directory: ${dir}`);
  write(`ended: ${s.endReason}${s.partial ? ' (partial)' : ''} after ${s.durationSeconds.toFixed(1)} s`);
  write(
    `iterations: planned ${s.iterations.planned}, started ${s.iterations.started}, completed ${s.iterations.completed}, dropped ${s.iterations.dropped}, failed ${s.iterations.failed}`,
  );
  write(`requests: ${s.requests.total} (${s.requests.ratePerSecond}/s), failed ${s.requests.failed}`);
  if (l)
    write(
      `latency from intended start (ms): p50 ${f(l.p50)} p95 ${f(l.p95)} p99 ${f(l.p99)} max ${f(l.max)}`,
    );
  if (snd)
    write(
      `latency from send (ms):           p50 ${f(snd.p50)} p95 ${f(snd.p95)} p99 ${f(snd.p99)} max ${f(snd.max)}`,
    );
  if (s.schedulerLag) write(`scheduler lag (ms): p50 ${f(s.schedulerLag.p50)} p99 ${f(s.schedulerLag.p99)}`);
  write(s.valid ? 'valid: yes' : `VALID: NO — ${s.invalidReasons.join('; ')}`);
  for (const n of notes) write(`note: ${n}`);
}
