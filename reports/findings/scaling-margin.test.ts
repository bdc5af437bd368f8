import { describe, expect, it } from 'vitest';
import type { CalibrationFile } from '../../core/calibration-file.ts';
import type { ScalingActivity } from '../../core/run-format.ts';
import { createScalingState, decide } from '../../reference-stack/autoscaling/decide.ts';
import {
  cpuTargetPolicy,
  historyOf,
  serviceScaling,
} from '../../reference-stack/autoscaling/test-fixtures.ts';
import { describeLiveMargins, scalingMarginFindings, scalingMargins } from './scaling-margin.ts';

/** The activities peakday's autoscaler records for a CPU held at `cpu` on 2 tasks, target 60. */
function scaleOutAt(cpu: number): ScalingActivity[] {
  const scaling = serviceScaling([cpuTargetPolicy(60, { alarms: { metricLagSeconds: 0 } })], {
    initialDesired: 2,
  });
  let state = createScalingState(scaling, { seed: 1, eventTime: 0 });
  const activities: ScalingActivity[] = [];
  const full = historyOf(180, { cpu: () => cpu });
  for (let t = 60; t <= 180; t += 60) {
    const r = decide(
      scaling,
      full.filter((d) => d.t + d.period <= t),
      state,
      t,
    );
    state = r.state;
    activities.push(...r.activities);
  }
  return activities;
}

const calibration = (uncertainty: number): CalibrationFile =>
  ({
    formatVersion: 1,
    kind: 'peakday-calibration',
    services: { catalog: { capacityRpsPerTask: 27, efficiency: 1.01, uncertainty, provenance: 'measured' } },
  }) as unknown as CalibrationFile;

describe('scale-outs near a boundary', () => {
  it('measures how far the value read was from asking for fewer tasks (91.5% of CPU on 2 tasks, target 60: 90)', () => {
    const [m] = scalingMargins(scaleOutAt(91.5));
    expect(m).toMatchObject({ service: 'catalog', from: 2, to: 4, side: 'lower', lower: 90, upper: 120 });
    expect(m?.margin).toBeCloseTo(1.5 / 91.5, 9);
  });

  it('reports a decision within the margin, and says whether the measured capacity spans it', () => {
    const margins = scalingMargins(scaleOutAt(91.5));
    const inside = scalingMarginFindings(margins, () => 'measured', 0.05, calibration(0.017));
    expect(inside).toHaveLength(1);
    expect(inside[0]?.title).toBe("catalog's scale-out to 4 tasks at 00:03 was 1.6% from asking for fewer");
    expect(inside[0]?.evidence.join('\n')).toContain('at or below 90 (1.6% lower) it asks for fewer tasks');
    expect(inside[0]?.evidence.join('\n')).toContain('±1.7%: the margin is inside it');
    const outside = scalingMarginFindings(margins, () => 'measured', 0.05, calibration(0.01));
    expect(outside[0]?.evidence.join('\n')).toContain('±1.0%: the margin is outside it');
  });

  it('leaves out a decision farther than the margin (99% on 2 tasks: 9.1% above 90, 21% below 120)', () => {
    const margins = scalingMargins(scaleOutAt(99));
    expect(margins).toHaveLength(1);
    expect(scalingMarginFindings(margins, () => 'measured', 0.05, null)).toEqual([]);
    expect(scalingMarginFindings(margins, () => 'measured', 0.1, null)).toHaveLength(1);
  });

  it('names the upper side when more load was nearer: 118% of a request target on 2 tasks asks 4, 120 asks 5', () => {
    const [m] = scalingMargins(scaleOutAt(118));
    expect(m).toMatchObject({ to: 4, side: 'upper', upper: 120 });
    const [f] = scalingMarginFindings([m!], () => 'simulated', 0.05, null);
    expect(f?.title).toContain('from asking for more');
    expect(f?.provenance).toBe('simulated');
  });

  it("lists the live run's knees beside what each replay decided at the same time", () => {
    const lines = describeLiveMargins(
      scaleOutAt(90.5),
      [
        { label: 'replay, measured capacity', activities: scaleOutAt(88) },
        { label: 'replay, model table', activities: scaleOutAt(91.5) },
        { label: 'replay that did not scale', activities: [] },
        {
          label: 'replay a minute later',
          activities: scaleOutAt(91.5).map((a) => ({ ...a, eventTime: 240 })),
        },
      ],
      0.05,
      calibration(0.009),
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      '- catalog at 00:03: ECSServiceAverageCPUUtilization 90.50 → 2 to 4 tasks; at or below 90 (0.6% lower) fewer (capacity measured ±0.9%). replay, measured capacity: 88 → 2 to 3 tasks; replay, model table: 91.50 → 2 to 4 tasks; replay that did not scale: no scale-out within 2 min; replay a minute later: 91.50 → 2 to 4 tasks at 00:04.',
    );
    expect(describeLiveMargins(scaleOutAt(99), [], 0.05, null)).toEqual([]);
  });

  it('reads nothing from activities without a boundary (AWS does not report the value)', () => {
    const fromAws = scaleOutAt(91.5).map(({ boundary: _, ...a }) => a);
    expect(scalingMargins(fromAws)).toEqual([]);
  });
});
