/**
 * Builds the k6 fleet's CDK app and synthesizes it offline (`peakday fleet synth`): no credentials,
 * no Docker (the generator image is an asset built at deploy time), no network (the VPC lookup uses
 * the CDK's placeholder until a deploy resolves it). aws-cdk-lib is imported lazily.
 */
import { fileURLToPath } from 'node:url';
import type { App } from 'aws-cdk-lib';
import type { CheckedSynth } from '../common/nag.ts';
import type { FleetStack, FleetStackOptions } from './stack.ts';

/** The generator image's build directory (Dockerfile and entrypoint). */
export const IMAGE_DIR = fileURLToPath(new URL('./image/', import.meta.url));

/** The fleet stack's name. */
export const FLEET_STACK_NAME = 'peakday-k6-fleet';

/** What a deployment chooses; every field has a default. */
export interface FleetAppOptions extends Partial<Omit<FleetStackOptions, 'logRetention'>> {
  region?: string;
  /** The account (lookups need one at deploy time; synth leaves it open). */
  account?: string;
  outdir?: string;
}

/** Defaults: 2 vCPU / 4 GiB generators (see `peakday fleet size`), ARM64, 14 days of results. */
export const FLEET_DEFAULTS = {
  vcpu: 2,
  memoryGb: 4,
  cpuArchitecture: 'arm64',
  resultsRetentionDays: 14,
  region: 'us-east-1',
} as const;

/** Builds the app (one stack). */
export async function buildFleetApp(o: FleetAppOptions = {}): Promise<{ app: App; stack: FleetStack }> {
  const [{ App }, { RetentionDays }, { FleetStack }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/aws-logs'),
    import('./stack.ts'),
  ]);
  const app = new App({
    ...(o.outdir ? { outdir: o.outdir } : {}),
    analyticsReporting: false,
    context: { 'aws:cdk:enable-path-metadata': false },
  });
  const stack = new FleetStack(
    app,
    FLEET_STACK_NAME,
    {
      vcpu: o.vcpu ?? FLEET_DEFAULTS.vcpu,
      memoryGb: o.memoryGb ?? FLEET_DEFAULTS.memoryGb,
      cpuArchitecture: o.cpuArchitecture ?? FLEET_DEFAULTS.cpuArchitecture,
      ...(o.vpcId ? { vpcId: o.vpcId } : {}),
      resultsRetentionDays: o.resultsRetentionDays ?? FLEET_DEFAULTS.resultsRetentionDays,
      logRetention: RetentionDays.ONE_WEEK,
      image: o.image ?? { kind: 'asset', directory: IMAGE_DIR },
    },
    {
      env: {
        region: o.region ?? FLEET_DEFAULTS.region,
        // Vpc.fromLookup needs a concrete account; offline it is a placeholder the lookup never uses.
        account: o.account ?? process.env.CDK_DEFAULT_ACCOUNT ?? '000000000000',
      },
    },
  );
  return { app, stack };
}

/** A synthesized fleet: template, where it was written, and what cdk-nag found. */
export type FleetSynth = CheckedSynth;

/** Builds, checks (cdk-nag AwsSolutions) and synthesizes the fleet stack, offline. */
export async function synthFleetStack(o: FleetAppOptions = {}): Promise<FleetSynth> {
  const { app, stack } = await buildFleetApp(o);
  const { synthChecked } = await import('../common/nag.ts');
  return synthChecked(app, stack);
}
