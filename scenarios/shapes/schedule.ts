/**
 * `schedule`: repeats a burst, e.g. a lightning deal every 30 minutes from 06:00 to 22:00, every day
 * of the event (`daily: true`). The bursts are named `<name>-1`, `<name>-2`, ... in event order;
 * with `window: true` each also names a window (`lightning-deal-3`). Bursts that would run past the
 * end of the event are left out; bursts may not overlap each other.
 */
import { fromPoints } from '../rate-function.ts';
import { BURST_FORM_KEYS, type BurstForm, burstLength, burstPoints, parseBurstForm } from './burst.ts';
import type { ShapeBlock } from './shape.ts';
import { checkInEvent, optionalDuration, requiredDuration } from './shape.ts';

/** Most bursts one schedule may produce (keeps plans small and compile fast). */
export const MAX_SCHEDULED_BURSTS = 2_000;

/** Settings of a schedule block. */
export interface ScheduleSettings {
  name: string;
  every: number;
  from: number;
  to: number;
  daily: boolean;
  window: boolean;
  burst: BurstForm;
}

/** The burst start times a schedule produces within an event of `eventSeconds`. */
export function scheduleStarts(s: ScheduleSettings, eventSeconds: number): number[] {
  const starts: number[] = [];
  const len = burstLength(s.burst);
  const days = s.daily ? Math.ceil(eventSeconds / 86400) : 1;
  for (let d = 0; d < days; d++) {
    const base = d * 86400;
    for (let t = base + s.from; t <= base + s.to + 1e-9; t += s.every) {
      if (t + len <= eventSeconds + 1e-9) starts.push(t);
    }
  }
  return starts;
}

/** The schedule block. */
export const scheduleBlock = {
  summary: 'repeats a burst every `every` from `from` to `to` (optionally every day)',
  keys: ['name', 'every', 'from', 'to', 'daily', 'window', 'burst'],
  ops: ['multiply'],
  parse(c, path, raw, ctx) {
    const nameRaw = c.required(path, raw, 'name', 'a name like lightning-deal');
    const name = nameRaw === undefined ? undefined : c.string([...path, 'name'], nameRaw);
    const every = requiredDuration(c, path, raw, 'every');
    const from = optionalDuration(c, path, raw, 'from', 0);
    const to = raw.to === undefined ? ctx.eventSeconds : c.duration([...path, 'to'], raw.to);
    const daily = raw.daily === undefined ? false : c.boolean([...path, 'daily'], raw.daily);
    const window = raw.window === undefined ? false : c.boolean([...path, 'window'], raw.window);
    const burstRaw = c.required(
      path,
      raw,
      'burst',
      'a burst form: {plateau, multiplier, rampUp?, decay?, curve?, kind?}',
    );
    const burstObj =
      burstRaw === undefined ? undefined : c.object([...path, 'burst'], burstRaw, BURST_FORM_KEYS);
    const burst = burstObj ? parseBurstForm(c, [...path, 'burst'], burstObj) : undefined;
    checkInEvent(c, [...path, 'from'], from, ctx, 'from');
    checkInEvent(c, [...path, 'to'], to, ctx, 'to');
    if (name === undefined || every === undefined || from === undefined || to === undefined) return undefined;
    if (daily === undefined || window === undefined || !burst) return undefined;
    if (to < from) {
      c.add([...path, 'to'], 'is before `from`', { expected: 'a time at or after from' });
      return undefined;
    }
    if (daily && to + burstLength(burst) > 86400) {
      c.add(
        [...path, 'to'],
        'with daily: true, from and to are times of day: the last burst must end before 24h',
        {
          expected: `to ≤ ${86400 - burstLength(burst)}s`,
        },
      );
      return undefined;
    }
    if (every < burstLength(burst)) {
      c.add(
        [...path, 'every'],
        `is shorter than one burst (${burstLength(burst)}s), so bursts would overlap`,
        {
          hint: 'lengthen every or shorten the burst',
        },
      );
      return undefined;
    }
    const s: ScheduleSettings = { name, every, from, to, daily, window, burst };
    const days = daily ? Math.ceil(ctx.eventSeconds / 86400) : 1;
    if (((to - from) / every + 1) * days > MAX_SCHEDULED_BURSTS) {
      c.add([...path, 'every'], `would schedule more than ${MAX_SCHEDULED_BURSTS} bursts`, {
        hint: 'lengthen every or narrow from/to',
      });
      return undefined;
    }
    if (scheduleStarts(s, ctx.eventSeconds).length === 0) {
      c.add(path, 'produces no burst inside the event', { hint: 'check from, to and the burst length' });
      return undefined;
    }
    return s;
  },
  compile(s, eventSeconds) {
    const points: [number, number][] = [];
    const bursts = scheduleStarts(s, eventSeconds).map((at, i) => {
      const r = burstPoints(s.burst, at, `${s.name}-${i + 1}`);
      points.push(...r.points);
      return r.burst;
    });
    return {
      fn: fromPoints(points),
      bursts,
      windows: s.window ? bursts.map((b) => ({ name: b.name, start: b.start, end: b.end })) : [],
    };
  },
} satisfies ShapeBlock<ScheduleSettings>;
