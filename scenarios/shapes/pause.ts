/**
 * `pause`: traffic drops to a fraction (0 by default) for a while, e.g. a maintenance window or a
 * site-wide queue. Multiplies the level; the edges are 1 ms steps (STEP_EDGE_SECONDS).
 */
import { fromPoints } from '../rate-function.ts';
import type { ShapeBlock } from './shape.ts';
import { checkInEvent, requiredDuration, STEP_EDGE_SECONDS } from './shape.ts';

/** Settings of a pause block. */
export interface PauseSettings {
  at: number;
  duration: number;
  level: number;
}

/** The pause block. */
export const pauseBlock = {
  summary: 'multiplies the level by `level` (default 0) from `at` for `duration`',
  keys: ['at', 'duration', 'level'],
  ops: ['multiply'],
  parse(c, path, raw, ctx) {
    const at = requiredDuration(c, path, raw, 'at');
    const duration = requiredDuration(c, path, raw, 'duration');
    const level = raw.level === undefined ? 0 : c.number([...path, 'level'], raw.level, { min: 0 });
    checkInEvent(c, [...path, 'at'], at, ctx, 'at');
    if (at !== undefined && duration !== undefined)
      checkInEvent(c, [...path, 'duration'], at + duration, ctx, 'its end');
    if (duration !== undefined && duration < 1) {
      c.add([...path, 'duration'], `is ${duration}s`, { expected: 'at least 1s' });
      return undefined;
    }
    if (at === undefined || duration === undefined || level === undefined) return undefined;
    return { at, duration, level };
  },
  compile(s) {
    const e = STEP_EDGE_SECONDS;
    return {
      fn: fromPoints([
        [s.at, 1],
        [s.at + e, s.level],
        [s.at + s.duration - e, s.level],
        [s.at + s.duration, 1],
      ]),
    };
  },
} satisfies ShapeBlock<PauseSettings>;
