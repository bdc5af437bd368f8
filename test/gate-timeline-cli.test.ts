/**
 * `peakday gate` on budgets that need the timeline (`service_cpu{service:cart}: ['max<80']`), through
 * the CLI: an imported k6 run, its account's metrics collected from the local AWS endpoint with one
 * service's CPU missing for a minute. A budget on data that is missing is no verdict (98) and says
 * which service, metric and minutes; one on data that is there passes (0) or breaches (99); a run
 * never collected is 98; a timeline budget without its service is exit 2 at file:line:column.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { K6_FIXTURES } from '../engine/k6/stand-in.ts';
import { startFakeAws } from '../telemetry/test-aws-server.ts';
import { localAwsEnv, runCli } from './cli-helper.ts';

interface GateJson {
  exitCode: number;
  results: { name: string; verdict: string; reason: string; notes: string[]; observed: number | null }[];
}

describe('gate on timeline budgets', () => {
  it('is 98 naming service, metric and minutes when the data a budget needs is missing; 0 or 99 on data that is there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-gate-timeline-'));
    const run = join(dir, 'run');
    expect(
      (await runCli(['import', 'k6', join(K6_FIXTURES, 'channels.out.ndjson'), '--out', run])).code,
    ).toBe(0);
    const meta = JSON.parse(readFileSync(join(run, 'meta.json'), 'utf8'));
    const firstMinute = Math.floor(Date.parse(meta.startedAt) / 60_000) * 60;
    const aws = await startFakeAws({
      cluster: 'shop',
      services: [
        { name: 'catalog', taskDefinition: 'catalog:1' },
        { name: 'cart', taskDefinition: 'cart:1' },
      ],
      metric: (key, ts) => {
        if (key.name === 'RunningTaskCount' || key.name === 'DesiredTaskCount') return 2;
        if (key.name === 'PendingTaskCount') return 0;
        if (key.name === 'MemoryUtilization') return 40;
        if (key.name !== 'CPUUtilization') return undefined;
        if (key.service === 'catalog') return 55;
        // cart's CPU is not reported for the run's minute (only for the one after it).
        return ts === firstMinute ? undefined : 30;
      },
      activities: [],
    });
    try {
      const c = await runCli(['collect', run, '--source', 'cloudwatch', '--cluster', 'shop'], {
        env: localAwsEnv(aws.url),
      });
      expect(c.code, c.stderr).toBe(0);
    } finally {
      await aws.close();
    }
    // The fixture run (3.6 s) lies in CloudWatch's minute 00:37; collect reads one period past it.
    const cartRecords = readFileSync(join(run, 'timeline.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.service === 'cart');
    expect(cartRecords.map((r) => [r.t, r.cpu, r.missing ?? []])).toEqual([
      [-56, null, ['cpu']],
      [4, 30, []],
    ]);

    const gate = async (thresholds: string, runDir = run) => {
      const file = join(dir, `budgets-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(file, `thresholds:\n${thresholds}`);
      const r = await runCli(['gate', runDir, '--budgets', file, '--json']);
      return {
        code: r.code,
        stderr: r.stderr,
        file,
        json: r.stdout ? (JSON.parse(r.stdout) as GateJson) : null,
      };
    };

    const missing = await gate(`  service_cpu{service:cart}: ['max<80']\n`);
    expect(missing.code).toBe(98);
    expect(missing.json?.results[0]?.verdict).toBe('inconclusive');
    expect(missing.json?.results[0]?.reason).toBe(
      'cart: CPU utilisation (cpu) missing in 1 of 1 periods (event -56–4 s, 00:37–00:38 UTC): no period has a datapoint',
    );

    const held = await gate(
      `  service_cpu{service:catalog}: ['max<80']\n  service_running_tasks{service:catalog}: ['min>=2']\n`,
    );
    expect(held.code).toBe(0);
    expect(held.json?.results.map((r) => [r.verdict, r.observed])).toEqual([
      ['pass', 55],
      ['pass', 2],
    ]);

    const breached = await gate(`  service_cpu{service:catalog}: ['max<50']\n`);
    expect(breached.code).toBe(99);
    expect(breached.json?.results[0]?.reason).toBe('max<50: observed 55 over 1 timeline periods of catalog');

    // A run never collected has no timeline: no verdict, and what to do.
    const bare = join(dir, 'bare');
    expect(
      (await runCli(['import', 'k6', join(K6_FIXTURES, 'channels.out.ndjson'), '--out', bare])).code,
    ).toBe(0);
    const none = await gate(`  service_cpu{service:catalog}: ['max<80']\n`, bare);
    expect(none.code).toBe(98);
    expect(none.json?.results[0]?.reason).toMatch(
      /the run has no timeline \(timeline\.ndjson\).*peakday collect/,
    );

    // Without its service: bad input at file:line:column, exit 2.
    const bad = await gate(`  service_cpu: ['max<80']\n`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${bad.file}:2:16: thresholds.service_cpu`);
    expect(bad.stderr).toMatch(/service_cpu needs the service it reads/);
    expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
