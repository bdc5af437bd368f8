/**
 * A constructed run with planted answers, shared by the report tests, the CLI test and the HTML
 * test: `cart` has 50 rps per task and takes 300 s to scale out after a 4x step at event 3600 s;
 * `search` hits a hot partition (SKU-000042) from 5040 s to 5160 s; `web` breaches its budget
 * exactly while `cart` is short of tasks.
 */
import { type FixtureSpec, fixtureActivity, writeFixtureRun } from './fixture-run.ts';

/** The planted numbers. */
export const KNOWN = {
  capacityPerTask: 50,
  stepAt: 3600,
  stepEnd: 5400,
  lagSeconds: 300,
  rateLow: 100,
  rateHigh: 400,
  tasksLow: 3,
  tasksHigh: 10,
  hotKey: 'SKU-000042',
  hotStart: 5040,
  hotEnd: 5160,
  eventEnd: 7200,
} as const;

const high = (t: number) => t >= KNOWN.stepAt && t < KNOWN.stepEnd;
const cartRps = (t: number) => (high(t) ? KNOWN.rateHigh : KNOWN.rateLow);
const cartTasks = (t: number) =>
  t >= KNOWN.stepAt + KNOWN.lagSeconds && t < KNOWN.stepEnd + 600 ? KNOWN.tasksHigh : KNOWN.tasksLow;
const short = (t: number) => t >= KNOWN.stepAt && t < KNOWN.stepAt + KNOWN.lagSeconds;
const hot = (t: number) => t >= KNOWN.hotStart && t < KNOWN.hotEnd;

/** The fixture spec (simulated-style unless overridden). */
export function knownScenarioSpec(over: Partial<FixtureSpec> = {}): FixtureSpec {
  return {
    mode: 'simulated',
    eventEnd: KNOWN.eventEnd,
    timeScale: 1,
    seriesInterval: 60,
    period: 60,
    channels: [
      {
        name: 'web',
        rps: (t) => cartRps(t) * 0.7,
        latencyMs: (t) => (short(t) ? 2000 : hot(t) ? 1200 : 120),
        errorRate: (t) => (short(t) ? 0.05 : 0),
        ordersPerSecond: (t) => (high(t) ? 4 : 1),
      },
      {
        name: 'mobile-app',
        rps: (t) => cartRps(t) * 0.3,
        latencyMs: (t) => (short(t) ? 900 : 150),
        ordersPerSecond: (t) => (high(t) ? 2 : 0.5),
      },
    ],
    services: [
      {
        name: 'cart',
        requests: (t) => cartRps(t) * 60,
        running: cartTasks,
        desired: (t) => (t >= KNOWN.stepAt + 120 && t < KNOWN.stepEnd + 600 ? KNOWN.tasksHigh : cartTasks(t)),
        cpu: (t) => Math.min(1, cartRps(t) / (cartTasks(t) * KNOWN.capacityPerTask)),
      },
      {
        name: 'search',
        requests: () => 30 * 60,
        running: () => 2,
        cpu: () => 0.3,
        store: (t) => ({
          table: 'catalog',
          readUnits: 3000,
          writeUnits: 10,
          throttles: hot(t) ? 250 : 0,
          ...(hot(t) ? { hotKey: KNOWN.hotKey } : {}),
        }),
      },
    ],
    activities: [fixtureActivity('cart', KNOWN.stepAt + 120, KNOWN.tasksLow, KNOWN.tasksHigh)],
    ...over,
  };
}

/** Writes the known scenario to `dir`. */
export function writeKnownScenario(dir: string, over: Partial<FixtureSpec> = {}): string {
  return writeFixtureRun(dir, knownScenarioSpec(over));
}
