import { describe, expect, it } from 'vitest';
import { attributeWindow, type Bottleneck } from './breaches.ts';

const svc = (name: string, start: number, end: number, severity: number): Bottleneck => ({
  kind: 'service',
  name,
  window: { start, end },
  severity,
});
const store = (table: string, start: number, end: number): Bottleneck => ({
  kind: 'store',
  name: 'catalog',
  table,
  window: { start, end },
  severity: 100,
});
const H = 3600;

describe('attributeWindow', () => {
  it.each([
    [
      'a 48-h breach goes to the service short for most of it, not an hour of throttling',
      { start: 0, end: 48 * H },
      [store('catalog', 0, H), svc('gateway', 0, 20 * H, 12.8), svc('gateway', 24 * H, 44 * H, 6)],
      'gateway short of capacity (peak utilisation 1280%) in 83% of the window',
    ],
    [
      'on equal cover a throttling store comes first',
      { start: 600, end: 720 },
      [svc('cart', 600, 720, 1.5), store('stock', 600, 720)],
      'throttling in table stock (via catalog)',
    ],
    [
      'on equal cover between services the more overloaded one',
      { start: 600, end: 720 },
      [svc('cart', 600, 720, 1.5), svc('pricing', 600, 720, 2.5)],
      'pricing short of capacity (peak utilisation 250%)',
    ],
    ['nothing overlapping: not explained', { start: 600, end: 720 }, [svc('cart', 0, 600, 3)], null],
  ])('%s', (_name, window, bottlenecks, expected) => {
    expect(attributeWindow(window, bottlenecks)).toBe(expected);
  });
});
