/**
 * Builds the reference stack's CDK app for one topology and synthesizes it offline: no credentials,
 * no Docker (the services' image is staged as an asset and built only at deploy time, by the
 * toolkit's asset publishing), no network. The CLI's `stack synth --aws` and `stack deploy --aws`
 * both start here, so what is deployed is what was synthesized and checked.
 *
 * aws-cdk-lib is imported lazily by the functions below: importing this module costs nothing.
 */
import { fileURLToPath } from 'node:url';
import type { App } from 'aws-cdk-lib';
import type { ScalingConfig } from '../../reference-stack/autoscaling/scaling-file.ts';
import type { EdgeRoute, RouteTtl } from '../../reference-stack/edge/cache-policy.ts';
import type { Arch } from '../../reference-stack/topology.ts';
import type { BudgetSet } from '../../scenarios/budgets/budget.ts';
import type { CheckedSynth } from '../common/nag.ts';
import type { ImageSource, ReferenceStack, TableCapacity } from './stack.ts';

/** The repository root: the Docker build context of the services' image. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The Dockerfile of the services, relative to the repository root. */
export const DOCKERFILE = 'infra/reference-stack/Dockerfile';

/** What never goes into the image's build context (also in .dockerignore, for plain `docker build`). */
export const IMAGE_EXCLUDE = [
  '.git',
  'node_modules',
  'runs',
  '.peakday',
  '**/cdk.out',
  'bench',
  'docs',
  'test',
  '**/*.test.ts',
  'infra',
  '!infra/reference-stack/Dockerfile',
  'reports',
  'telemetry',
  'simulation',
  'engine',
  'cli',
  'bin',
  'workflows',
] as const;

/** The region a template is synthesized for when none is given. */
export const DEFAULT_STACK_REGION = 'us-east-1';

/** What the user chooses for a deployment; everything has a default (docs/aws.md). */
export interface ReferenceAppOptions {
  arch: Arch;
  /** A loaded scaling file (default: the stack's default-scaling.yaml). */
  scaling?: ScalingConfig;
  /** Budgets whose latency and error thresholds become alarms (default: none). */
  budgets?: BudgetSet;
  allowCidrs?: readonly string[];
  certificateArn?: string;
  natGateways?: 0 | 1;
  spot?: boolean;
  cpuArchitecture?: 'arm64' | 'x86_64';
  tableCapacity?: TableCapacity;
  retainTables?: boolean;
  doorsOpenMs?: number;
  image?: ImageSource;
  /** A CloudFront distribution in front of the ALB (default true; docs/aws.md "The edge"). */
  edge?: boolean;
  /** With a certificate and the edge: a DNS name on the certificate that resolves to the ALB. */
  edgeOriginDomain?: string;
  /** The edge's TTL bounds per route (default: the local edge's). */
  edgeRouteTtls?: Record<EdgeRoute, RouteTtl>;
  /** Where the cloud assembly goes (default: a temporary directory chosen by the CDK). */
  outdir?: string;
  /**
   * The region the template is for (default us-east-1, the pricing table's region): ALB access logs
   * name the region's log-delivery principal, so a template is regional. The account stays open.
   */
  region?: string;
}

/** The built app and its stack, before synthesis. */
export interface ReferenceApp {
  app: App;
  stack: ReferenceStack;
}

/** Builds the app (one stack) for a topology. */
export async function buildReferenceApp(options: ReferenceAppOptions): Promise<ReferenceApp> {
  const [{ App }, { RetentionDays }, { ReferenceStack, stackNameOf }, { computeBudgetAlarms }, scalingFile] =
    await Promise.all([
      import('aws-cdk-lib'),
      import('aws-cdk-lib/aws-logs'),
      import('./stack.ts'),
      import('./observability.ts'),
      import('../../reference-stack/autoscaling/scaling-file.ts'),
    ]);
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    analyticsReporting: false,
    context: { 'aws:cdk:enable-path-metadata': false },
  });
  const stack = new ReferenceStack(
    app,
    stackNameOf(options.arch),
    {
      arch: options.arch,
      scaling: options.scaling ?? scalingFile.loadScaling(),
      allowCidrs: options.allowCidrs ?? [],
      ...(options.certificateArn ? { certificateArn: options.certificateArn } : {}),
      natGateways: options.natGateways ?? 0,
      spot: options.spot ?? false,
      cpuArchitecture: options.cpuArchitecture ?? 'arm64',
      tableCapacity: options.tableCapacity ?? { mode: 'on-demand' },
      retainTables: options.retainTables ?? false,
      budgetAlarms: options.budgets ? computeBudgetAlarms(options.budgets) : [],
      ...(options.doorsOpenMs === undefined ? {} : { doorsOpenMs: options.doorsOpenMs }),
      image: options.image ?? {
        kind: 'asset',
        directory: REPO_ROOT,
        dockerfile: DOCKERFILE,
        exclude: IMAGE_EXCLUDE,
      },
      logRetentionDays: RetentionDays.ONE_WEEK,
      edge: options.edge ?? true,
      ...(options.edgeOriginDomain ? { edgeOriginDomain: options.edgeOriginDomain } : {}),
      ...(options.edgeRouteTtls ? { edgeRouteTtls: options.edgeRouteTtls } : {}),
    },
    { env: { region: options.region ?? DEFAULT_STACK_REGION } },
  );
  return { app, stack };
}

/** A synthesized topology: the cloud assembly directory, the template, and what cdk-nag found. */
export type ReferenceSynth = CheckedSynth;

/** Builds, checks (cdk-nag AwsSolutions) and synthesizes one topology, offline. */
export async function synthReferenceStack(options: ReferenceAppOptions): Promise<ReferenceSynth> {
  const { app, stack } = await buildReferenceApp(options);
  const { synthChecked } = await import('../common/nag.ts');
  return synthChecked(app, stack);
}
