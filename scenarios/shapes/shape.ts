/**
 * The shared base of the shape building blocks (one file per block in this folder, found through
 * the registry in `index.ts`). A block parses its own YAML mapping (reporting every problem through
 * the checker, located) and compiles to a piecewise-linear function of event time that the profile
 * composes by adding or multiplying, in the order the blocks are written.
 */
import type { Rng } from '../../core/rng.ts';
import type { Checker, DocPath } from '../../core/yaml-source.ts';
import type { PlanBurst, PlanWindow } from '../plan.ts';
import type { PiecewiseLinear } from '../rate-function.ts';

/** How a block combines with the level composed so far. */
export type ShapeOp = 'add' | 'multiply';

/** What a block needs to know while parsing: the event's length, to reject times outside it. */
export interface ShapeParseContext {
  eventSeconds: number;
}

/** A parsed block: its type, how it composes, and its block-specific settings. */
export interface ShapeSpec<T = unknown> {
  type: string;
  op: ShapeOp;
  /** YAML path of the block, to locate problems found later (compile-time checks). */
  path: DocPath;
  settings: T;
}

/** What compiling a block yields. */
export interface ShapeOutput {
  fn: PiecewiseLinear;
  bursts?: PlanBurst[];
  windows?: PlanWindow[];
  /** For `baseline` blocks: the level this block contributes to "normal" traffic. */
  baselineLevel?: number;
  /** Noise is applied after every other block, whatever its position. */
  last?: boolean;
}

/** One building block: its keys, parser and compiler. */
export interface ShapeBlock<T> {
  /** One line for docs and hints. */
  summary: string;
  /** Keys its mapping accepts (besides `op`). */
  keys: readonly string[];
  /** Ops it accepts; the first is the default. */
  ops: readonly ShapeOp[];
  /** Reads the block's mapping; returns undefined after recording problems. */
  parse(c: Checker, path: DocPath, raw: Record<string, unknown>, ctx: ShapeParseContext): T | undefined;
  /** Compiles to a function over [0, eventSeconds]; `rng` is a stream for this block only. */
  compile(settings: T, eventSeconds: number, rng: Rng): ShapeOutput;
}

/** Event seconds a step edge takes: plans keep strictly increasing times, so a jump is a 1 ms ramp. */
export const STEP_EDGE_SECONDS = 0.001;

/** Reads an optional duration key, recording a problem when present and invalid. */
export function optionalDuration(
  c: Checker,
  path: DocPath,
  raw: Record<string, unknown>,
  key: string,
  fallback: number,
): number | undefined {
  if (raw[key] === undefined) return fallback;
  return c.duration([...path, key], raw[key]);
}

/** Reads a required duration key. */
export function requiredDuration(
  c: Checker,
  path: DocPath,
  raw: Record<string, unknown>,
  key: string,
): number | undefined {
  const v = c.required(path, raw, key, 'a duration like 90s, 10m or 1h30m');
  return v === undefined ? undefined : c.duration([...path, key], v);
}

/** Records a problem when an event time lies outside [0, eventSeconds]. */
export function checkInEvent(
  c: Checker,
  path: DocPath,
  seconds: number | undefined,
  ctx: ShapeParseContext,
  what: string,
): void {
  if (seconds === undefined) return;
  if (seconds < 0 || seconds > ctx.eventSeconds + 1e-9) {
    c.add(path, `${what} is outside the event`, {
      expected: `a time between 0s and the event's duration (${ctx.eventSeconds}s)`,
      hint: 'move it inside the event or lengthen event.duration',
    });
  }
}
