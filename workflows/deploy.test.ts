import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthenticationError, DeploymentError, ToolkitError } from '@aws-cdk/toolkit-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, PeakdayError } from '../core/errors.ts';
import type { StackToolkit } from '../infra/common/toolkit.ts';
import {
  type AwsStackOptions,
  classifyAwsFailure,
  type DeploySink,
  deployAwsStack,
  destroyAwsStack,
  detectDeployerCidr,
  readAwsStackFile,
  stackFileFrom,
  type ToolkitFactory,
} from './deploy.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'peakday-deploy-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const OPTIONS: AwsStackOptions = {
  region: 'us-east-1',
  allowCidrs: ['203.0.113.7/32'],
  natGateways: 0,
  spot: false,
  cpuArchitecture: 'arm64',
  provisionedTables: false,
  retainTables: false,
};

const OUTPUTS = {
  LoadBalancerUrl: 'http://Peakd-LoadB-1.us-east-1.elb.amazonaws.com',
  LoadBalancerFullName: 'app/Peakd-LoadB-1/abc',
  ClusterName: 'peakday-monolith',
  ServiceNames: 'monolith',
  TableNames: "{'catalog':'PeakdayMonolith-CatalogTable-1','orders':'PeakdayMonolith-OrdersTable-2'}",
  EventBusName: '',
  DashboardName: 'peakday-monolith',
  EdgeUrl: 'https://d111111abcdef8.cloudfront.net',
  DistributionId: 'E2QWRUHAPOMQZL',
};

/** A toolkit that records calls and answers as told; each call can be made to fail. */
function fakeToolkit(fail: Partial<Record<keyof StackToolkit, Error>> = {}) {
  const calls: string[] = [];
  let builds = 0;
  let lastBuild: Promise<import('aws-cdk-lib').App> | undefined;
  const factory: ToolkitFactory = async (args) => {
    calls.push(`open ${args.stackName} ${args.region}${args.profile ? ` ${args.profile}` : ''}`);
    const step = async <T>(name: keyof StackToolkit, value: T): Promise<T> => {
      calls.push(name);
      if (fail[name]) throw fail[name];
      return value;
    };
    return {
      diff: () => step('diff', { text: '[+] AWS::ECS::Service MonolithService', changes: 42 }),
      deploy: async () => {
        builds++;
        lastBuild = args.build(undefined);
        await lastBuild;
        return step('deploy', { ...OUTPUTS });
      },
      destroy: () => step('destroy', undefined),
      bootstrap: () => step('bootstrap', undefined),
    };
  };
  return { factory, calls, builds: () => builds, lastApp: () => lastBuild };
}

function recordingSink(answer?: boolean): DeploySink & { lines: string[]; questions: string[] } {
  const lines: string[] = [];
  const questions: string[] = [];
  return {
    lines,
    questions,
    progress: (l) => lines.push(l),
    ...(answer === undefined
      ? {}
      : {
          confirm: async (q: string) => {
            questions.push(q);
            return answer;
          },
        }),
  };
}

describe('stack deploy --aws orchestration', () => {
  it('shows the hourly cost and the diff, asks, and deploys nothing when the answer is no', async () => {
    const tk = fakeToolkit();
    const sink = recordingSink(false);
    const stackFile = join(tempDir(), 'aws-monolith.json');
    const r = await deployAwsStack(
      { arch: 'monolith', options: OPTIONS, yes: false, stackFile },
      sink,
      tk.factory,
    );
    expect(r.deployed).toBe(false);
    expect(tk.calls).toEqual(['open PeakdayMonolith us-east-1', 'diff']);
    expect(existsSync(stackFile)).toBe(false);
    const text = sink.lines.join('\n');
    expect(text).toMatch(/Hourly cost of the monolith stack in us-east-1/);
    expect(text).toMatch(/Fargate monolith +2 × 1 vCPU \/ 2 GB/);
    expect(text.indexOf('Hourly cost')).toBeLessThan(text.indexOf('[+] AWS::ECS::Service'));
    expect(sink.questions).toEqual([
      expect.stringMatching(/^Deploy the monolith stack \(about \$0\.\d\d\/h idle\)\?$/),
    ]);
  });

  it('deploys after a yes and writes the stack file from the outputs', async () => {
    const tk = fakeToolkit();
    const sink = recordingSink(true);
    const stackFile = join(tempDir(), 'aws-monolith.json');
    const r = await deployAwsStack(
      { arch: 'monolith', options: OPTIONS, yes: false, stackFile, profile: 'rehearsals' },
      sink,
      tk.factory,
    );
    expect(r.deployed).toBe(true);
    expect(tk.calls).toEqual(['open PeakdayMonolith us-east-1 rehearsals', 'diff', 'deploy']);
    const file = readAwsStackFile(stackFile);
    expect(file).toMatchObject({
      provider: 'aws',
      arch: 'monolith',
      region: 'us-east-1',
      url: OUTPUTS.LoadBalancerUrl,
      cluster: 'peakday-monolith',
      services: ['monolith'],
      tables: { catalog: 'PeakdayMonolith-CatalogTable-1', orders: 'PeakdayMonolith-OrdersTable-2' },
      bus: null,
      edgeUrl: OUTPUTS.EdgeUrl,
      distributionId: OUTPUTS.DistributionId,
    });
    expect(file.usdPerHourIdle).toBeCloseTo(r.cost.usdPerHour, 9);
    // The edge is on by default: its per-use prices are in the cost shown before the question.
    expect(sink.lines.join('\n')).toMatch(/CloudFront: \$0\.01 per 10,000 HTTPS requests/);
  }, 60_000);

  it('with --yes never asks; with neither --yes nor a terminal it refuses before deploying (exit 2)', async () => {
    const tk = fakeToolkit();
    const sink = recordingSink(false);
    const stackFile = join(tempDir(), 'aws.json');
    const r = await deployAwsStack(
      { arch: 'monolith', options: OPTIONS, yes: true, stackFile },
      sink,
      tk.factory,
    );
    expect(r.deployed).toBe(true);
    expect(sink.questions).toEqual([]);

    const tk2 = fakeToolkit();
    const noTerminal = recordingSink(undefined);
    const err = await deployAwsStack(
      { arch: 'monolith', options: OPTIONS, yes: false, stackFile: join(tempDir(), 'x.json') },
      noTerminal,
      tk2.factory,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeakdayError);
    expect((err as PeakdayError).code).toBe('confirmation-needed');
    expect((err as PeakdayError).exitCode).toBe(ExitCode.invalidInput);
    expect(tk2.calls).not.toContain('deploy');
  }, 60_000);

  it('bootstraps first when asked', async () => {
    const tk = fakeToolkit();
    await deployAwsStack(
      {
        arch: 'monolith',
        options: OPTIONS,
        yes: true,
        stackFile: join(tempDir(), 'a.json'),
        bootstrap: true,
      },
      recordingSink(),
      tk.factory,
    );
    expect(tk.calls.slice(1)).toEqual(['bootstrap', 'diff', 'deploy']);
  }, 60_000);

  it.each([
    [
      'no credentials',
      new AuthenticationError('NoCredentials', 'Unable to resolve AWS account to use'),
      'aws-credentials-missing',
      3,
    ],
    [
      'no bootstrap',
      new ToolkitError(
        'BootstrapMissing',
        "PeakdayMonolith: SSM parameter /cdk-bootstrap/hnb659fds/version not found. Has the environment been bootstrapped? Please run 'cdk bootstrap'",
      ),
      'aws-not-bootstrapped',
      4,
    ],
    [
      'a quota',
      new DeploymentError(
        'The stack named PeakdayHeadless failed creation, it may need to be manually deleted from the AWS console: ROLLBACK_COMPLETE: Resource handler returned message: "The maximum number of VPCs has been reached. (Service: Ec2, Status Code: 400, Request ID: x)" (HandlerErrorCode: ServiceLimitExceeded)',
        'UnknownError',
      ),
      'aws-quota',
      5,
    ],
    [
      'a rollback',
      new DeploymentError(
        'The stack named PeakdayMonolith failed to deploy: UPDATE_ROLLBACK_COMPLETE: Resource handler returned message: "Invalid request provided: CreateService error"',
        'UnknownError',
      ),
      'aws-deploy-failed',
      6,
    ],
  ])(
    'a deploy failing with %s exits with its code and a hint, and writes no stack file',
    async (_, error, code, exit) => {
      const tk = fakeToolkit({ deploy: error });
      const stackFile = join(tempDir(), 'aws.json');
      const err = await deployAwsStack(
        { arch: 'monolith', options: OPTIONS, yes: true, stackFile },
        recordingSink(),
        tk.factory,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeakdayError);
      expect((err as PeakdayError).code).toBe(code);
      expect((err as PeakdayError).exitCode).toBe(exit);
      expect((err as PeakdayError).hint).toBeTruthy();
      expect(existsSync(stackFile)).toBe(false);
    },
    60_000,
  );

  it('leaves a failure that is not AWS alone (a bug stays a bug: exit 1)', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    expect(classifyAwsFailure(bug)).toBe(bug);
  });

  it('refuses a scaling file with problems before touching AWS (exit 2, located)', async () => {
    const dir = tempDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'version: 1\ncluster: peakday\nservices:\n  gateway:\n    maxCapacity: -3\n');
    const tk = fakeToolkit();
    const err = await deployAwsStack(
      {
        arch: 'headless',
        options: { ...OPTIONS, scalingFile: file },
        yes: true,
        stackFile: join(dir, 's.json'),
      },
      recordingSink(),
      tk.factory,
    ).catch((e: unknown) => e);
    expect((err as PeakdayError).exitCode).toBe(ExitCode.invalidInput);
    expect(tk.calls).toEqual([]);
  });
});

describe('stack destroy --aws orchestration', () => {
  it('asks, deletes the stack and removes the stack file', async () => {
    const dir = tempDir();
    const stackFile = join(dir, 'aws-monolith.json');
    writeFileSync(stackFile, '{}');
    const tk = fakeToolkit();
    const sink = recordingSink(true);
    const r = await destroyAwsStack(
      { arch: 'monolith', options: OPTIONS, yes: false, keepTables: false, stackFile },
      sink,
      tk.factory,
    );
    expect(r).toEqual({ destroyed: true, keptTables: false });
    expect(tk.calls).toEqual(['open PeakdayMonolith us-east-1', 'destroy']);
    expect(sink.questions[0]).toMatch(/tables and their data included/);
    expect(existsSync(stackFile)).toBe(false);
  });

  it('with --keep-tables first redeploys the tables as Retain, then deletes the stack', async () => {
    const tk = fakeToolkit();
    const r = await destroyAwsStack(
      {
        arch: 'monolith',
        options: OPTIONS,
        yes: true,
        keepTables: true,
        stackFile: join(tempDir(), 's.json'),
      },
      recordingSink(),
      tk.factory,
    );
    expect(r.keptTables).toBe(true);
    expect(tk.calls).toEqual(['open PeakdayMonolith us-east-1', 'deploy', 'destroy']);
    const app = await tk.lastApp()!;
    const stack = app.node.children.find(
      (c) => c.node.id === 'PeakdayMonolith',
    ) as import('aws-cdk-lib').Stack;
    Template.fromStack(stack).allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  }, 60_000);

  it('deletes nothing when the answer is no', async () => {
    const tk = fakeToolkit();
    const r = await destroyAwsStack(
      {
        arch: 'monolith',
        options: OPTIONS,
        yes: false,
        keepTables: false,
        stackFile: join(tempDir(), 's.json'),
      },
      recordingSink(false),
      tk.factory,
    );
    expect(r.destroyed).toBe(false);
    expect(tk.calls).not.toContain('destroy');
  });
});

describe("the deployer's IP", () => {
  it('becomes a /32 when checkip answers with an address, and nothing otherwise', async () => {
    const answer = (body: string, status = 200) =>
      (async () => new Response(body, { status })) as typeof fetch;
    expect(await detectDeployerCidr(answer('198.51.100.23\n'))).toBe('198.51.100.23/32');
    expect(await detectDeployerCidr(answer('<html>', 200))).toBeUndefined();
    expect(await detectDeployerCidr(answer('', 503))).toBeUndefined();
    const failing = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    expect(await detectDeployerCidr(failing)).toBeUndefined();
  });

  it('reads back a stack file and rejects a file that is not one', () => {
    const dir = tempDir();
    const f = join(dir, 'x.json');
    writeFileSync(f, JSON.stringify({ hello: 1 }));
    expect(() => readAwsStackFile(f)).toThrow(/not a stack file/);
    expect(() => readAwsStackFile(join(dir, 'missing.json'))).toThrow(/no stack file/);
    expect(readFileSync(f, 'utf8')).toContain('hello');
  });
});

describe('the stack file and the edge', () => {
  it('writes the edge URL and distribution into the stack file, null without the edge', () => {
    const outputs = { LoadBalancerUrl: 'http://alb', ClusterName: 'peakday-monolith' };
    const withEdge = stackFileFrom(
      'monolith',
      'us-east-1',
      { ...outputs, EdgeUrl: 'https://d1.cloudfront.net', DistributionId: 'E1' },
      0.2,
    );
    expect(withEdge).toMatchObject({
      url: 'http://alb',
      edgeUrl: 'https://d1.cloudfront.net',
      distributionId: 'E1',
    });
    expect(stackFileFrom('monolith', 'us-east-1', outputs, 0.2)).toMatchObject({
      edgeUrl: null,
      distributionId: null,
    });
  });
});
