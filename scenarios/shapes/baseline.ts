/**
 * `baseline`: the normal level of traffic, a constant. Its level is what `--baseline-rps` maps to,
 * so a profile states every other block relative to it (a 10x burst is ten times this level).
 */
import { constant } from '../rate-function.ts';
import type { ShapeBlock } from './shape.ts';

/** Settings of a baseline block. */
export interface BaselineSettings {
  level: number;
}

/** The baseline block (adds a constant level). */
export const baselineBlock = {
  summary: 'a constant level of normal traffic (the unit that --baseline-rps maps to)',
  keys: ['level'],
  ops: ['add'],
  parse(c, path, raw) {
    if (raw.level === undefined) return { level: 1 };
    const level = c.number([...path, 'level'], raw.level, { exclusiveMin: 0 });
    return level === undefined ? undefined : { level };
  },
  compile(s) {
    return { fn: constant(s.level), baselineLevel: s.level };
  },
} satisfies ShapeBlock<BaselineSettings>;
