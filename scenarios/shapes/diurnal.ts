/**
 * `diurnal` (also used for weekly or other seasonal cycles via `period`): a repeating curve through
 * configurable peaks and troughs, e.g. low at 04:00, high at 20:00. With `smooth` (default) the
 * curve between two points follows a half cosine, sampled every `resolution` so the plan stays
 * piecewise linear; otherwise it is straight lines. Multiplies the level by default.
 */
import { fromPoints } from '../rate-function.ts';
import type { ShapeBlock } from './shape.ts';
import { optionalDuration } from './shape.ts';

/** Settings of a diurnal block; `points` are sorted by `at` within [0, period). */
export interface DiurnalSettings {
  period: number;
  points: { at: number; level: number }[];
  smooth: boolean;
  resolution: number;
}

/** The diurnal (seasonal) block. */
export const diurnalBlock = {
  summary: 'a repeating curve through peaks and troughs (period 24h by default)',
  keys: ['period', 'peaks', 'troughs', 'smooth', 'resolution'],
  ops: ['multiply', 'add'],
  parse(c, path, raw, ctx) {
    const period = optionalDuration(c, path, raw, 'period', 86400);
    const resolution = optionalDuration(c, path, raw, 'resolution', 900);
    const smooth = raw.smooth === undefined ? true : c.boolean([...path, 'smooth'], raw.smooth);
    const points: { at: number; level: number }[] = [];
    let ok = period !== undefined && resolution !== undefined && smooth !== undefined;
    for (const key of ['peaks', 'troughs'] as const) {
      if (raw[key] === undefined) continue;
      const list = c.array([...path, key], raw[key]);
      if (!list) {
        ok = false;
        continue;
      }
      list.forEach((item, i) => {
        const p = [...path, key, i];
        const o = c.object(p, item, ['at', 'level']);
        if (!o) {
          ok = false;
          return;
        }
        const atRaw = c.required(p, o, 'at', 'a time of day like 20h');
        const levelRaw = c.required(p, o, 'level', 'a number > 0');
        const at = atRaw === undefined ? undefined : c.duration([...p, 'at'], atRaw);
        const level = levelRaw === undefined ? undefined : c.number([...p, 'level'], levelRaw, { min: 0 });
        if (at === undefined || level === undefined) {
          ok = false;
          return;
        }
        if (period !== undefined && at >= period) {
          c.add([...p, 'at'], `is ${at}s, not within one period`, { expected: `a time below ${period}s` });
          ok = false;
          return;
        }
        points.push({ at, level });
      });
    }
    if (points.length < 2) {
      c.add(path, 'needs at least two points (peaks and troughs together)', {
        expected: 'peaks: [{at: 20h, level: 1.4}] and troughs: [{at: 4h, level: 0.4}]',
      });
      ok = false;
    }
    points.sort((a, b) => a.at - b.at);
    for (let i = 1; i < points.length; i++) {
      if ((points[i] as { at: number }).at === (points[i - 1] as { at: number }).at) {
        c.add(path, `two points at the same time (${(points[i] as { at: number }).at}s)`, {
          hint: 'give each peak and trough its own time',
        });
        ok = false;
      }
    }
    if (resolution !== undefined && resolution < 1) {
      c.add([...path, 'resolution'], `is ${resolution}s`, { expected: 'at least 1s' });
      ok = false;
    }
    if (smooth && resolution !== undefined && ctx.eventSeconds / resolution > 100_000) {
      c.add([...path, 'resolution'], `would sample ${Math.ceil(ctx.eventSeconds / resolution)} points`, {
        expected: 'at most 100,000 over the event',
        hint: 'lengthen resolution',
      });
      ok = false;
    }
    if (period !== undefined && period < 60) {
      c.add([...path, 'period'], `is ${period}s`, {
        expected: 'at least 1m',
        hint: 'a seasonal cycle is minutes to days long',
      });
      ok = false;
    }
    return ok
      ? { period: period as number, points, smooth: smooth as boolean, resolution: resolution as number }
      : undefined;
  },
  compile(s, eventSeconds) {
    const out: [number, number][] = [];
    const cycles = Math.ceil(eventSeconds / s.period) + 1;
    const knots: { t: number; v: number }[] = [];
    for (let k = -1; k <= cycles; k++)
      for (const p of s.points) knots.push({ t: k * s.period + p.at, v: p.level });
    for (let i = 0; i + 1 < knots.length; i++) {
      const a = knots[i] as { t: number; v: number };
      const b = knots[i + 1] as { t: number; v: number };
      if (b.t < 0 || a.t > eventSeconds) continue;
      out.push([a.t, a.v]);
      if (s.smooth) {
        const n = Math.max(1, Math.ceil((b.t - a.t) / s.resolution));
        for (let j = 1; j < n; j++) {
          const u = j / n;
          out.push([a.t + (b.t - a.t) * u, a.v + ((b.v - a.v) * (1 - Math.cos(Math.PI * u))) / 2]);
        }
      }
    }
    const last = knots.find((k) => k.t > eventSeconds);
    if (last) out.push([last.t, last.v]);
    return { fn: fromPoints(out) };
  },
} satisfies ShapeBlock<DiurnalSettings>;
