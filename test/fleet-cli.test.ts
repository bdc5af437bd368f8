/**
 * `peakday fleet size|synth` and `peakday run --driver k6 --fleet ecs` through the real CLI; the ECS
 * fleet run against the local ECS and S3 endpoint (infra/fleet/test-fleet-aws.ts), whose emulated
 * tasks do what the generator image's entrypoint does and upload a recorded k6 output.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import { createTestPlan, getJourney } from '../engine/test-support.ts';
import { type EmulatedContainer, startFleetAws } from '../infra/fleet/test-fleet-aws.ts';
import { REPO_ROOT, runCli } from './cli-helper.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('peakday fleet size', () => {
  it('answers with generators, their size and the source of every figure', async () => {
    const r = await runCli(['fleet', 'size', 'flash-sale', '--peak-rps', '20000', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.peakRps).toBe(20000);
    // 20,000 req/s at 1,300 req/s per vCPU used to 60%: at least 26 vCPU in all.
    for (const o of s.options)
      expect(o.generators * o.vcpu).toBeGreaterThanOrEqual(Math.ceil(20000 / (1300 * 0.6)));
    expect(s.recommended.generators * s.recommended.vcpu * 1300 * 0.6).toBeGreaterThanOrEqual(20000);
    expect(s.why.join('\n')).toMatch(/measured, docs\/sources.md/);
    expect(s.why.join('\n')).toMatch(/Little's law/);
    const text = await runCli([
      'fleet',
      'size',
      'flash-sale',
      '--peak-rps',
      '20000',
      '--rps-per-vcpu',
      '650',
    ]);
    expect(text.stdout).toMatch(/<- cheapest/);
    const twice = JSON.parse(
      (
        await runCli([
          'fleet',
          'size',
          'flash-sale',
          '--peak-rps',
          '20000',
          '--rps-per-vcpu',
          '650',
          '--json',
        ])
      ).stdout,
    );
    expect(twice.recommended.generators * twice.recommended.vcpu).toBeGreaterThanOrEqual(
      2 * s.recommended.generators * s.recommended.vcpu - 2,
    );
  });

  it('refuses a bad figure with exit 2', async () => {
    const r = await runCli(['fleet', 'size', 'flash-sale', '--peak-rps', '1000', '--cpu-target', '1.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--cpu-target/);
  });
});

describe('peakday fleet synth', () => {
  it('synthesizes the fleet stack offline with no unacknowledged cdk-nag finding', async () => {
    const out = mkdtempSync(join(tmpdir(), 'peakday-fleet-synth-'));
    const r = await runCli(['fleet', 'synth', '--out', out, '--vcpu', '4', '--memory', '8'], {
      env: { AWS_ACCESS_KEY_ID: '', AWS_PROFILE: '' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 unacknowledged finding/);
    expect(r.stderr).not.toMatch(/Warning/);
    const template = JSON.parse(readFileSync(join(out, 'peakday-k6-fleet.template.json'), 'utf8'));
    expect(JSON.stringify(template)).toMatch(/"Cpu":"4096","Memory":"8192"|"Memory":"8192"/);
  });

  it('refuses a size Fargate does not offer', async () => {
    const r = await runCli(['fleet', 'synth', '--vcpu', '2', '--memory', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/does not go with 2 vCPU/);
  });
});

describe('peakday run --driver k6 --fleet ecs (local ECS and S3 endpoint)', () => {
  it('starts the tasks, releases them, downloads and merges their outputs into one run', async () => {
    const fixture = readFileSync(join(REPO_ROOT, 'test/fixtures/k6/channels.out.ndjson'));
    const container = async (c: EmulatedContainer) => {
      const run = c.env.PEAKDAY_RUN as string;
      c.bucket.set(`${run}/ready/${c.taskId}`, Buffer.from('ready'));
      let a = c.bucket.get(`${run}/assign/${c.taskId}`);
      while (!a) {
        if (c.signal.aborted) return 143;
        await sleep(20);
        a = c.bucket.get(`${run}/assign/${c.taskId}`);
      }
      const [i] = a.toString().split(' ');
      c.bucket.set(`${run}/out/${i}/k6-out.ndjson`, fixture);
      return 0;
    };
    const aws = await startFleetAws({ bucket: 'results', container });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'peakday-fleet-run-'));
      const fleetFile = join(dir, 'fleet.json');
      writeFileSync(
        fleetFile,
        JSON.stringify({
          region: 'us-east-1',
          cluster: 'c1',
          taskDefinition: 'td',
          bucket: 'results',
          subnets: ['subnet-1'],
          securityGroups: ['sg-1'],
          assignPublicIp: true,
          vcpu: 2,
          memoryGb: 4,
          cpuArchitecture: 'arm64',
          container: 'k6',
          endpoint: aws.url,
        }),
      );
      const planFile = join(dir, 'plan.json');
      writeFileSync(
        planFile,
        JSON.stringify(createTestPlan([{ journey: getJourney('browse', ['/a']), rate: 5 }], 2)),
      );
      const r = await runCli(
        [
          'run',
          '--plan',
          planFile,
          '--driver',
          'k6',
          '--fleet',
          'ecs',
          '--generators',
          '3',
          '--fleet-file',
          fleetFile,
          '--cluster',
          'c2',
          '--target',
          'http://127.0.0.1:9',
          '--no-stack-handshake',
          '--out',
          join(dir, 'run'),
          '--json',
        ],
        { env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }, timeoutMs: 90_000 },
      );
      expect(r.code, r.stderr.slice(-1500)).toBe(0);
      expect(r.stderr).not.toMatch(/NodeVersionSupportWarning/);
      expect(aws.runTaskCounts).toEqual([3]);
      const { summary, meta } = JSON.parse(r.stdout);
      expect(meta.options.cluster).toBe('c2');
      expect(summary.partial).toBe(false);
      expect(readRun(join(dir, 'run', 'generators', '3of3')).meta.segment).toEqual({ index: 3, count: 3 });
      expect(JSON.parse(readFileSync(join(dir, 'run', 'fleet.json'), 'utf8')).cost.tasks).toBe(3);
    } finally {
      await aws.close();
    }
  }, 100_000);

  it('refuses --fleet without --driver k6 and --generators, exit 2', async () => {
    const r = await runCli(['run', 'ci-smoke', '--fleet', 'ecs', '--target', 'http://127.0.0.1:9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--fleet ecs plays k6 generators/);
  });
});
