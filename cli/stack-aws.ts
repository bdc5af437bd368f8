/**
 * `peakday stack synth|deploy|destroy --aws`: the reference stack on AWS (workflows/deploy.ts).
 * Thin: parses and validates flags (every problem at once), asks on the terminal, prints. Everything
 * heavy (aws-cdk-lib, toolkit-lib, the AWS SDK) is imported inside the actions, so `peakday --help`
 * and the local stack's commands never load it.
 */
import type { Command } from 'commander';
import type { Problem } from '../core/errors.ts';
import type { Arch } from '../reference-stack/topology.ts';
import type { AwsStackOptions } from '../workflows/deploy.ts';
import { ARCHS, createFlagChecker } from './flags.ts';

interface AwsFlags {
  aws?: boolean;
  arch?: string;
  region?: string;
  profile?: string;
  allowCidr: string[];
  detectIp: boolean;
  certificateArn?: string;
  edge: boolean;
  edgeOriginDomain?: string;
  nat?: boolean;
  spot?: boolean;
  x86?: boolean;
  provisionedTables?: boolean;
  retainTables?: boolean;
  scaling?: string;
  budgets?: string;
  doorsOpen?: string;
  out?: string;
  yes?: boolean;
  stackFile?: string;
  keepTables?: boolean;
  bootstrap?: boolean;
  json?: boolean;
}

const CIDR4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const CIDR6 = /^[0-9a-fA-F:]+\/(\d{1,3})$/;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Adds the options every AWS subcommand shares. */
function stackOptions(cmd: Command, defaultArch: string | undefined): Command {
  return cmd
    .option('--aws', 'the stack on AWS (required: the local stack is `stack up`)')
    .option('--arch <arch>', `headless or monolith${defaultArch ? '' : ' (default: both)'}`, defaultArch)
    .option('--region <region>', 'AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)')
    .option('--allow-cidr <cidr>', 'CIDR allowed to reach the load balancer (repeatable)', collect, [])
    .option(
      '--no-detect-ip',
      "do not open the load balancer to this machine's public IP when no --allow-cidr",
    )
    .option('--certificate-arn <arn>', 'ACM certificate: HTTPS on 443, HTTP redirected')
    .option('--no-edge', 'no CloudFront distribution in front of the load balancer (default: one)')
    .option(
      '--edge-origin-domain <name>',
      'with --certificate-arn: a DNS name on the certificate that resolves to the load balancer (CloudFront connects to it over HTTPS)',
    )
    .option('--nat', 'add a NAT gateway (default: none; tasks reach AWS through VPC endpoints)')
    .option('--spot', 'run the internal services on Fargate Spot (2 of 3 tasks)')
    .option('--x86', 'x86_64 tasks instead of ARM64 (Graviton)')
    .option('--provisioned-tables', 'provisioned DynamoDB capacity with autoscaling instead of on demand')
    .option('--retain-tables', 'deploy the tables with DeletionPolicy Retain')
    .option('--scaling <file>', 'scaling file (default: reference-stack/autoscaling/default-scaling.yaml)')
    .option(
      '--budgets <profile|file>',
      'budgets whose latency and error thresholds become alarms',
      'flash-sale',
    )
    .option('--doors-open <time>', "ISO time of event time 0, for the scaling file's scheduled actions");
}

/** Validates the shared flags; returns the options or pushes problems. */
function parseStackOptions(flags: AwsFlags, problems: Problem[], command: string): AwsStackOptions {
  if (!flags.aws)
    problems.push({
      path: '--aws',
      message: `stack ${command} needs --aws (it is for the stack on AWS)`,
      hint: 'the local stack starts with `peakday stack up`',
    });
  for (const c of flags.allowCidr) {
    const m4 = CIDR4.exec(c);
    const ok4 = m4?.slice(1, 5).every((x) => Number(x) <= 255) && Number(m4[5]) <= 32;
    const m6 = CIDR6.exec(c);
    const ok6 = m6 && Number(m6[1]) <= 128 && c.includes(':');
    if (!ok4 && !ok6)
      problems.push({
        path: '--allow-cidr',
        message: `"${c}" is not a CIDR`,
        expected: 'an IPv4 or IPv6 CIDR such as 203.0.113.7/32',
      });
  }
  if (
    flags.certificateArn !== undefined &&
    !/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+$/.test(flags.certificateArn)
  )
    problems.push({
      path: '--certificate-arn',
      message: `"${flags.certificateArn}" is not an ACM certificate ARN`,
      expected: 'arn:aws:acm:REGION:ACCOUNT:certificate/ID',
    });
  if (flags.edge && flags.certificateArn !== undefined && flags.edgeOriginDomain === undefined)
    problems.push({
      path: '--edge-origin-domain',
      message:
        "with --certificate-arn CloudFront reaches the load balancer over HTTPS, and checks the certificate against the origin's name: the load balancer's own DNS name is never on your certificate",
      expected: 'a DNS name on the certificate with a record pointing to the load balancer',
      hint: 'pass --edge-origin-domain origin.example.com (create the record after the first deploy), or --no-edge',
    });
  if (flags.edgeOriginDomain !== undefined) {
    if (!flags.edge || flags.certificateArn === undefined)
      problems.push({
        path: '--edge-origin-domain',
        message: '--edge-origin-domain is for the edge over HTTPS',
        expected: 'together with --certificate-arn, without --no-edge',
      });
    if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(flags.edgeOriginDomain))
      problems.push({
        path: '--edge-origin-domain',
        message: `"${flags.edgeOriginDomain}" is not a DNS name`,
        expected: 'a name such as origin.example.com',
      });
  }
  let doorsOpenMs: number | undefined;
  if (flags.doorsOpen !== undefined) {
    doorsOpenMs = Date.parse(flags.doorsOpen);
    if (!Number.isFinite(doorsOpenMs))
      problems.push({
        path: '--doors-open',
        message: `"${flags.doorsOpen}" is not a time`,
        expected: 'an ISO time such as 2026-07-08T07:00:00Z',
      });
  }
  const region = flags.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region))
    problems.push({
      path: '--region',
      message: `"${region}" is not an AWS region`,
      expected: 'e.g. us-east-1',
    });
  return {
    region,
    allowCidrs: flags.allowCidr,
    ...(flags.certificateArn ? { certificateArn: flags.certificateArn } : {}),
    natGateways: flags.nat ? 1 : 0,
    spot: flags.spot === true,
    cpuArchitecture: flags.x86 ? 'x86_64' : 'arm64',
    provisionedTables: flags.provisionedTables === true,
    retainTables: flags.retainTables === true,
    ...(flags.scaling ? { scalingFile: flags.scaling } : {}),
    ...(flags.budgets ? { budgets: flags.budgets } : {}),
    ...(doorsOpenMs === undefined || !Number.isFinite(doorsOpenMs) ? {} : { doorsOpenMs }),
    edge: flags.edge,
    ...(flags.edgeOriginDomain ? { edgeOriginDomain: flags.edgeOriginDomain } : {}),
  };
}

function parseArch(flags: AwsFlags, problems: Problem[]): Arch | undefined {
  return createFlagChecker('stack', problems).arch(flags.arch);
}

/** A yes/no question on the terminal; absent when stdin is not one (CI must pass --yes). */
function terminalConfirm(): ((q: string) => Promise<boolean>) | undefined {
  if (process.stdin.isTTY !== true) return undefined;
  return async (question) => {
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}

/** Registers `stack synth|deploy|destroy --aws` on the `stack` command. */
export function registerAwsStackCommands(stack: Command): void {
  stackOptions(
    stack
      .command('synth')
      .description('write the CloudFormation templates and a cdk-nag report, offline (--aws)'),
    undefined,
  )
    .option('--out <dir>', 'where templates, reports and the cloud assemblies go', 'cdk.out')
    .option('--json', 'print what was written as JSON')
    .action(async (flags: AwsFlags) => {
      const [{ validationError }, { createOutput }, { resolve }, workflow] = await Promise.all([
        import('../core/errors.ts'),
        import('./output.ts'),
        import('node:path'),
        import('../workflows/deploy.ts'),
      ]);
      const problems: Problem[] = [];
      const options = parseStackOptions(flags, problems, 'synth');
      const arch = parseArch(flags, problems);
      if (problems.length > 0) throw validationError('invalid-flag', 'stack synth', problems);
      const out = createOutput();
      const results = await workflow.synthAwsStacks(
        { arches: arch ? [arch] : [...ARCHS], outDir: resolve(flags.out ?? 'cdk.out'), options },
        { progress: (l) => out.err(out.dim(l)) },
      );
      if (flags.json) out.json(results);
      else
        for (const r of results) {
          out.out(`${r.stackName}: ${r.templateFile} (${r.seconds.toFixed(1)} s)`);
          out.out(
            `  cdk-nag AwsSolutions: ${r.nagFindings === 0 ? out.green('0 findings') : out.red(`${r.nagFindings} findings`)}, ${r.nagAcknowledged} acknowledged with reasons: ${r.nagReportFile}`,
          );
        }
      if (results.some((r) => r.nagFindings > 0)) {
        const { PeakdayError } = await import('../core/errors.ts');
        throw new PeakdayError(
          'nag-findings',
          'cdk-nag found problems in the reference stack: a bug in peakday',
          {
            hint: 'the report lists them; please report it',
          },
        );
      }
    });

  stackOptions(
    stack
      .command('deploy')
      .description(
        'deploy the stack to AWS: shows the cost and the diff, asks, deploys, writes a stack file (--aws)',
      ),
    'headless',
  )
    .option('--profile <name>', 'AWS profile (default: AWS_PROFILE or the default credentials chain)')
    .option('--bootstrap', 'bootstrap the account and region for the CDK first (once per account and region)')
    .option('--yes', 'do not ask before deploying (CI)')
    .option('--stack-file <file>', 'where to write the stack file (default .peakday/aws-<arch>.json)')
    .option('--json', 'print the stack file as JSON when done')
    .action(async (flags: AwsFlags) => {
      const [{ validationError }, { createOutput }, { resolve }, workflow] = await Promise.all([
        import('../core/errors.ts'),
        import('./output.ts'),
        import('node:path'),
        import('../workflows/deploy.ts'),
      ]);
      const problems: Problem[] = [];
      const options = parseStackOptions(flags, problems, 'deploy');
      const arch = parseArch(flags, problems) ?? 'headless';
      if (problems.length > 0) throw validationError('invalid-flag', 'stack deploy', problems);
      const out = createOutput();
      if (options.allowCidrs.length === 0 && flags.detectIp) {
        const cidr = await workflow.detectDeployerCidr();
        if (cidr) {
          options.allowCidrs = [cidr];
          out.err(
            `${options.edge === false ? 'load balancer' : 'load balancer and edge'} open to this machine only: ${cidr} (from ${workflow.CHECK_IP_URL}; --allow-cidr to choose)`,
          );
        }
      }
      const stackFile = resolve(flags.stackFile ?? workflow.defaultStackFile(process.cwd(), arch));
      const confirm = flags.yes ? undefined : terminalConfirm();
      const result = await workflow.deployAwsStack(
        {
          arch,
          options,
          ...(flags.profile ? { profile: flags.profile } : {}),
          yes: flags.yes === true,
          stackFile,
          bootstrap: flags.bootstrap === true,
        },
        { progress: (l) => out.err(l), ...(confirm ? { confirm } : {}) },
      );
      if (!result.deployed) {
        out.out('not deployed (declined)');
        return;
      }
      if (flags.json) {
        out.json(result.stack);
        return;
      }
      const s = result.stack!;
      out.out(
        `${out.green('deployed')}: ${s.stackName} at ${s.url} (cluster ${s.cluster}, ${s.services.length} services)`,
      );
      out.out(`stack file: ${result.stackFile}`);
      if (s.edgeUrl) out.out(`edge (CloudFront): ${s.edgeUrl}`);
      const entry = s.edgeUrl ?? s.url;
      const host = new URL(entry).hostname;
      out.out(out.dim(`  rehearse: peakday run <profile> --target ${entry} --allow-host ${host}`));
      out.out(
        out.dim(`  collect:  peakday collect runs/<id> --source cloudwatch --stack-file ${result.stackFile}`),
      );
      out.out(out.dim(`  destroy:  peakday stack destroy --aws --arch ${arch}`));
    });

  stackOptions(
    stack
      .command('destroy')
      .description('delete the stack on AWS, tables included unless --keep-tables (--aws)'),
    'headless',
  )
    .option('--profile <name>', 'AWS profile')
    .option('--keep-tables', 'keep the DynamoDB tables and their data (switched to Retain first)')
    .option('--yes', 'do not ask before deleting (CI)')
    .option('--stack-file <file>', 'the stack file to remove (default .peakday/aws-<arch>.json)')
    .action(async (flags: AwsFlags) => {
      const [{ validationError }, { createOutput }, { resolve }, { existsSync }, workflow] =
        await Promise.all([
          import('../core/errors.ts'),
          import('./output.ts'),
          import('node:path'),
          import('node:fs'),
          import('../workflows/deploy.ts'),
        ]);
      const problems: Problem[] = [];
      const arch = parseArch(flags, problems) ?? 'headless';
      const stackFile = resolve(flags.stackFile ?? workflow.defaultStackFile(process.cwd(), arch));
      // The region the stack was deployed to, unless given.
      if (flags.region === undefined && existsSync(stackFile))
        flags.region = workflow.readAwsStackFile(stackFile).region;
      const options = parseStackOptions(flags, problems, 'destroy');
      if (problems.length > 0) throw validationError('invalid-flag', 'stack destroy', problems);
      const out = createOutput();
      const confirm = flags.yes ? undefined : terminalConfirm();
      const r = await workflow.destroyAwsStack(
        {
          arch,
          options,
          ...(flags.profile ? { profile: flags.profile } : {}),
          yes: flags.yes === true,
          keepTables: flags.keepTables === true,
          stackFile,
        },
        { progress: (l) => out.err(l), ...(confirm ? { confirm } : {}) },
      );
      out.out(
        r.destroyed
          ? `destroyed the ${arch} stack${r.keptTables ? ' (tables kept)' : ''}`
          : 'not destroyed (declined)',
      );
    });
}
