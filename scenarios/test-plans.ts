/**
 * Constructed plans for simulator tests: one or more scenarios with known, simple rate shapes, so a
 * test can compute the right answer by hand (capacity, backlog, throttling) and compare.
 */
import type { Journey, JourneyStep } from './journey.ts';
import { PLAN_FORMAT_VERSION, type Plan, type PlanScenario } from './plan.ts';

/** A one-step journey calling `operation` (a contract operation id), optionally on a hot pool key. */
export function oneStepJourney(name: string, operation: string, hot = false): Journey {
  const step: JourneyStep = {
    name: 'only',
    method: 'GET',
    path: hot ? '/api/products/{{productId}}' : '/api/products/p-000001',
    operation,
  };
  return {
    name,
    steps: [step],
    requestsPerIteration: 1,
    ...(hot ? { data: { productId: { pool: 'hotProductIds' } } } : {}),
  };
}

/**
 * Options of `constructedPlan` beyond its scenarios (the engine's tests play plans at other time
 * scales, seeds and arrival models through engine/test-support.ts).
 */
export interface ConstructedPlanOptions {
  /** Event seconds per wall second; default 1. */
  timeScale?: number;
  seed?: number;
  arrivals?: Plan['arrivals'];
  /** The plan's profile name; default `constructed`. */
  profileName?: string;
}

/**
 * A plan whose scenarios follow the given (times in event seconds, rates in iterations per wall
 * second), at time scale 1 unless `opts.timeScale` says otherwise.
 */
export function constructedPlan(
  scenarios: {
    channel: string;
    journey: Journey;
    times: number[];
    rates: number[];
    /** Concurrency cap; default 1000. */
    maxConcurrency?: number;
  }[],
  opts: ConstructedPlanOptions = {},
): Plan {
  const timeScale = opts.timeScale ?? 1;
  const eventStart = Math.min(...scenarios.map((s) => s.times[0] as number));
  const eventEnd = Math.max(...scenarios.map((s) => s.times[s.times.length - 1] as number));
  const planScenarios: PlanScenario[] = scenarios.map((s) => {
    let it = 0;
    for (let i = 0; i + 1 < s.times.length; i++)
      it +=
        (((s.rates[i] as number) + (s.rates[i + 1] as number)) / 2) *
        ((s.times[i + 1] as number) - (s.times[i] as number));
    return {
      id: `${s.channel}/${s.journey.name}`,
      channel: s.channel,
      journey: s.journey.name,
      requestsPerIteration: s.journey.requestsPerIteration,
      times: s.times,
      rates: s.rates,
      // Rates are per wall second and times event seconds: a scale of N plays the range in 1/N of it.
      iterations: it / timeScale,
      maxConcurrency: s.maxConcurrency ?? 1000,
    };
  });
  const iterations = planScenarios.reduce((a, s) => a + s.iterations, 0);
  const peak = Math.max(...scenarios.flatMap((s) => s.rates));
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    profile: { name: opts.profileName ?? 'constructed', hash: 'test', eventSeconds: eventEnd - eventStart },
    seed: opts.seed ?? 1,
    eventStart,
    eventEnd,
    timeScale,
    durationSeconds: (eventEnd - eventStart) / timeScale,
    baselineRps: Math.min(...scenarios.flatMap((s) => s.rates)),
    peakRps: peak,
    arrivals: opts.arrivals ?? 'even',
    scenarios: planScenarios,
    journeys: Object.fromEntries(scenarios.map((s) => [s.journey.name, s.journey])),
    windows: [],
    bursts: [],
    iterations,
    requests: planScenarios.reduce((a, s) => a + s.iterations * s.requestsPerIteration, 0),
  };
}
