/**
 * `peakday stack synth|deploy|destroy --aws`: the reference stack on AWS, end to end.
 *
 *   synth    build each topology's CDK app, check it (cdk-nag AwsSolutions), write the CloudFormation
 *            template and the nag report; offline: no credentials, no Docker, no network.
 *   deploy   show the hourly cost (pricing table, with sources) and the diff against what is deployed,
 *            ask to continue (or --yes), deploy through the CDK toolkit (the services' image is built
 *            and pushed here), write the stack file (URL, cluster, services, tables, bus) for `run
 *            --target`, `collect --source cloudwatch` and `report`.
 *   destroy  ask (or --yes), optionally switch the tables to Retain first (--keep-tables), delete the
 *            stack, remove the stack file.
 *
 * The toolkit is injected ({@link StackToolkit}): tests drive the whole orchestration, prompts and
 * failure paths included, without an AWS account. AWS failures become PeakdayErrors with documented
 * exit codes (README "Exit codes"): no credentials 3, not bootstrapped 4, a quota 5, a failed or
 * rolled-back deployment 6. aws-cdk-lib and toolkit-lib are loaded only when a command needs them.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { invalidInput, PeakdayError } from '../core/errors.ts';
import type { StackToolkit } from '../infra/common/toolkit.ts';
import type { ReferenceAppOptions } from '../infra/reference-stack/app.ts';
import {
  computeHourlyCost,
  formatHourlyCost,
  type HourlyCost,
} from '../infra/reference-stack/hourly-cost.ts';
import type { TableCapacity } from '../infra/reference-stack/stack.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import type { Arch } from '../reference-stack/topology.ts';
import { loadBudgetsForProfile } from '../scenarios/budgets/defaults.ts';
import { resolvePricing } from '../simulation/pricing/pricing-table.ts';

/** The stack options every AWS command shares (flags parsed). */
export interface AwsStackOptions {
  region: string;
  allowCidrs: string[];
  certificateArn?: string;
  natGateways: 0 | 1;
  spot: boolean;
  cpuArchitecture: 'arm64' | 'x86_64';
  provisionedTables: boolean;
  retainTables: boolean;
  /** A scaling file; default: the stack's default-scaling.yaml. */
  scalingFile?: string;
  /** A budgets file, or a built-in profile whose default budgets become alarms. */
  budgets?: string;
  doorsOpenMs?: number;
  /** A CloudFront distribution in front of the ALB (default true; `--no-edge` turns it off). */
  edge?: boolean;
  /** With a certificate and the edge: a DNS name on the certificate that resolves to the ALB. */
  edgeOriginDomain?: string;
}

/** Provisioned table capacity when `--provisioned-tables` is given (assumptions; docs/aws.md). */
export const PROVISIONED_TABLE_DEFAULTS: TableCapacity = {
  mode: 'provisioned',
  read: { min: 5, max: 1000 },
  write: { min: 5, max: 500 },
  targetUtilization: 70,
};

/** The budgets profile whose thresholds become alarms when none is named (the profiles' flash sale). */
export const DEFAULT_ALARM_BUDGETS = 'flash-sale';

/** Progress and questions, injected so the CLI prints and asks, and tests record and answer. */
export interface DeploySink {
  progress(line: string): void;
  /** Asks a yes/no question; absent when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
}

/** Creates the toolkit for one stack (the real one in infra/common/toolkit.ts; tests pass their own). */
export type ToolkitFactory = (args: {
  build: (outdir: string | undefined) => Promise<import('aws-cdk-lib').App>;
  stackName: string;
  region: string;
  profile?: string;
  progress: (line: string) => void;
}) => Promise<StackToolkit>;

/** What the stack file holds: everything later commands need to find the deployed stack. */
export interface AwsStackFile {
  version: 1;
  provider: 'aws';
  arch: Arch;
  region: string;
  stackName: string;
  url: string;
  loadBalancer: string;
  cluster: string;
  services: string[];
  tables: Record<string, string>;
  bus: string | null;
  dashboard: string;
  /** The CloudFront distribution's URL (the edge in front of `url`); null when deployed with `--no-edge`. */
  edgeUrl: string | null;
  /** The distribution's id (for invalidations and CloudFront's metrics); null without the edge. */
  distributionId: string | null;
  deployedAt: string;
  usdPerHourIdle: number;
}

/** Where the stack file of a topology goes by default (next to the local stack's state). */
export function defaultStackFile(cwd: string, arch: Arch): string {
  return join(cwd, '.peakday', `aws-${arch}.json`);
}

/** Reads a stack file written by `stack deploy --aws` (exit 2 with a hint when missing or not one). */
export function readAwsStackFile(file: string): AwsStackFile {
  if (!existsSync(file))
    throw invalidInput(
      'stack-file-missing',
      `no stack file at ${file}`,
      'deploy first: peakday stack deploy --aws',
    );
  let parsed: Partial<AwsStackFile>;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<AwsStackFile>;
  } catch (e) {
    throw invalidInput(
      'stack-file-invalid',
      `${file} is not JSON: ${(e as Error).message}`,
      'redeploy to rewrite it',
    );
  }
  if (parsed.provider !== 'aws' || typeof parsed.cluster !== 'string' || typeof parsed.url !== 'string')
    throw invalidInput(
      'stack-file-invalid',
      `${file} is not a stack file of peakday stack deploy --aws (needs provider, url, cluster)`,
      'pass the .peakday/aws-<arch>.json that deploy wrote',
    );
  return parsed as AwsStackFile;
}

/** Resolves the app options (loading and validating the scaling and budgets files). */
export function resolveAppOptions(arch: Arch, o: AwsStackOptions): ReferenceAppOptions {
  const budgets = o.budgets ?? DEFAULT_ALARM_BUDGETS;
  const isFile = /\.ya?ml$/i.test(budgets) || budgets.includes('/');
  return {
    arch,
    region: o.region,
    scaling: loadScaling(o.scalingFile),
    budgets: isFile ? loadBudgetsForProfile('custom', resolve(budgets)) : loadBudgetsForProfile(budgets),
    allowCidrs: o.allowCidrs,
    ...(o.certificateArn ? { certificateArn: o.certificateArn } : {}),
    natGateways: o.natGateways,
    spot: o.spot,
    cpuArchitecture: o.cpuArchitecture,
    tableCapacity: o.provisionedTables ? PROVISIONED_TABLE_DEFAULTS : { mode: 'on-demand' },
    retainTables: o.retainTables,
    ...(o.doorsOpenMs === undefined ? {} : { doorsOpenMs: o.doorsOpenMs }),
    edge: o.edge ?? true,
    ...(o.edgeOriginDomain ? { edgeOriginDomain: o.edgeOriginDomain } : {}),
  };
}

/** What `synth --aws` wrote for one topology. */
export interface SynthOutcome {
  arch: Arch;
  stackName: string;
  templateFile: string;
  nagReportFile: string;
  nagFindings: number;
  nagAcknowledged: number;
  seconds: number;
}

/** Synthesizes the topologies into `outDir`, offline; each gets its template and cdk-nag report. */
export async function synthAwsStacks(
  request: { arches: Arch[]; outDir: string; options: AwsStackOptions },
  sink: DeploySink,
): Promise<SynthOutcome[]> {
  const resolved = request.arches.map((arch) => resolveAppOptions(arch, request.options));
  const [{ synthReferenceStack }, { formatNagReport }] = await Promise.all([
    import('../infra/reference-stack/app.ts'),
    import('../infra/common/nag.ts'),
  ]);
  mkdirSync(request.outDir, { recursive: true });
  const out: SynthOutcome[] = [];
  for (const options of resolved) {
    const t0 = performance.now();
    sink.progress(`synthesizing the ${options.arch} stack...`);
    const assemblyDir = join(request.outDir, `${options.arch}.assembly`);
    const s = await synthReferenceStack({ ...options, outdir: assemblyDir });
    const templateFile = join(request.outDir, `${s.stackName}.template.json`);
    writeFileSync(templateFile, `${JSON.stringify(s.template, null, 1)}\n`);
    const nagReportFile = join(request.outDir, `${s.stackName}.nag-report.json`);
    writeFileSync(nagReportFile, `${JSON.stringify(s.nag, null, 2)}\n`);
    writeFileSync(join(request.outDir, `${s.stackName}.nag-report.txt`), formatNagReport(s.nag));
    out.push({
      arch: options.arch,
      stackName: s.stackName,
      templateFile,
      nagReportFile,
      nagFindings: s.nag.findings.length,
      nagAcknowledged: s.nag.acknowledged.length,
      seconds: (performance.now() - t0) / 1000,
    });
  }
  return out;
}

/** What `deploy --aws` did. */
export interface DeployOutcome {
  deployed: boolean;
  cost: HourlyCost;
  changes: number;
  stackFile?: string;
  stack?: AwsStackFile;
}

/** A deploy request: the topology, the stack options, and how to reach AWS. */
export interface DeployRequest {
  arch: Arch;
  options: AwsStackOptions;
  profile?: string;
  yes: boolean;
  stackFile: string;
  /** Bootstrap the account and region for the CDK first (once per account and region). */
  bootstrap?: boolean;
}

/** Deploys one topology: cost, diff, confirmation, deploy, stack file. */
export async function deployAwsStack(
  request: DeployRequest,
  sink: DeploySink,
  toolkitFactory?: ToolkitFactory,
): Promise<DeployOutcome> {
  const appOptions = resolveAppOptions(request.arch, request.options);
  const cost = computeHourlyCost(
    {
      arch: request.arch,
      scaling: appOptions.scaling!,
      natGateways: request.options.natGateways,
      cpuArchitecture: request.options.cpuArchitecture,
      spot: request.options.spot,
      edge: request.options.edge ?? true,
    },
    resolvePricing({ region: request.options.region }),
  );
  for (const line of formatHourlyCost(cost).split('\n')) sink.progress(line);
  const entry = request.options.edge === false ? 'load balancer' : 'load balancer and the edge (CloudFront)';
  if (request.options.allowCidrs.length === 0)
    sink.progress(
      `note: no --allow-cidr and no detected IP: the ${entry} ${request.options.edge === false ? 'accepts' : 'accept'} no traffic until you allow a CIDR`,
    );
  else sink.progress(`${entry} open to: ${request.options.allowCidrs.join(', ')}`);
  const toolkit = await openToolkit(request.arch, appOptions, request.profile, sink, toolkitFactory);
  if (request.bootstrap) {
    sink.progress(`bootstrapping ${request.options.region} for the CDK...`);
    await guard(() => toolkit.bootstrap());
  }
  const diff = await guard(() => toolkit.diff());
  sink.progress(diff.text || '(no differences shown)');
  sink.progress(`${diff.changes} difference(s) against what is deployed`);
  if (
    !(await confirmOrYes(
      request.yes,
      sink,
      `Deploy the ${request.arch} stack (about $${cost.usdPerHour.toFixed(2)}/h idle)?`,
    ))
  )
    return { deployed: false, cost, changes: diff.changes };
  sink.progress(
    'deploying (the services image is built and pushed first; a first deploy takes 10-20 minutes)...',
  );
  const outputs = await guard(() => toolkit.deploy());
  const stack = stackFileFrom(request.arch, request.options.region, outputs, cost.usdPerHour);
  mkdirSync(dirname(request.stackFile), { recursive: true });
  writeFileSync(request.stackFile, `${JSON.stringify(stack, null, 2)}\n`);
  return { deployed: true, cost, changes: diff.changes, stackFile: request.stackFile, stack };
}

/** A destroy request. */
export interface DestroyRequest {
  arch: Arch;
  options: AwsStackOptions;
  profile?: string;
  yes: boolean;
  /** Keep the tables and their data: switch them to Retain before deleting the stack. */
  keepTables: boolean;
  stackFile: string;
}

/** Destroys one topology's stack; with `keepTables`, the tables survive it. */
export async function destroyAwsStack(
  request: DestroyRequest,
  sink: DeploySink,
  toolkitFactory?: ToolkitFactory,
): Promise<{ destroyed: boolean; keptTables: boolean }> {
  const appOptions = resolveAppOptions(request.arch, {
    ...request.options,
    retainTables: request.keepTables,
  });
  const question = request.keepTables
    ? `Delete the ${request.arch} stack, keeping its DynamoDB tables?`
    : `Delete the ${request.arch} stack and everything it created, tables and their data included?`;
  const toolkit = await openToolkit(request.arch, appOptions, request.profile, sink, toolkitFactory);
  if (!(await confirmOrYes(request.yes, sink, question))) return { destroyed: false, keptTables: false };
  if (request.keepTables) {
    sink.progress('switching the tables to DeletionPolicy Retain (an update that changes nothing else)...');
    await guard(() => toolkit.deploy());
  }
  sink.progress('deleting the stack...');
  await guard(() => toolkit.destroy());
  rmSync(request.stackFile, { force: true });
  return { destroyed: true, keptTables: request.keepTables };
}

async function openToolkit(
  arch: Arch,
  appOptions: ReferenceAppOptions,
  profile: string | undefined,
  sink: DeploySink,
  factory: ToolkitFactory | undefined,
): Promise<StackToolkit> {
  const [{ buildReferenceApp }, { stackNameOf }] = await Promise.all([
    import('../infra/reference-stack/app.ts'),
    import('../infra/reference-stack/stack.ts'),
  ]);
  const create: ToolkitFactory =
    factory ?? (async (args) => (await import('../infra/common/toolkit.ts')).createCdkToolkit(args));
  return guard(() =>
    create({
      build: async (outdir) =>
        (await buildReferenceApp({ ...appOptions, ...(outdir ? { outdir } : {}) })).app,
      stackName: stackNameOf(arch),
      region: appOptions.region!,
      ...(profile ? { profile } : {}),
      progress: (l) => sink.progress(l),
    }),
  );
}

/** Goes ahead on --yes, else asks the sink; with no terminal to ask on, a usage error (fleet deploy asks the same way). */
export async function confirmOrYes(
  yes: boolean,
  sink: Pick<DeploySink, 'confirm'>,
  question: string,
): Promise<boolean> {
  if (yes) return true;
  if (!sink.confirm)
    throw invalidInput(
      'confirmation-needed',
      `${question} There is no terminal to ask on`,
      'pass --yes to go ahead without asking (CI)',
    );
  return sink.confirm(question);
}

/** Builds the stack file from the stack's CloudFormation outputs (infra/reference-stack/stack.ts OUTPUT_KEYS). */
export function stackFileFrom(
  arch: Arch,
  region: string,
  outputs: Record<string, string>,
  usdPerHourIdle: number,
): AwsStackFile {
  const get = (k: string) => outputs[k] ?? '';
  let tables: Record<string, string> = {};
  try {
    tables = JSON.parse(get('TableNames').replaceAll("'", '"') || '{}') as Record<string, string>;
  } catch {
    tables = {};
  }
  return {
    version: 1,
    provider: 'aws',
    arch,
    region,
    stackName: arch === 'headless' ? 'PeakdayHeadless' : 'PeakdayMonolith',
    url: get('LoadBalancerUrl'),
    loadBalancer: get('LoadBalancerFullName'),
    cluster: get('ClusterName'),
    services: get('ServiceNames').split(',').filter(Boolean),
    tables,
    bus: get('EventBusName') || null,
    dashboard: get('DashboardName'),
    edgeUrl: get('EdgeUrl') || null,
    distributionId: get('DistributionId') || null,
    deployedAt: new Date().toISOString(),
    usdPerHourIdle,
  };
}

/** Runs a toolkit call, turning AWS failures into PeakdayErrors with their exit codes. */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw classifyAwsFailure(e);
  }
}

/**
 * Maps a failure of the toolkit or the AWS SDK to what the user should do about it. Anything that is
 * not recognisably an AWS failure is returned unchanged (a bug: exit 1). Pure.
 */
export function classifyAwsFailure(e: unknown): unknown {
  if (e instanceof PeakdayError) return e;
  if (!(e instanceof Error)) return e;
  const text = `${e.name}: ${e.message} ${e.cause instanceof Error ? e.cause.message : ''}`;
  const isToolkit =
    (e as { source?: string }).source !== undefined ||
    /Toolkit|Deployment|Authentication|Bootstrap/.test(e.name);
  const awsish =
    isToolkit || /AWS|CloudFormation|credential|ExpiredToken|AccessDenied|UnrecognizedClient/i.test(text);
  if (!awsish) return e;
  if (
    /AuthenticationError|Could not load credentials|credentials? (?:not found|could not)|Unable to resolve AWS account|ExpiredToken|InvalidClientTokenId|UnrecognizedClientException|security token/i.test(
      text,
    )
  )
    return new PeakdayError('aws-credentials-missing', `no usable AWS credentials: ${firstLine(e.message)}`, {
      hint: 'configure credentials (aws configure, aws sso login, AWS_PROFILE) or pass --profile NAME; check the region with --region',
      cause: e,
    });
  if (/bootstrap/i.test(text))
    return new PeakdayError(
      'aws-not-bootstrapped',
      `the account and region are not bootstrapped for the CDK: ${firstLine(e.message)}`,
      {
        hint: 'bootstrap once per account and region: peakday stack deploy --aws --bootstrap',
        cause: e,
      },
    );
  if (
    /LimitExceeded|quota|exceeded the (?:maximum|limit)|TooManyRequests|You have requested more/i.test(text)
  )
    return new PeakdayError(
      'aws-quota',
      `an AWS quota or limit stopped the deployment: ${firstLine(e.message)}`,
      {
        hint: 'raise the quota in Service Quotas (the message names it), or deploy one topology at a time; the stack rolled back',
        cause: e,
      },
    );
  return new PeakdayError(
    'aws-deploy-failed',
    `the deployment failed${/ROLLBACK|rolled back/i.test(text) ? ' and CloudFormation rolled it back' : ''}: ${firstLine(e.message)}`,
    {
      hint: 'the CloudFormation console (Events tab of the stack) names the resource that failed; fix it and deploy again',
      cause: e,
    },
  );
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** Where the deployer's public IP is asked (an AWS endpoint answering with the caller's address). */
export const CHECK_IP_URL = 'https://checkip.amazonaws.com/';

/**
 * The deployer's public IPv4 as a /32, to open the load balancer to this machine only when no CIDR
 * is given; undefined when it cannot be found within `timeoutMs` (the stack then deploys closed).
 */
export async function detectDeployerCidr(
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 3000,
): Promise<string | undefined> {
  try {
    const res = await fetchImpl(CHECK_IP_URL, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const ip = (await res.text()).trim();
    return /^(\d{1,3}\.){3}\d{1,3}$/.test(ip) ? `${ip}/32` : undefined;
  } catch {
    return undefined;
  }
}
