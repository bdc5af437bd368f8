/**
 * Live progress: on a TTY one line rewritten every second (elapsed/total in wall and event time,
 * target vs achieved rate, p95, errors, dropped, validity); elsewhere (CI) a plain line every few
 * seconds. It only formats what the engine emits; it never slows the engine.
 */
import type { Plan } from '../../scenarios/plan.ts';
import type { EngineSubscriber, SecondReport } from '../engine.ts';

/** Where and how to print. */
export interface ProgressOptions {
  tty: boolean;
  write: (text: string) => void;
  /** Seconds between plain lines (non-TTY); default 5. */
  plainEvery?: number;
}

function clock(s: number): string {
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
    : `${m}:${String(sec).padStart(2, '0')}`;
}

/** Formats one progress line (pure, exported for tests). */
export function formatProgress(
  plan: Plan,
  r: SecondReport,
  totals: { requests: number; failed: number; dropped: number },
): string {
  const wall = Math.min(r.wall + r.dt, plan.durationSeconds);
  const ev = Math.min(plan.eventStart + wall * plan.timeScale, plan.eventEnd);
  const lag = r.health.schedulerLag.p99;
  const ok = lag <= 10 && r.health.eventLoopDelay.p99 <= 50;
  return [
    `${clock(wall)}/${clock(plan.durationSeconds)} wall`,
    `event ${clock(ev)}/${clock(plan.eventEnd)}`,
    `rate ${Math.round(r.started / r.dt)}/${Math.round(r.planned / r.dt)} it/s`,
    `p95 ${r.p95Ms.toFixed(1)} ms`,
    `errors ${totals.failed}/${totals.requests}`,
    `dropped ${totals.dropped}`,
    `lag p99 ${lag.toFixed(1)} ms`,
    ok ? 'engine ok' : 'ENGINE BEHIND',
  ].join(' | ');
}

/** A subscriber printing progress. */
export function createProgressOutput(plan: Plan, opts: ProgressOptions): EngineSubscriber & { end(): void } {
  const totals = { requests: 0, failed: 0, dropped: 0 };
  const every = opts.plainEvery ?? 5;
  let printed = false;
  return {
    onSecond(r) {
      totals.requests += r.requests;
      totals.failed += r.failed;
      totals.dropped += r.dropped;
      const line = formatProgress(plan, r, totals);
      if (opts.tty) {
        opts.write(`\r\u001b[2K${line}`);
        printed = true;
      } else if ((r.second + 1) % every === 0) opts.write(`${line}\n`);
    },
    end() {
      if (opts.tty && printed) opts.write('\n');
    },
  };
}
