import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmfWriter } from '../reference-stack/orchestrator/emf.ts';
import { telemetryPaths } from '../reference-stack/orchestrator/telemetry-files.ts';
import { type FakeAwsServer, startFakeAws } from '../telemetry/test-aws-server.ts';
import { writeTestRun } from '../telemetry/test-run-fixture.ts';
import { localAwsEnv, runCli, startCli } from './cli-helper.ts';

const START = Date.now() - 3_600_000;

describe('peakday collect', () => {
  let aws: FakeAwsServer;
  beforeAll(async () => {
    aws = await startFakeAws({
      cluster: 'shop',
      services: [{ name: 'catalog', taskDefinition: 'catalog:1' }],
      metric: (key) => (key.name === 'CPUUtilization' ? 42 : key.name === 'RunningTaskCount' ? 2 : undefined),
      activities: [],
    });
  });
  afterAll(async () => {
    await aws.close();
  });

  it('writes timeline.ndjson and scaling-activities.json from the local stack’s files', async () => {
    const stackDir = mkdtempSync(join(tmpdir(), 'peakday-stack-'));
    const emf = createEmfWriter(telemetryPaths(stackDir).metrics);
    for (let t = 0; t < 600; t += 60) {
      emf.write([
        {
          group: 'AWS/ECS',
          dimensions: { ClusterName: 'peakday', ServiceName: 'catalog' },
          values: { CPUUtilization: 40, MemoryUtilization: 10 },
          info: { eventTime: t, period: 60, service: 'catalog', arch: 'headless' },
          timestampMs: START + ((t + 60) / 60) * 1000,
        },
      ]);
    }
    const run = writeTestRun({ startedAtMs: START, timeScale: 60, eventStart: 0, eventEnd: 600 });
    const r = await runCli(['collect', run, '--source', 'local', '--stack-dir', stackDir]);
    // Only the progress line: no AWS SDK warning reaches the terminal.
    expect(r.stderr.trim()).toBe(`collecting local telemetry into ${run}`);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('timeline: 10 records for 1 services (catalog)');
    expect(readFileSync(join(run, 'timeline.ndjson'), 'utf8').trim().split('\n')).toHaveLength(10);
    expect(JSON.parse(readFileSync(join(run, 'scaling-activities.json'), 'utf8'))).toEqual([]);
  });

  it('collects from CloudWatch through AWS_ENDPOINT_URL and prints JSON', async () => {
    const run = writeTestRun({ startedAtMs: START, timeScale: 1, eventStart: 0, eventEnd: 600 });
    const r = await runCli(
      ['collect', run, '--source', 'cloudwatch', '--cluster', 'shop', '--region', 'us-east-1', '--json'],
      {
        env: localAwsEnv(aws.url),
      },
    );
    // Only the progress line: no AWS SDK warning reaches the terminal.
    expect(r.stderr.trim()).toBe(`collecting cloudwatch telemetry into ${run}`);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout) as { source: string; services: string[]; records: number };
    expect(info).toMatchObject({ source: 'cloudwatch', services: ['catalog'] });
    expect(info.records).toBeGreaterThanOrEqual(10);
  });

  it('takes cluster, region and services from the stack file of stack deploy --aws', async () => {
    const run = writeTestRun({ startedAtMs: START, timeScale: 1, eventStart: 0, eventEnd: 600 });
    const stackFile = join(mkdtempSync(join(tmpdir(), 'peakday-stackfile-')), 'aws-headless.json');
    writeFileSync(
      stackFile,
      JSON.stringify({
        version: 1,
        provider: 'aws',
        arch: 'headless',
        region: 'us-east-1',
        stackName: 'PeakdayHeadless',
        url: 'http://lb.example',
        loadBalancer: 'app/lb/1',
        cluster: 'shop',
        services: ['catalog'],
        tables: {},
        bus: 'peakday-headless',
        dashboard: 'peakday-headless',
        deployedAt: new Date(START).toISOString(),
        usdPerHourIdle: 0.35,
      }),
    );
    const r = await runCli(['collect', run, '--stack-file', stackFile, '--json'], {
      env: localAwsEnv(aws.url),
    });
    // Only the progress line: no AWS SDK warning reaches the terminal.
    expect(r.stderr.trim()).toBe(`collecting cloudwatch telemetry into ${run}`);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ source: 'cloudwatch', services: ['catalog'] });
    const missing = await runCli(['collect', run, '--stack-file', join(tmpdir(), 'no-such-stack-file.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/error\[stack-file-missing\]/);
  });

  it('reads the stack file’s CloudFront distribution in us-east-1 into the run’s edge records', async () => {
    const edgeAws = await startFakeAws({
      cluster: 'shop',
      services: [{ name: 'gateway', taskDefinition: 'gateway:1' }],
      metric: (key) =>
        key.namespace === 'AWS/CloudFront'
          ? key.dimensions?.DistributionId === 'E1EDGE' && key.dimensions.Region === 'Global'
            ? ({ Requests: 300, CacheHitRate: 75 } as Record<string, number>)[key.name]
            : undefined
          : key.name === 'CPUUtilization'
            ? 30
            : undefined,
      activities: [],
    });
    try {
      const run = writeTestRun({ startedAtMs: START, timeScale: 1, eventStart: 0, eventEnd: 600 });
      const stackFile = join(mkdtempSync(join(tmpdir(), 'peakday-stackfile-')), 'aws-headless.json');
      writeFileSync(
        stackFile,
        JSON.stringify({
          version: 1,
          provider: 'aws',
          arch: 'headless',
          region: 'eu-west-1',
          stackName: 'PeakdayHeadless',
          url: 'http://lb.example',
          cluster: 'shop',
          services: ['gateway'],
          edgeUrl: 'https://d1.cloudfront.net',
          distributionId: 'E1EDGE',
        }),
      );
      const r = await runCli(['collect', run, '--stack-file', stackFile], { env: localAwsEnv(edgeAws.url) });
      expect(r.code).toBe(0);
      expect(r.stderr.trim()).toBe(`collecting cloudwatch telemetry into ${run}`);
      expect(r.stdout).toMatch(/edge \(CloudFront\): \d+ periods/);
      expect(r.stdout).toMatch(
        /note: edge: no data for AWS\/CloudFront OriginLatency of distribution E1EDGE/,
      );
      const cf = edgeAws.requests.filter((q) => JSON.stringify(q.body).includes('AWS/CloudFront'));
      expect(cf.map((q) => q.region)).toEqual(['us-east-1']);
      const lines = readFileSync(join(run, 'timeline.ndjson'), 'utf8').trim().split('\n');
      const edge = lines.map((l) => JSON.parse(l)).filter((x) => x.kind === 'edge');
      expect(edge[0]).toMatchObject({
        service: 'edge',
        Requests: 300,
        CacheHitRate: 75,
        source: 'cloudwatch',
      });
      // The report's Edge (CloudFront) section shows the AWS run's edge.
      const rep = await runCli(['report', run, '--out', join(run, 'report')]);
      expect(rep.code).toBe(0);
      const md = readFileSync(join(run, 'report', 'report.md'), 'utf8');
      expect(md).toContain('## Edge (CloudFront)');
      expect(md).toMatch(/requests over \d+ periods \(measured[^)]*\): CacheHitRate 75%/);
      const bad = await runCli(['collect', run, '--source', 'local', '--distribution-id', 'E1EDGE']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--distribution-id/);
    } finally {
      await edgeAws.close();
    }
  });

  it('stops on Ctrl-C while CloudWatch is slow: exit 130, no further request, the run kept as it was', async () => {
    // A slow endpoint: each answer comes 30 s after its request.
    const slow = await startFakeAws({
      cluster: 'shop',
      services: [{ name: 'catalog', taskDefinition: 'catalog:1' }],
      metric: () => 1,
      activities: [],
      delayMs: 30_000,
    });
    try {
      const run = writeTestRun({ startedAtMs: START, timeScale: 1, eventStart: 0, eventEnd: 600 });
      const files = () => readdirSync(run).map((f) => [f, readFileSync(join(run, f), 'utf8')]);
      const before = files();
      const cli = startCli(
        ['collect', run, '--source', 'cloudwatch', '--cluster', 'shop', '--region', 'us-east-1'],
        {
          env: localAwsEnv(slow.url),
        },
      );
      const end = Date.now() + 50_000;
      while (slow.requests.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(slow.requests).toHaveLength(1);
      const at = Date.now();
      cli.child.kill('SIGINT');
      const r = await cli.result;
      expect(r.code).toBe(130);
      expect(Date.now() - at).toBeLessThan(10_000);
      expect(r.stderr).toMatch(/error\[collect-interrupted\]/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // The one request was given up (its connection closed), and no other was sent.
      while (!slow.requests[0]?.aborted && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(slow.requests.map((q) => [q.operation, q.aborted])).toEqual([
        ['AmazonEC2ContainerServiceV20141113.ListServices', true],
      ]);
      // Nothing measured is lost: the run directory is as it was (no timeline written over it).
      expect(files()).toEqual(before);
    } finally {
      await slow.close();
    }
  });

  const bad = [
    {
      name: 'an unknown source, with a suggestion',
      args: (run: string) => [run, '--source', 'cloudwach'],
      err: /did you mean "cloudwatch"/,
    },
    {
      name: 'a directory that is not a run',
      args: () => ['/nonexistent-run', '--source', 'local'],
      err: /not a run directory/,
    },
    {
      name: 'a run without load data',
      args: () => [
        writeTestRun({ startedAtMs: START, timeScale: 60, eventStart: 0, eventEnd: 600, series: false }),
        '--source',
        'local',
      ],
      err: /no load data \(series\.ndjson is empty or missing\)/,
    },
    {
      name: 'a bad --period',
      args: (run: string) => [run, '--source', 'cloudwatch', '--period', '45'],
      err: /not a CloudWatch period/,
    },
    {
      name: 'cloudwatch without a cluster',
      args: (run: string) => [run, '--source', 'cloudwatch'],
      err: /needs the ECS cluster/,
    },
  ];
  for (const c of bad) {
    it(`rejects ${c.name} with exit 2 and no stack trace`, async () => {
      const run = writeTestRun({ startedAtMs: START, timeScale: 60, eventStart: 0, eventEnd: 600 });
      const r = await runCli(['collect', ...c.args(run)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(c.err);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(run, 'timeline.ndjson'))).toBe(false);
    });
  }
});
