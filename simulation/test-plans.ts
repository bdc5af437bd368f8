/**
 * Constructed plans for simulator tests: one or more scenarios with known, simple rate shapes, so a
 * test can compute the right answer by hand (capacity, backlog, throttling) and compare.
 */
import type { Journey, JourneyStep } from '../scenarios/journey.ts';
import { PLAN_FORMAT_VERSION, type Plan, type PlanScenario } from '../scenarios/plan.ts';

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

/** A plan at time scale 1 whose scenarios follow the given (times, rates) in iterations/s. */
export function constructedPlan(
  scenarios: { channel: string; journey: Journey; times: number[]; rates: number[] }[],
): Plan {
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
      iterations: it,
      maxConcurrency: 1000,
    };
  });
  const iterations = planScenarios.reduce((a, s) => a + s.iterations, 0);
  const peak = Math.max(...scenarios.flatMap((s) => s.rates));
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    profile: { name: 'constructed', hash: 'test', eventSeconds: eventEnd - eventStart },
    seed: 1,
    eventStart,
    eventEnd,
    timeScale: 1,
    durationSeconds: eventEnd - eventStart,
    baselineRps: Math.min(...scenarios.flatMap((s) => s.rates)),
    peakRps: peak,
    arrivals: 'even',
    scenarios: planScenarios,
    journeys: Object.fromEntries(scenarios.map((s) => [s.journey.name, s.journey])),
    windows: [],
    bursts: [],
    iterations,
    requests: planScenarios.reduce((a, s) => a + s.iterations * s.requestsPerIteration, 0),
  };
}
