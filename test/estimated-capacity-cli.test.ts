/**
 * A service with no per-service request metric (no target group, no Service Connect), as a user's
 * account has them: a k6 run imported through the CLI, its account's metrics collected from the local
 * AWS endpoint, and the report. The service's CPU follows the load run's rate × its share of traffic
 * on its tasks at a known capacity per task, so the estimate the report gives must be that capacity;
 * the scale-out lag must be measured from the load run's step, and both must say they are estimates.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeAws } from '../telemetry/test-aws-server.ts';
import { localAwsEnv, runCli } from './cli-helper.ts';

/** The load run: 1 req/s for 10 minutes, then 10 req/s for 10 minutes (a 10× step at +10 min). */
const rpsAtMinute = (m: number) => (m < 10 ? 1 : 10);
const MINUTES = 20;
/** cart's true capacity per task at 100% CPU (its own requests per second), and its share of the run's. */
const CART_RPS_PER_TASK = 5;
const CART_SHARE = 0.5;
/** cart runs 2 tasks, 4 from +15 min: 300 s after the step. */
const cartTasksAtMinute = (m: number) => (m < 15 ? 2 : 4);

/** A k6 JSON output (`--out json`) of that run, as k6 writes it: Metric declarations, then Points. */
function k6Output(t0Ms: number): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, contains: string) =>
    lines.push(
      JSON.stringify({
        type: 'Metric',
        data: { name, type, contains, thresholds: [], submetrics: null },
        metric: name,
      }),
    );
  metric('http_reqs', 'counter', 'default');
  metric('http_req_duration', 'trend', 'time');
  metric('http_req_failed', 'rate', 'default');
  const tags = {
    expected_response: 'true',
    group: '',
    method: 'GET',
    name: 'http://shop.example/cart',
    proto: 'HTTP/1.1',
    scenario: 'sale',
    status: '200',
    url: 'http://shop.example/cart',
  };
  for (let s = 0; s < MINUTES * 60; s++) {
    const n = rpsAtMinute(Math.floor(s / 60));
    for (let k = 0; k < n; k++) {
      const time = new Date(t0Ms + s * 1000 + Math.floor((k * 1000) / n)).toISOString();
      for (const [m, value] of [
        ['http_reqs', 1],
        ['http_req_duration', 42],
        ['http_req_failed', 0],
      ] as const)
        lines.push(JSON.stringify({ metric: m, type: 'Point', data: { time, value, tags } }));
    }
  }
  return `${lines.join('\n')}\n`;
}

interface ReportJson {
  findings: {
    id: string;
    kind: string;
    service?: string;
    title: string;
    value?: number;
    evidence: string[];
    data?: Record<string, unknown>;
  }[];
  services: { name: string; capacity: { method: string; rpsPerTask: number | null; evidence: string } }[];
  recommendations: { items: { service: string; assumptions: string[] }[] };
}

describe('a service without a request metric: capacity and scale-out lag estimated from the load run', () => {
  it('gives cart its true capacity per task from CPU alone, labelled an estimate, and the 300-s lag from the load run’s step', async () => {
    // Minute-aligned, 40 minutes ago: CloudWatch keeps 1-minute data for it.
    const t0Ms = Math.floor(Date.now() / 60_000) * 60_000 - 40 * 60_000;
    const minuteOf = (epochSeconds: number) => Math.floor((epochSeconds * 1000 - t0Ms) / 60_000);
    const aws = await startFakeAws({
      cluster: 'shop',
      services: [
        { name: 'cart', taskDefinition: 'cart:3', cpu: '512', memory: '1024' },
        {
          name: 'catalog',
          taskDefinition: 'catalog:7',
          targetGroupArn:
            'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/catalog/6d0ecf831eec9f09',
        },
      ],
      loadBalancers: { 'targetgroup/catalog/6d0ecf831eec9f09': 'app/shop/50dc6c495c0c9188' },
      metric: (key, ts) => {
        const m = minuteOf(ts);
        if (m < 0 || m >= MINUTES) return undefined;
        const edge = rpsAtMinute(m);
        if (key.service === 'cart' || key.dimensions?.ServiceName === 'cart') {
          const tasks = cartTasksAtMinute(m);
          if (key.name === 'RunningTaskCount') return tasks;
          if (key.name === 'DesiredTaskCount') return m < 14 ? 2 : 4;
          if (key.name === 'CPUUtilization') return ((edge * CART_SHARE) / (tasks * CART_RPS_PER_TASK)) * 100;
          return undefined;
        }
        // catalog: behind its own target group, with its own RequestCount (measured, not estimated).
        if (key.name === 'RunningTaskCount' || key.name === 'DesiredTaskCount') return 2;
        if (key.name === 'CPUUtilization') return ((edge * 0.25) / (2 * 20)) * 100 + 20;
        if (key.name === 'RequestCount' && key.targetGroup) return edge * 0.25 * 60;
        return undefined;
      },
      activities: [],
    });
    const env = localAwsEnv(aws.url);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'peakday-estimate-'));
      const output = join(dir, 'out.json');
      writeFileSync(output, k6Output(t0Ms));
      const run = join(dir, 'run');
      const imp = await runCli(['import', 'k6', output, '--out', run]);
      expect(imp.stderr).not.toMatch(/error/i);
      expect(imp.code).toBe(0);
      const c = await runCli(['collect', run, '--source', 'cloudwatch', '--cluster', 'shop'], { env });
      expect(c.code, c.stderr).toBe(0);

      const read = () => JSON.parse(readFileSync(join(run, 'report', 'report.json'), 'utf8')) as ReportJson;
      // With cart's share in peakday.config.yaml: capacity in cart's own requests.
      writeFileSync(
        join(dir, 'peakday.config.yaml'),
        `assumptions:\n  trafficShare:\n    cart: ${CART_SHARE}\n`,
      );
      const rep = await runCli(['report', run], { cwd: dir });
      expect(rep.code, rep.stderr).toBe(0);
      const report = read();
      const cart = report.services.find((s) => s.name === 'cart')!;
      expect(cart.capacity.method).toBe('estimated-cpu');
      expect(cart.capacity.rpsPerTask).toBeCloseTo(CART_RPS_PER_TASK, 6);
      const capFinding = report.findings.find((f) => f.id === 'capacity/cart')!;
      expect(capFinding.title).toMatch(/~5\.0 rps per task \(estimate from CPU\)/);
      expect(capFinding.evidence[0]).toMatch(
        /^estimate: cart has no per-service request metric, so its rate is the load run's request rate × assumptions\.trafficShare\.cart = 0\.5 \(user-set\)/,
      );
      // The step is the load run's (a constant share cancels in a ratio): 2 → 4 tasks 300 s later.
      const lag = report.findings.filter((f) => f.kind === 'scale-out-lag' && f.service === 'cart');
      expect(lag).toHaveLength(1);
      expect(lag[0]).toMatchObject({ value: 300 });
      expect(lag[0]!.data).toMatchObject({ stepAt: 600, tasksBefore: 2, tasksAfter: 4, lagSeconds: 300 });
      expect(lag[0]!.evidence[0]).toMatch(/^estimate: cart has no per-service request metric/);
      const rec = report.recommendations.items.find((r) => r.service === 'cart')!;
      expect(rec.assumptions.join('\n')).toMatch(/capacity per task and peak are estimates/);
      // catalog has its own request metric: measured, and nothing about it says estimate.
      const catalog = report.services.find((s) => s.name === 'catalog')!;
      expect(catalog.capacity.method).toBe('derived-cpu');
      expect(
        report.findings.filter((f) => f.service === 'catalog' && f.evidence.some((e) => /estimate:/.test(e))),
      ).toEqual([]);

      // Without a share: rates in the load run's requests, so capacity is 10 load-run req/s per task.
      writeFileSync(join(dir, 'peakday.config.yaml'), '{}\n');
      expect((await runCli(['report', run], { cwd: dir })).code).toBe(0);
      const noShare = read().services.find((s) => s.name === 'cart')!;
      expect(noShare.capacity.rpsPerTask).toBeCloseTo(CART_RPS_PER_TASK / CART_SHARE, 6);
      expect(noShare.capacity.evidence).toMatch(/share 1/);

      // A share that is not a number is a located config problem, exit 2.
      writeFileSync(join(dir, 'peakday.config.yaml'), 'assumptions:\n  trafficShare:\n    cart: half\n');
      const bad = await runCli(['report', run], { cwd: dir });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/assumptions\.trafficShare\.cart/);
      expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/);
    } finally {
      await aws.close();
    }
  });
});
