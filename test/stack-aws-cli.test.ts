import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-helper.ts';
import { startFakeCloudFormation } from './fake-cloudformation.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'peakday-aws-cli-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TRACE = fileURLToPath(new URL('./fixtures/trace-heavy-imports.mjs', import.meta.url));

/** An environment where the AWS SDK finds no credentials anywhere (no env, no files, no instance role). */
function noCredentialsEnv(home: string): Record<string, string | undefined> {
  return {
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_DEFAULT_PROFILE: undefined,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

describe('peakday stack synth|deploy|destroy --aws', () => {
  it('synth --aws writes the template and a cdk-nag report with no findings, offline', async () => {
    const out = tempDir();
    const r = await runCli(['stack', 'synth', '--aws', '--arch', 'monolith', '--out', out], {
      env: noCredentialsEnv(tempDir()),
      timeoutMs: 180_000,
    });
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|internal error/);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PeakdayMonolith: .*PeakdayMonolith\.template\.json/);
    expect(r.stdout).toMatch(/cdk-nag AwsSolutions: 0 findings, \d+ acknowledged with reasons/);
    const template = JSON.parse(readFileSync(join(out, 'PeakdayMonolith.template.json'), 'utf8'));
    expect(
      Object.values(template.Resources).some((x) => (x as { Type: string }).Type === 'AWS::ECS::Service'),
    ).toBe(true);
    const nag = JSON.parse(readFileSync(join(out, 'PeakdayMonolith.nag-report.json'), 'utf8'));
    expect(nag.findings).toEqual([]);
    expect(existsSync(join(out, 'PeakdayMonolith.nag-report.txt'))).toBe(true);
    expect(existsSync(join(out, 'PeakdayHeadless.template.json'))).toBe(false);
  }, 200_000);

  it('bad flags are listed together with exit 2, before anything is built', async () => {
    const r = await runCli(
      [
        'stack',
        'deploy',
        '--arch',
        'mono',
        '--allow-cidr',
        '10.0.0.0/40',
        '--certificate-arn',
        'cert',
        '--yes',
      ],
      { env: { PEAKDAY_TRACE_FILE: undefined } },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error\[invalid-flag\]: stack deploy: 5 problems found/);
    // With a certificate, the edge (on by default) needs the origin's name on that certificate.
    expect(r.stderr).toMatch(
      /--edge-origin-domain: with --certificate-arn CloudFront reaches the load balancer over HTTPS/,
    );
    expect(r.stderr).toMatch(/--aws/);
    expect(r.stderr).toMatch(/"10\.0\.0\.0\/40" is not a CIDR/);
    expect(r.stderr).toMatch(/not an ACM certificate ARN/);
    expect(r.stderr).toMatch(/--arch: "mono" is not a topology/);
  });

  it('deploy --aws without credentials shows the cost, then exits 3 with what to do (the real toolkit and SDK)', async () => {
    const home = tempDir();
    const r = await runCli(
      [
        'stack',
        'deploy',
        '--aws',
        '--arch',
        'monolith',
        '--no-detect-ip',
        '--yes',
        '--stack-file',
        join(home, 's.json'),
      ],
      { env: noCredentialsEnv(home), timeoutMs: 180_000 },
    );
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/Hourly cost of the monolith stack in us-east-1/);
    expect(r.stderr).toMatch(/error\[aws-credentials-missing\]/);
    expect(r.stderr).toMatch(/hint: configure credentials/);
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|internal error|\n\s+at /);
    expect(existsSync(join(home, 's.json'))).toBe(false);
  }, 200_000);

  it('deploy --aws against a local CloudFormation endpoint: the diff, then no deploy without a yes (exit 2), then exit 4 for an account not bootstrapped', async () => {
    const cfn = await startFakeCloudFormation();
    try {
      const home = tempDir();
      const env = {
        ...noCredentialsEnv(home),
        AWS_ACCESS_KEY_ID: 'AKIDTEST',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_ENDPOINT_URL: cfn.url,
      };
      const args = [
        'stack',
        'deploy',
        '--aws',
        '--arch',
        'monolith',
        '--no-detect-ip',
        '--stack-file',
        join(home, 's.json'),
      ];
      const asked = await runCli(args, { env, timeoutMs: 180_000 });
      expect(asked.code, asked.stderr).toBe(2);
      expect(asked.stderr).toMatch(/Hourly cost of the monolith stack/);
      expect(asked.stderr).toMatch(/\[\+\] AWS::ECS::Service MonolithService/);
      expect(asked.stderr).toMatch(/error\[confirmation-needed\]/);
      expect(asked.stderr).toMatch(/hint: pass --yes/);
      expect(cfn.calls).toContain('DescribeStacks');
      const deployCalls = /CreateChangeSet|CreateStack|ExecuteChangeSet|UpdateStack|PutObject|PUT /;
      expect(cfn.calls.filter((c) => deployCalls.test(c))).toEqual([]);

      const r = await runCli([...args, '--yes'], { env, timeoutMs: 180_000 });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/error\[aws-not-bootstrapped\]/);
      expect(r.stderr).toMatch(
        /hint: bootstrap once per account and region: peakday stack deploy --aws --bootstrap/,
      );
      expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|internal error|\n\s+at /);
      expect(cfn.calls).toContain('AmazonSSM.GetParameter');
      expect(cfn.calls.filter((c) => deployCalls.test(c))).toEqual([]);
      expect(existsSync(join(home, 's.json'))).toBe(false);
    } finally {
      await cfn.close();
    }
  }, 400_000);

  it('neither --help nor a local command loads aws-cdk-lib, toolkit-lib, cdk-nag or the AWS SDK', async () => {
    const trace = join(tempDir(), 'trace.txt');
    for (const args of [['--help'], ['stack', '--help'], ['stack', 'status']]) {
      const r = await runCli(args, {
        env: { NODE_OPTIONS: `--import=${TRACE}`, PEAKDAY_TRACE_FILE: trace },
        cwd: tempDir(),
      });
      expect(r.stderr).not.toMatch(/internal error/);
    }
    expect(existsSync(trace) ? readFileSync(trace, 'utf8') : '').toBe('');
    // The tracer does see them when a command needs them.
    const r = await runCli(['stack', 'synth', '--aws', '--arch', 'monolith', '--out', tempDir()], {
      env: { NODE_OPTIONS: `--import=${TRACE}`, PEAKDAY_TRACE_FILE: trace },
      timeoutMs: 180_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(trace, 'utf8')).toMatch(/aws-cdk-lib/);
  }, 400_000);
});
