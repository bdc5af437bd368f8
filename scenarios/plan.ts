/**
 * The compiled plan: the exact, deterministic load a run plays. `compilePlan(profile, options)`
 * (scenarios/compile.ts) produces it; the engine, the k6 exporter and the simulator consume it.
 *
 * Units and clocks:
 * - `times` are event seconds (the profile's clock), strictly increasing, covering
 *   [eventStart, eventEnd].
 * - `rates` are iterations per *wall* second at those event times, as the target will see them
 *   (a run's `--peak-rps` is wall-clock requests per second). Between breakpoints the rate is linear
 *   in event time.
 * - Iterations of a scenario = ∫ rate dt_wall = (1/timeScale) ∫ rate dt_event.
 */
import type { Journey } from './journey.ts';

export const PLAN_FORMAT_VERSION = 1;

/** One (channel, journey) pair with its own arrival-rate function. */
export interface PlanScenario {
  /** `channel/journey`. */
  id: string;
  channel: string;
  journey: string;
  requestsPerIteration: number;
  /** Breakpoints in event seconds. */
  times: number[];
  /** Iterations per wall second at each breakpoint (piecewise linear between). */
  rates: number[];
  /** Exact integral of the rate function over the played range (iterations). */
  iterations: number;
  /** Concurrency cap (like k6 maxVUs): iterations beyond it are dropped and counted. */
  maxConcurrency: number;
}

/** A burst as compiled: its event-time span and its exact multiplier over the level before it. */
export interface PlanBurst {
  name: string;
  kind: 'doors-open' | 'flash-sale' | 'spike' | 'surge' | string;
  start: number;
  peakStart: number;
  peakEnd: number;
  end: number;
  multiplier: number;
}

export interface PlanWindow {
  name: string;
  start: number;
  end: number;
}

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  profile: { name: string; hash: string; eventSeconds: number; file?: string };
  seed: number;
  /** The played range of event time (whole event, or one or more windows merged). */
  eventStart: number;
  eventEnd: number;
  /** Window(s) played, if any. */
  window?: string;
  /** Event seconds per wall second. */
  timeScale: number;
  /** Wall-clock length of the run in seconds = (eventEnd - eventStart) / timeScale. */
  durationSeconds: number;
  /** HTTP requests per wall second at the profile's baseline level and at its highest level. */
  baselineRps: number;
  peakRps: number;
  /** How arrivals are spaced within the rate function. */
  arrivals: 'even' | 'poisson';
  scenarios: PlanScenario[];
  journeys: Record<string, Journey>;
  windows: PlanWindow[];
  bursts: PlanBurst[];
  /** Totals over all scenarios. */
  iterations: number;
  requests: number;
  /** Which segment of a split plan this is (`--segment i/N`), if any. */
  segment?: { index: number; count: number };
}
