/**
 * `trend`: a straight-line change of level between two times (held before and after), e.g. a
 * slow decline over the second day. Multiplies the level by default; `op: add` adds it instead.
 */
import { fromPoints } from '../rate-function.ts';
import type { ShapeBlock } from './shape.ts';
import { checkInEvent, optionalDuration } from './shape.ts';

/** Settings of a trend block. */
export interface TrendSettings {
  from: number;
  to: number | undefined;
  start: number;
  end: number;
}

/** The trend block. */
export const trendBlock = {
  summary: 'a linear change from `start` at `from` to `end` at `to` (held outside)',
  keys: ['from', 'to', 'start', 'end'],
  ops: ['multiply', 'add'],
  parse(c, path, raw, ctx) {
    const from = optionalDuration(c, path, raw, 'from', 0);
    const to = raw.to === undefined ? ctx.eventSeconds : c.duration([...path, 'to'], raw.to);
    const startRaw = c.required(path, raw, 'start', 'a number ≥ 0');
    const endRaw = c.required(path, raw, 'end', 'a number ≥ 0');
    const start = startRaw === undefined ? undefined : c.number([...path, 'start'], startRaw, { min: 0 });
    const end = endRaw === undefined ? undefined : c.number([...path, 'end'], endRaw, { min: 0 });
    checkInEvent(c, [...path, 'from'], from, ctx, 'from');
    checkInEvent(c, [...path, 'to'], to, ctx, 'to');
    if (from !== undefined && to !== undefined && to <= from) {
      c.add([...path, 'to'], 'is not after `from`', { expected: 'a time after from' });
      return undefined;
    }
    if (from === undefined || to === undefined || start === undefined || end === undefined) return undefined;
    return { from, to, start, end };
  },
  compile(s, eventSeconds) {
    return {
      fn: fromPoints([
        [s.from, s.start],
        [s.to ?? eventSeconds, s.end],
      ]),
    };
  },
} satisfies ShapeBlock<TrendSettings>;
