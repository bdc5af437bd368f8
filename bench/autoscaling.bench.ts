/**
 * Autoscaler decision benchmark: decide() for 8 services at every 60-s period of a 96-hour event
 * (46,080 decisions), with CPU swinging daily between 20% and 140% of target so services scale
 * between 2 and up to 2,000 tasks. Prints decisions per second and the largest fleet; the simulator
 * calls decide() exactly like this.
 */
import { createScalingState, decide } from '../reference-stack/autoscaling/decide.ts';
import { cpuTargetPolicy, serviceScaling } from '../reference-stack/autoscaling/test-fixtures.ts';
import type { MetricDatapoint, ScalingState } from '../reference-stack/autoscaling/types.ts';

const HOURS = 96;
const SERVICES = 8;
const scaling = serviceScaling([cpuTargetPolicy(60)], {
  minCapacity: 2,
  maxCapacity: 2000,
  initialDesired: 2,
});
const states: ScalingState[] = Array.from({ length: SERVICES }, (_, i) =>
  createScalingState({ ...scaling, service: `s${i}` }, { seed: i + 1, eventTime: 0 }),
);
const histories: MetricDatapoint[][] = Array.from({ length: SERVICES }, () => []);
/** Demand in task-equivalents at 100% CPU: a daily wave from 1 to 1,200 tasks' worth. */
const demand = (t: number, i: number) =>
  1 + 1199 * Math.max(0, Math.sin((2 * Math.PI * (t + i * 600)) / 86_400)) ** 2;

let decisions = 0;
let activities = 0;
let largest = 0;
const t0 = performance.now();
for (let t = 0; t < HOURS * 3600; t += 60) {
  for (let i = 0; i < SERVICES; i++) {
    const state = states[i] as ScalingState;
    const healthy = Math.max(1, state.tasks.filter((x) => x.healthyAt <= t).length);
    const history = histories[i] as MetricDatapoint[];
    history.push({
      t,
      period: 60,
      cpu: Math.min(100, (demand(t, i) / healthy) * 100),
      memory: null,
      requestsPerTarget: null,
    });
    if (history.length > 64) history.splice(0, history.length - 64);
    const r = decide(scaling, history, state, t + 60);
    states[i] = r.state;
    decisions++;
    activities += r.activities.length;
    largest = Math.max(largest, r.state.desired);
  }
}
const ms = performance.now() - t0;
console.log(`decide(): ${decisions} decisions over ${HOURS} h × ${SERVICES} services in ${ms.toFixed(0)} ms`);
console.log(
  `  ${((decisions / ms) * 1000).toFixed(0)} decisions/s, ${activities} activities, largest fleet ${largest} tasks`,
);
