/**
 * `burst`: a surge over the level: ramp up, plateau, decay, with a curve (linear, exponential or
 * step). It multiplies the level before noise, so on its plateau the level is exactly `multiplier`
 * times what it would be without the burst ("10x" is 10x). Doors-open surges and flash-sale spikes
 * are bursts; `schedule` repeats one. With `window: true` it also names a window of the same name.
 */
import type { Checker, DocPath } from '../../core/yaml-source.ts';
import type { PlanBurst } from '../plan.ts';
import { fromPoints } from '../rate-function.ts';
import type { ShapeBlock, ShapeParseContext } from './shape.ts';
import { checkInEvent, optionalDuration, STEP_EDGE_SECONDS } from './shape.ts';

/** Curves a burst can ramp and decay with. */
export const BURST_CURVES = ['linear', 'exponential', 'step'] as const;
export type BurstCurve = (typeof BURST_CURVES)[number];

/** The shape of one burst, without its position (shared with `schedule`). */
export interface BurstForm {
  kind: string;
  rampUp: number;
  plateau: number;
  decay: number;
  multiplier: number;
  curve: BurstCurve;
}

/** Settings of a burst block. */
export interface BurstSettings extends BurstForm {
  name: string;
  at: number;
  window: boolean;
}

/** Keys of a burst's form. */
export const BURST_FORM_KEYS = ['kind', 'rampUp', 'plateau', 'decay', 'multiplier', 'curve'] as const;

/** Reads a burst's form (kind, ramps, plateau, multiplier, curve). */
export function parseBurstForm(
  c: Checker,
  path: DocPath,
  raw: Record<string, unknown>,
): BurstForm | undefined {
  const kind = raw.kind === undefined ? 'spike' : c.string([...path, 'kind'], raw.kind);
  const rampUp = optionalDuration(c, path, raw, 'rampUp', 0);
  const decay = optionalDuration(c, path, raw, 'decay', 0);
  const plateauRaw = c.required(path, raw, 'plateau', 'a duration like 10m');
  const plateau = plateauRaw === undefined ? undefined : c.duration([...path, 'plateau'], plateauRaw);
  const multRaw = c.required(path, raw, 'multiplier', 'a number > 0, e.g. 10 for a 10x burst');
  const multiplier =
    multRaw === undefined
      ? undefined
      : c.number([...path, 'multiplier'], multRaw, { exclusiveMin: 0, max: 1e4 });
  const curve = raw.curve === undefined ? 'linear' : c.oneOf([...path, 'curve'], raw.curve, BURST_CURVES);
  if (plateau !== undefined && plateau <= 0) {
    c.add([...path, 'plateau'], 'must be longer than 0s');
    return undefined;
  }
  if (curve === 'step' && ((rampUp ?? 0) > 0 || (decay ?? 0) > 0)) {
    c.add([...path, 'curve'], 'a step burst has no ramp-up or decay', {
      hint: 'remove rampUp and decay, or use curve: linear or exponential',
    });
    return undefined;
  }
  if (
    kind === undefined ||
    rampUp === undefined ||
    decay === undefined ||
    plateau === undefined ||
    multiplier === undefined ||
    curve === undefined
  )
    return undefined;
  return { kind, rampUp, plateau, decay, multiplier, curve };
}

/** Total event seconds a burst of this form lasts. */
export function burstLength(f: BurstForm): number {
  return Math.max(f.rampUp, STEP_EDGE_SECONDS) + f.plateau + Math.max(f.decay, STEP_EDGE_SECONDS);
}

const CURVE_SAMPLES = 12;

/** The factor's breakpoints for one burst placed at `at`, and its compiled description. */
export function burstPoints(
  f: BurstForm,
  at: number,
  name: string,
): { points: [number, number][]; burst: PlanBurst } {
  const ramp = Math.max(f.rampUp, STEP_EDGE_SECONDS);
  const decay = Math.max(f.decay, STEP_EDGE_SECONDS);
  const peakStart = at + ramp;
  const peakEnd = peakStart + f.plateau;
  const end = peakEnd + decay;
  const n = f.multiplier;
  const points: [number, number][] = [[at, 1]];
  if (f.curve === 'exponential') {
    // Geometric growth 1 → N and back: the same relative change per unit of time.
    for (let i = 1; i < CURVE_SAMPLES; i++)
      points.push([at + (ramp * i) / CURVE_SAMPLES, n ** (i / CURVE_SAMPLES)]);
  }
  points.push([peakStart, n], [peakEnd, n]);
  if (f.curve === 'exponential') {
    for (let i = 1; i < CURVE_SAMPLES; i++)
      points.push([peakEnd + (decay * i) / CURVE_SAMPLES, n ** (1 - i / CURVE_SAMPLES)]);
  }
  points.push([end, 1]);
  return { points, burst: { name, kind: f.kind, start: at, peakStart, peakEnd, end, multiplier: n } };
}

/** Checks that a burst at `at` lies inside the event. */
export function checkBurstInEvent(
  c: Checker,
  path: DocPath,
  at: number,
  f: BurstForm,
  ctx: ShapeParseContext,
): boolean {
  if (at < 0 || at >= ctx.eventSeconds) {
    checkInEvent(c, [...path, 'at'], at === ctx.eventSeconds ? at + 1 : at, ctx, 'the burst start');
    return false;
  }
  const end = at + burstLength(f);
  if (end > ctx.eventSeconds + 1e-9) {
    c.add(path, `the burst ends at ${end}s, after the event (${ctx.eventSeconds}s)`, {
      expected: 'a burst whose ramp-up, plateau and decay end within the event',
      hint: 'start it earlier, shorten it, or lengthen event.duration',
    });
    return false;
  }
  return true;
}

/** The burst block. */
export const burstBlock = {
  summary: 'a surge: ramp up, plateau at `multiplier` times the level, decay',
  keys: ['name', 'at', 'window', ...BURST_FORM_KEYS],
  ops: ['multiply'],
  parse(c, path, raw, ctx) {
    const nameRaw = c.required(path, raw, 'name', 'a name like doors-open');
    const name = nameRaw === undefined ? undefined : c.string([...path, 'name'], nameRaw);
    const atRaw = c.required(path, raw, 'at', 'an event time like 0s or 2h');
    const at = atRaw === undefined ? undefined : c.duration([...path, 'at'], atRaw);
    const window = raw.window === undefined ? false : c.boolean([...path, 'window'], raw.window);
    const form = parseBurstForm(c, path, raw);
    if (name === undefined || at === undefined || window === undefined || !form) return undefined;
    if (!checkBurstInEvent(c, path, at, form, ctx)) return undefined;
    return { ...form, name, at, window };
  },
  compile(s) {
    const { points, burst } = burstPoints(s, s.at, s.name);
    return {
      fn: fromPoints(points),
      bursts: [burst],
      windows: s.window ? [{ name: s.name, start: burst.start, end: burst.end }] : [],
    };
  },
} satisfies ShapeBlock<BurstSettings>;
