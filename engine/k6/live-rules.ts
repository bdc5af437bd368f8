/**
 * The run's abort rules on a running k6: the embedded engine's circuit breaker and budget aborts,
 * the same code (engine/abort-rules.ts, engine/second-close.ts `judgeSecond`). k6's JSON output is
 * read while k6 writes it, converted into the same per-second series records the driver writes at
 * the end (engine/k6/convert.ts, streaming: a second is complete once k6's points have moved
 * K6_LATENESS_SECONDS past it), and each complete second goes to the rules. The first stop order
 * goes to `onStop`; the driver then stops k6 and records why. Without this a k6 run against a dead
 * target played its whole plan and exited 0.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { SeriesRecord } from '../../core/run-format.ts';
import type { AbortRule } from '../abort-rules.ts';
import { judgeSecond, type StopOrder } from '../second-close.ts';
import { createK6SeriesBuilder } from './convert.ts';
import { parseK6JsonLine } from './points.ts';

/** How often the file k6 writes is read (ms); k6's JSON output flushes about once a second. */
export const K6_WATCH_INTERVAL_MS = 500;

/** What the watcher needs. */
export interface K6WatchOptions {
  /** Epoch ms at which k6 was started (wall second 0, as the final conversion counts it). */
  startedAtMs: number;
  eventStart: number;
  timeScale: number;
  rules: readonly AbortRule[];
  /** Called once, with the first rule's stop order. */
  onStop: (order: StopOrder) => void;
  intervalMs?: number;
}

/** A running watcher. */
export interface K6Watch {
  /** Reads what k6 has written since the last read and judges the seconds it completes. */
  poll(): void;
  /** Stops reading (the driver converts the whole file afterwards). */
  stop(): void;
}

/**
 * Watches `file` (which k6 may not have created yet) while k6 runs. `poll` runs every
 * `intervalMs`; tests call it directly.
 */
export function watchK6Output(file: string, o: K6WatchOptions): K6Watch {
  let fd: number | null = null;
  let offset = 0;
  let carry = '';
  let stopped = false;
  const decoder = new StringDecoder('utf8');
  // The builder emits each second whole, in order, once it is complete.
  const judge = (second: SeriesRecord[]): void => {
    const first = second[0];
    if (stopped || !first) return;
    const order = judgeSecond(o.rules, { t: first.t, wall: first.wall, records: second });
    if (order) {
      stopped = true;
      o.onStop(order);
    }
  };
  const builder = createK6SeriesBuilder({
    startedAtMs: o.startedAtMs,
    eventStart: o.eventStart,
    timeScale: o.timeScale,
    onRecords: judge,
  });
  const poll = (): void => {
    if (stopped) return;
    try {
      fd ??= openSync(file, 'r');
    } catch {
      return; // not written yet
    }
    const size = fstatSync(fd).size;
    if (size <= offset) return;
    const buf = Buffer.allocUnsafe(Math.min(size - offset, 4 << 20));
    const n = readSync(fd, buf, 0, buf.length, offset);
    offset += n;
    const text = carry + decoder.write(buf.subarray(0, n));
    const end = text.lastIndexOf('\n');
    carry = end < 0 ? text : text.slice(end + 1);
    if (end < 0) return;
    for (const line of text.slice(0, end).split('\n')) {
      if (line === '') continue;
      const parsed = parseK6JsonLine(line);
      if (parsed.kind === 'metric') builder.declare(parsed.decl);
      else if (parsed.kind === 'point') builder.add(parsed.point);
      if (stopped) return;
    }
  };
  const timer = setInterval(poll, o.intervalMs ?? K6_WATCH_INTERVAL_MS);
  timer.unref();
  return {
    poll,
    stop() {
      stopped = true;
      clearInterval(timer);
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
