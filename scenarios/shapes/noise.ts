/**
 * `noise`: seeded, deterministic jitter. A factor 1 ± amplitude drawn uniformly every `every`,
 * linear in between. It is applied after every other block wherever it is written, so bursts stay
 * exact multiples of the noise-free level ("10x is 10x"), and the same seed gives the same plan.
 */
import type { ShapeBlock } from './shape.ts';
import { optionalDuration } from './shape.ts';

/** Most noise points a profile may draw (keeps plans small and compile fast). */
export const MAX_NOISE_POINTS = 20_000;

/** Settings of a noise block. */
export interface NoiseSettings {
  amplitude: number;
  every: number;
}

/** The noise block. */
export const noiseBlock = {
  summary: 'seeded jitter: a factor 1 ± amplitude every `every` (applied last)',
  keys: ['amplitude', 'every'],
  ops: ['multiply'],
  parse(c, path, raw, ctx) {
    const amplitudeRaw = c.required(path, raw, 'amplitude', 'a number in [0, 1), e.g. 0.05');
    const amplitude =
      amplitudeRaw === undefined
        ? undefined
        : c.number([...path, 'amplitude'], amplitudeRaw, { min: 0, max: 0.99 });
    const every = optionalDuration(c, path, raw, 'every', 300);
    if (every !== undefined && every < 1) {
      c.add([...path, 'every'], `is ${every}s`, { expected: 'at least 1s' });
      return undefined;
    }
    if (every !== undefined && ctx.eventSeconds / every > MAX_NOISE_POINTS) {
      c.add([...path, 'every'], `would draw ${Math.ceil(ctx.eventSeconds / every)} points`, {
        expected: `at most ${MAX_NOISE_POINTS} over the event`,
        hint: 'lengthen every',
      });
      return undefined;
    }
    if (amplitude === undefined || every === undefined) return undefined;
    return { amplitude, every };
  },
  compile(s, eventSeconds, rng) {
    const n = Math.ceil(eventSeconds / s.every);
    const times: number[] = [];
    const values: number[] = [];
    for (let i = 0; i <= n; i++) {
      times.push(i * s.every);
      values.push(1 + s.amplitude * (2 * rng.next() - 1));
    }
    return { fn: { times, values }, last: true };
  },
} satisfies ShapeBlock<NoiseSettings>;
