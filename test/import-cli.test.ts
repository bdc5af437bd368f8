/**
 * `peakday import k6` end to end: real k6 outputs (the repository's fixtures, and, when K6_BIN is set,
 * a real k6 run against a local server) imported through the CLI, then gated with the thresholds the
 * run brought: the verdicts must be k6's own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K6_FIXTURES } from '../engine/k6/stand-in.ts';
import { startFakeAws } from '../telemetry/test-aws-server.ts';
import { localAwsEnv, runCli } from './cli-helper.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'peakday-import-cli-'));

interface GateJson {
  exitCode: number;
  results: { name: string; verdict: string; reason: string; notes: string[]; observed: number | null }[];
}

/** Every gate verdict equals k6's (true = crossed), except budgets too thin for a verdict. */
function expectK6Verdicts(gate: GateJson, summary: Record<string, { thresholds?: Record<string, boolean> }>) {
  let judged = 0;
  for (const r of gate.results) {
    const i = r.name.lastIndexOf(': ');
    const key = r.name.slice(0, i);
    const expr = r.name.slice(i + 2);
    const crossed = summary[key]?.thresholds?.[expr];
    expect(crossed).toBeTypeOf('boolean');
    if (r.verdict === 'inconclusive') {
      expect(r.reason).toMatch(/fewer than the minimum/);
      continue;
    }
    judged++;
    expect({ key, expr, failed: r.verdict === 'fail' }).toEqual({ key, expr, failed: crossed });
  }
  return judged;
}

describe('peakday import k6 (end to end)', () => {
  it('imports the channels fixture with its summary; gate judges its thresholds as k6 did (exit 99)', async () => {
    const out = join(tmp(), 'run');
    const imp = await runCli([
      'import',
      'k6',
      join(K6_FIXTURES, 'channels.out.ndjson'),
      '--summary',
      join(K6_FIXTURES, 'channels.summary.json'),
      '--out',
      out,
    ]);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/counts match k6's summary/);
    expect(imp.stdout).toMatch(/4 thresholds from the summary/);
    const gate = await runCli(['gate', out, '--json']);
    expect(gate.code).toBe(99);
    const summary = JSON.parse(readFileSync(join(K6_FIXTURES, 'channels.summary.json'), 'utf8')).metrics;
    expect(expectK6Verdicts(JSON.parse(gate.stdout) as GateJson, summary)).toBe(3);
  });

  it('takes the thresholds from the script when there is no summary', async () => {
    const out = join(tmp(), 'run');
    const imp = await runCli([
      'import',
      'k6',
      join(K6_FIXTURES, 'channels.out.ndjson'),
      '--script',
      join(K6_FIXTURES, 'channels.js'),
      '--out',
      out,
    ]);
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/4 thresholds from the script/);
    const budgets = JSON.parse(readFileSync(join(out, 'budgets.json'), 'utf8'));
    expect(Object.keys(budgets.thresholds).sort()).toEqual([
      'checks{journey:checkout}',
      'http_req_duration{channel:web}',
      'http_req_duration{journey:checkout}',
      'http_req_failed',
    ]);
  });

  it('refuses what is not a k6 output with file:line and exit 2, and an existing run directory', async () => {
    const dir = tmp();
    const bad = join(dir, 'notes.txt');
    writeFileSync(bad, 'these are my notes\n');
    const r = await runCli(['import', 'k6', bad, '--out', join(dir, 'x')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/notes\.txt:1:1/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    const missing = await runCli(['import', 'k6', join(dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    const out = join(dir, 'run');
    expect((await runCli(['import', 'k6', join(K6_FIXTURES, 'dropped.out.ndjson'), '--out', out])).code).toBe(
      0,
    );
    const again = await runCli(['import', 'k6', join(K6_FIXTURES, 'dropped.out.ndjson'), '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a run/);
  });

  it('checks its flags into a typed request first: every bad tag and empty path at once, exit 2', async () => {
    const r = await runCli([
      'import',
      'k6',
      join(K6_FIXTURES, 'dropped.out.ndjson'),
      '--channel-tag',
      'my channel',
      '--step-tag',
      '',
      '--summary',
      '',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error[invalid-flag]: peakday import k6: 3 problems found');
    expect(r.stderr).toContain('--channel-tag: "my channel" is not a k6 tag name');
    expect(r.stderr).toContain('--step-tag: "" is not a k6 tag name');
    expect(r.stderr).toContain('--summary: is empty');
  });
});

describe('import then collect: one clock', () => {
  it('reads the account over the imported run’s wall-clock window, and a window without a run into a new directory', async () => {
    const seen: number[] = [];
    const aws = await startFakeAws({
      cluster: 'shop',
      services: [
        {
          name: 'catalog',
          taskDefinition: 'catalog:1',
          cpuArchitecture: 'ARM64',
          cpu: '1024',
          memory: '2048',
        },
        { name: 'cart', taskDefinition: 'cart:1' },
      ],
      // Container Insights reports catalog's tasks only: cart's task count is unknown, not zero.
      metric: (key, ts) => {
        if (key.name === 'RunningTaskCount') return key.service === 'catalog' ? 2 : undefined;
        if (key.name !== 'CPUUtilization') return undefined;
        if (key.service === 'catalog') seen.push(ts);
        return 50;
      },
      activities: [],
    });
    const env = localAwsEnv(aws.url);
    try {
      const out = join(tmp(), 'run');
      expect(
        (await runCli(['import', 'k6', join(K6_FIXTURES, 'channels.out.ndjson'), '--out', out])).code,
      ).toBe(0);
      const c = await runCli(['collect', out, '--source', 'cloudwatch', '--cluster', 'shop', '--json'], {
        env,
      });
      // Only the progress line: no AWS SDK warning reaches the terminal.
      expect(c.stderr.trim()).toBe(`collecting cloudwatch telemetry into ${out}`);
      expect(c.code).toBe(0);
      const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
      const startedAtMs = Date.parse(meta.startedAt);
      const timeline = readFileSync(join(out, 'timeline.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { t: number; cpu: number; service: string })
        .filter((r) => r.service === 'catalog');
      // The k6 run lasted 3.6 s of 00:37; CloudWatch's minute 00:37:00 is event time -56 s on the run's clock.
      expect(timeline.map((r) => r.t)).toEqual(seen.map((ts) => ts - startedAtMs / 1000));
      expect(timeline.map((r) => r.t)).toContain(-56);
      const info = JSON.parse(c.stdout);
      expect(info.discovered[0]).toMatchObject({ name: 'catalog', cpuArchitecture: 'ARM64', vcpu: 1 });
      // The report prices the discovered ARM64 1 vCPU / 2 GB task (Graviton prices) and shows collect's notes.
      const rep = await runCli(['report', out]);
      expect(rep.code).toBe(0);
      const report = JSON.parse(readFileSync(join(out, 'report', 'report.json'), 'utf8'));
      const compute = report.cost.lines.find((l: { service: string }) => l.service === 'catalog');
      expect(compute.item).toBe('Fargate arm 1 vCPU / 2 GB');
      expect(compute.note).toMatch(/discovered by collect/);
      expect(report.cost.lines.some((l: { service: string }) => l.service === 'cart')).toBe(false);
      expect(report.run.notes.join('\n')).toMatch(/cart: not priced: its task count is unknown/);
      expect(report.run.notes.join('\n')).toMatch(
        /collect \(cloudwatch\): catalog: neither a load balancer target group nor Service Connect/,
      );

      const win = join(tmp(), 'window');
      const w = await runCli(
        [
          'collect',
          '--source',
          'cloudwatch',
          '--cluster',
          'shop',
          '--from',
          '-2h',
          '--to',
          '-1h',
          '--out',
          win,
        ],
        { env },
      );
      expect(w.code).toBe(0);
      const wmeta = JSON.parse(readFileSync(join(win, 'meta.json'), 'utf8'));
      expect(wmeta.driver).toBe('none');
      expect(Date.parse(wmeta.endedAt) - Date.parse(wmeta.startedAt)).toBe(3_600_000);
      const bad = await runCli(
        ['collect', '--source', 'cloudwatch', '--cluster', 'shop', '--from', 'yesterday'],
        { env },
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--from: "yesterday" is neither an ISO 8601 time/);
      const none = await runCli(['collect', '--source', 'cloudwatch', '--cluster', 'shop'], { env });
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/needs a run directory or a window/);
    } finally {
      await aws.close();
    }
  });
});

describe.runIf(process.env.K6_BIN)(
  'peakday import k6 on a real k6 run (custom metrics, drops, groups)',
  () => {
    let server: Server;
    let dir = '';
    beforeAll(async () => {
      server = createServer((req, res) => {
        setTimeout(
          () => {
            res.writeHead(req.url?.startsWith('/fail') ? 503 : 200);
            res.end('ok');
          },
          req.url?.startsWith('/slow') ? 150 : 0,
        );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      dir = tmp();
      writeFileSync(
        join(dir, 'script.js'),
        `import http from 'k6/http';
import { check, group } from 'k6';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
const cartValue = new Trend('cart_value');
const orders = new Counter('orders_placed');
const paid = new Rate('paid_rate');
const queue = new Gauge('queue_depth');
const base = 'http://127.0.0.1:${port}';
export const options = {
  scenarios: {
    web: { executor: 'ramping-vus', startVUs: 1, stages: [{ duration: '2s', target: 3 }, { duration: '1s', target: 1 }], exec: 'browse', tags: { channel: 'web' } },
    sale: { executor: 'constant-arrival-rate', rate: 60, timeUnit: '1s', duration: '3s', preAllocatedVUs: 2, maxVUs: 3, exec: 'buy', tags: { channel: 'app' } },
  },
  thresholds: {
    cart_value: ['med>0', 'max<50'],
    orders_placed: ['count>10', 'count>100000'],
    paid_rate: ['rate>0.5'],
    queue_depth: ['value<100'],
    'http_req_duration{scenario:web}': ['p(95)<2000'],
    'http_req_duration{group:::checkout}': ['avg<1'],
    http_req_failed: ['rate<0.01'],
  },
};
export function browse() {
  group('home', () => { const r = http.get(base + '/'); check(r, { 'home ok': (x) => x.status === 200 }); });
  group('fail', () => { http.get(base + '/fail'); });
}
export function buy() {
  group('checkout', () => { const r = http.get(base + '/slow'); check(r, { paid: (x) => x.status === 200 });
    cartValue.add(10 + Math.random() * 90); orders.add(1); paid.add(r.status === 200); queue.add(__ITER % 7); });
}
`,
      );
      const status = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          process.env.K6_BIN as string,
          [
            'run',
            '--quiet',
            '--out',
            'json=out.json.gz',
            '--out',
            'csv=out.csv',
            '--summary-export',
            'summary.json',
            'script.js',
          ],
          { cwd: dir, stdio: 'ignore' },
        );
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
        child.on('error', reject);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
      });
      expect(status).toBe(99); // thresholds crossed by design
    }, 90_000);
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it.each(['out.json.gz', 'out.csv'])(
      '%s: imported, then gated with k6’s verdicts on built-in and custom metrics',
      async (file) => {
        const out = join(dir, `run-${file}`);
        const imp = await runCli([
          'import',
          'k6',
          join(dir, file),
          '--summary',
          join(dir, 'summary.json'),
          '--out',
          out,
        ]);
        expect(imp.code).toBe(0);
        expect(imp.stdout).toMatch(/counts match k6's summary/);
        const gate = await runCli(['gate', out, '--json']);
        expect(gate.code).toBe(99);
        const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).metrics;
        const g = JSON.parse(gate.stdout) as GateJson;
        expect(g.results).toHaveLength(9);
        // Every custom threshold (6) and the group and scenario filters get a verdict; the failed-request
        // rate too: 9 judged.
        expect(expectK6Verdicts(g, summary)).toBe(9);
      },
    );
  },
);
