import { describe, expect, it } from 'vitest';
import { loadScaling } from '../../reference-stack/autoscaling/scaling-file.ts';
import { resolvePricing } from '../../simulation/pricing/pricing-table.ts';
import { computeHourlyCost, formatHourlyCost } from './hourly-cost.ts';

const scaling = loadScaling();
const pricing = resolvePricing();

describe('the hourly cost of the stack on AWS', () => {
  it('prices the idle headless stack from the topology, the scaling floor and the table', () => {
    const c = computeHourlyCost(
      { arch: 'headless', scaling, natGateways: 0, cpuArchitecture: 'arm64', spot: false },
      pricing,
    );
    // 2 tasks each: gateway, storefront and pricing 0.5 vCPU / 1 GB, six services 0.25 / 0.5 -> 6 vCPU, 12 GB.
    const fargate = 6 * 0.03238 + 12 * 0.00356;
    const fixed = 0.0225 + 2 * 0.005 + 6 * 2 * 0.01;
    expect(c.usdPerHour).toBeCloseTo(fargate + fixed, 6);
    expect(c.lines.filter((l) => l.item.startsWith('Fargate'))).toHaveLength(9);
  });

  it('adds the NAT gateway when asked, uses x86 prices for x86, and prices the tasks a rehearsal needs', () => {
    const idle = computeHourlyCost(
      { arch: 'monolith', scaling, natGateways: 0, cpuArchitecture: 'arm64', spot: false },
      pricing,
    );
    const nat = computeHourlyCost(
      { arch: 'monolith', scaling, natGateways: 1, cpuArchitecture: 'arm64', spot: false },
      pricing,
    );
    expect(nat.usdPerHour - idle.usdPerHour).toBeCloseTo(0.045, 6);
    const x86 = computeHourlyCost(
      { arch: 'monolith', scaling, natGateways: 0, cpuArchitecture: 'x86_64', spot: false },
      pricing,
    );
    expect(x86.usdPerHour - idle.usdPerHour).toBeCloseTo(
      2 * (0.04048 - 0.03238) + 4 * (0.004445 - 0.00356),
      6,
    );
    const busy = computeHourlyCost(
      {
        arch: 'monolith',
        scaling,
        natGateways: 0,
        cpuArchitecture: 'arm64',
        spot: false,
        tasks: { monolith: 10 },
      },
      pricing,
    );
    expect(busy.usdPerHour - idle.usdPerHour).toBeCloseTo(8 * (0.03238 + 2 * 0.00356), 6);
  });

  it('marks lines resting on unverified prices and says Spot is priced as on-demand', () => {
    const c = computeHourlyCost(
      { arch: 'headless', scaling, natGateways: 0, cpuArchitecture: 'arm64', spot: true },
      pricing,
    );
    const text = formatHourlyCost(c);
    expect(text).toMatch(/VPC interface endpoints .* \*/);
    expect(text).toMatch(/Spot is priced here as on-demand/);
    expect(text).toMatch(/EventBridge: \$1 per million events/);
  });
});
