import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../../core/errors.ts';
import { parseYamlSource } from '../../core/yaml-source.ts';
import { loadScaling, parseScaling, serviceScalingFor } from './scaling-file.ts';

const parse = (text: string) => parseScaling(parseYamlSource(text, 'scaling.yaml'));

function problemsOf(text: string) {
  try {
    parse(text);
  } catch (e) {
    if (e instanceof PeakdayError) return e.problems;
    throw e;
  }
  throw new Error('expected the file to be rejected');
}

describe('the default scaling file', () => {
  it('loads and scales every service of both topologies with the documented cooldowns and observed alarms', () => {
    const config = loadScaling();
    const names = [
      'gateway',
      'storefront',
      'catalog',
      'search',
      'pricing',
      'cart',
      'inventory',
      'checkout',
      'orders',
      'monolith',
    ];
    expect(Object.keys(config.services).sort()).toEqual([...names].sort());
    for (const name of names) {
      const s = config.services[name];
      expect(s?.resourceId).toBe(`service/peakday/${name}`);
      expect(s?.minCapacity).toBe(2);
      const p = s?.policies[0];
      expect(p).toMatchObject({
        type: 'TargetTrackingScaling',
        metric: 'ECSServiceAverageCPUUtilization',
        scaleOutCooldown: 300,
        scaleInCooldown: 300,
        alarms: { periodSeconds: 60, scaleOutDatapoints: 3, scaleInDatapoints: 15, scaleInRatio: 0.9 },
      });
      expect(s?.launch.startLatency).toEqual({ distribution: 'uniform', minSeconds: 30, maxSeconds: 60 });
    }
    expect(config.services.gateway?.maxCapacity).toBe(20);
  });

  it('gives a service the file does not list a fixed capacity', () => {
    const s = serviceScalingFor(loadScaling(), 'bus', 1);
    expect([s.minCapacity, s.maxCapacity, s.policies.length]).toEqual([1, 1, 0]);
  });
});

describe('parsing', () => {
  it('reads step scaling and scheduled actions with durations', () => {
    const config = parse(`
cluster: shop
services:
  checkout:
    minCapacity: 2
    maxCapacity: 30
    policies:
      - name: steps
        type: StepScaling
        adjustmentType: PercentChangeInCapacity
        minAdjustmentMagnitude: 2
        cooldown: 2m
        stepAdjustments:
          - { lowerBound: 0, upperBound: 20, scalingAdjustment: 50 }
          - { lowerBound: 20, scalingAdjustment: 100 }
        alarm: { metric: CPUUtilization, comparison: GreaterThanThreshold, threshold: 70, evaluationPeriods: 2 }
    scheduledActions:
      - { name: pre-warm, at: 55m, minCapacity: 10 }
`);
    const s = config.services.checkout;
    expect(s?.resourceId).toBe('service/shop/checkout');
    expect(s?.policies[0]).toMatchObject({
      type: 'StepScaling',
      cooldown: 120,
      minAdjustmentMagnitude: 2,
      alarm: { periodSeconds: 60, evaluationPeriods: 2, datapointsToAlarm: 2, threshold: 70 },
    });
    expect(s?.scheduledActions).toEqual([{ name: 'pre-warm', at: 3300, minCapacity: 10 }]);
  });

  const bad: { name: string; text: string; expect: { path?: string; line?: number; message: RegExp }[] }[] = [
    {
      name: 'reports a maximum below the minimum and an unknown metric, each located',
      text: `services:
  cart:
    minCapacity: 5
    maxCapacity: 2
    policies:
      - name: cpu
        type: TargetTrackingScaling
        metric: CPUUtilisation
        targetValue: 60
`,
      expect: [
        { path: 'services.cart.maxCapacity', line: 4, message: /below minCapacity/ },
        { path: 'services.cart.policies[0].metric', line: 8, message: /CPUUtilisation/ },
      ],
    },
    {
      name: 'reports a misspelt service, which would otherwise run unscaled',
      text: `services:
  catalg:
    minCapacity: 1
    maxCapacity: 2
`,
      expect: [{ path: 'services.catalg', line: 3, message: /not a service of the reference stack/ }],
    },
    {
      name: 'reports a misspelt key with a did-you-mean hint',
      text: `services:
  cart:
    minCapacity: 1
    maxCapacity: 2
    policies:
      - { name: cpu, type: TargetTrackingScaling, metric: ECSServiceAverageCPUUtilization, targetValue: 60, scaleOutCoolDown: 60s }
`,
      expect: [{ path: 'services.cart.policies[0].scaleOutCoolDown', line: 6, message: /unknown key/ }],
    },
    {
      name: 'reports a cooldown given as a bare number and overlapping steps',
      text: `services:
  cart:
    minCapacity: 1
    maxCapacity: 4
    policies:
      - name: s
        type: StepScaling
        adjustmentType: ChangeInCapacity
        cooldown: 300
        stepAdjustments:
          - { lowerBound: 0, upperBound: 20, scalingAdjustment: 1 }
          - { lowerBound: 10, scalingAdjustment: 2 }
        alarm: { metric: CPUUtilization, comparison: GreaterThanThreshold, threshold: 70 }
`,
      expect: [
        { path: 'services.cart.policies[0].cooldown', line: 9, message: /number/ },
        { path: 'services.cart.policies[0].stepAdjustments', message: /overlap/ },
      ],
    },
    {
      name: 'reports a step-scaling policy without its alarm and a scheduled action that sets nothing',
      text: `services:
  cart:
    minCapacity: 1
    maxCapacity: 4
    policies:
      - { name: s, type: StepScaling, adjustmentType: ExactCapacity, stepAdjustments: [{ lowerBound: 0, scalingAdjustment: 3 }] }
    scheduledActions:
      - { name: nothing, at: 10m }
`,
      expect: [
        { path: 'services.cart.policies[0]', message: /alarm/ },
        { path: 'services.cart.scheduledActions[0]', message: /neither/ },
      ],
    },
  ];
  for (const c of bad) {
    it(c.name, () => {
      const problems = problemsOf(c.text);
      for (const want of c.expect) {
        const hit = problems.find(
          (p) => p.path === want.path && want.message.test(p.message + (p.expected ?? '')),
        );
        expect(hit, `${want.path} ${want.message}: ${JSON.stringify(problems)}`).toBeDefined();
        if (want.line !== undefined) expect(hit?.line).toBe(want.line);
        expect(hit?.file).toBe('scaling.yaml');
      }
    });
  }

  it('rejects a missing file with exit 2', () => {
    expect(() => loadScaling('/nonexistent/scaling.yaml')).toThrow(/no such file/);
  });
});
