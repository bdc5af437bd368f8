/**
 * `peakday fleet synth|deploy|destroy`: the k6 fleet stack (infra/fleet/) synthesized offline,
 * deployed and destroyed through the CDK toolkit (infra/common/toolkit.ts, as the reference stack),
 * and the fleet file (`.peakday/fleet.json`) that `peakday run --fleet ecs` reads: the stack's outputs.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { invalidInput } from '../core/errors.ts';
import type { StackToolkit } from '../infra/common/toolkit.ts';
import type { FleetAppOptions, FleetSynth } from '../infra/fleet/app.ts';
import { classifyAwsFailure, confirmOrYes } from './deploy.ts';
import type { EcsFleetConfig } from './fleet.ts';

/** Where the fleet file is, under a working directory. */
export function defaultFleetFile(cwd: string): string {
  return join(cwd, '.peakday', 'fleet.json');
}

/** Fargate's vCPU sizes and the memory (GiB) each allows (AWS Fargate task sizes). */
export const FARGATE_SIZES: Record<number, { min: number; max: number; step: number }> = {
  0.25: { min: 0.5, max: 2, step: 0.5 },
  0.5: { min: 1, max: 4, step: 1 },
  1: { min: 2, max: 8, step: 1 },
  2: { min: 4, max: 16, step: 1 },
  4: { min: 8, max: 30, step: 1 },
  8: { min: 16, max: 60, step: 4 },
  16: { min: 32, max: 120, step: 8 },
};

/** Checks a generator size against Fargate's task sizes; a problem sentence, or null. */
export function checkFargateSize(vcpu: number, memoryGb: number): string | null {
  const s = FARGATE_SIZES[vcpu];
  if (!s) return `${vcpu} vCPU is not a Fargate size (${Object.keys(FARGATE_SIZES).join(', ')})`;
  if (
    memoryGb < s.min ||
    memoryGb > s.max ||
    Math.abs((memoryGb - s.min) / s.step - Math.round((memoryGb - s.min) / s.step)) > 1e-9
  )
    return `${memoryGb} GB does not go with ${vcpu} vCPU on Fargate (${s.min}-${s.max} GB in steps of ${s.step})`;
  return null;
}

/** Synthesizes the fleet stack offline into `outDir`; returns the template and cdk-nag's report. */
export async function synthFleet(o: FleetAppOptions): Promise<FleetSynth> {
  const sizeProblem = checkFargateSize(o.vcpu ?? 2, o.memoryGb ?? 4);
  if (sizeProblem)
    throw invalidInput(
      'fleet-size-invalid',
      sizeProblem,
      'e.g. --vcpu 2 --memory 4 (see `peakday fleet size`)',
    );
  const { synthFleetStack } = await import('../infra/fleet/app.ts');
  return synthFleetStack(o);
}

/** The fleet file: the deployed stack's outputs as `run --fleet ecs` uses them. */
export function fleetConfigFrom(
  outputs: Record<string, string>,
  region: string,
  cpuArchitecture: 'arm64' | 'x86_64',
): EcsFleetConfig {
  const get = (k: string) => outputs[k] ?? '';
  return {
    region,
    cluster: get('ClusterName'),
    taskDefinition: get('TaskDefinitionArn'),
    bucket: get('ResultsBucket'),
    subnets: get('Subnets').split(',').filter(Boolean),
    securityGroups: [get('SecurityGroup')].filter(Boolean),
    assignPublicIp: get('AssignPublicIp') === 'ENABLED',
    vcpu: Number(get('GeneratorVcpu')),
    memoryGb: Number(get('GeneratorMemoryGb')),
    cpuArchitecture,
    container: 'k6',
  };
}

/** Reads the fleet file (exit 2 when missing or not one). */
export function readFleetFile(file: string): EcsFleetConfig {
  if (!existsSync(file))
    throw invalidInput(
      'stack-file-missing',
      `no fleet file at ${file}`,
      'deploy the fleet first: peakday fleet deploy',
    );
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as EcsFleetConfig;
    if (!c.cluster || !c.taskDefinition || !c.bucket || !Array.isArray(c.subnets))
      throw new Error('fields missing');
    return c;
  } catch (e) {
    throw invalidInput(
      'stack-file-invalid',
      `${file} is not a fleet file: ${(e as Error).message}`,
      'deploy the fleet again: peakday fleet deploy',
    );
  }
}

/** How deploy and destroy report and ask. */
export interface FleetSink {
  progress(line: string): void;
  confirm?: (question: string) => Promise<boolean>;
}

async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw classifyAwsFailure(e);
  }
}

async function openToolkit(
  o: FleetAppOptions & { region: string },
  profile: string | undefined,
  sink: FleetSink,
): Promise<StackToolkit> {
  const [{ createCdkToolkit }, { buildFleetApp, FLEET_STACK_NAME }] = await Promise.all([
    import('../infra/common/toolkit.ts'),
    import('../infra/fleet/app.ts'),
  ]);
  return createCdkToolkit({
    build: async (outdir) => (await buildFleetApp({ ...o, ...(outdir ? { outdir } : {}) })).app,
    stackName: FLEET_STACK_NAME,
    region: o.region,
    ...(profile ? { profile } : {}),
    progress: (l) => sink.progress(l),
  });
}

/** Deploys the fleet stack (diff, confirmation, deploy) and writes the fleet file. */
export async function deployFleet(
  o: FleetAppOptions & { region: string; profile?: string; yes: boolean; fleetFile: string },
  sink: FleetSink,
): Promise<{ deployed: boolean; config?: EcsFleetConfig }> {
  const sizeProblem = checkFargateSize(o.vcpu ?? 2, o.memoryGb ?? 4);
  if (sizeProblem)
    throw invalidInput(
      'fleet-size-invalid',
      sizeProblem,
      'e.g. --vcpu 2 --memory 4 (see `peakday fleet size`)',
    );
  const toolkit = await openToolkit(o, o.profile, sink);
  const diff = await guard(() => toolkit.diff());
  sink.progress(diff.text || '(no differences shown)');
  sink.progress(`${diff.changes} difference(s) against what is deployed`);
  if (
    !(await confirmOrYes(
      o.yes,
      sink,
      'Deploy the k6 fleet stack (no cost while no task runs, but the results bucket)?',
    ))
  )
    return { deployed: false };
  sink.progress('deploying (the generator image is built and pushed first)...');
  const outputs = await guard(() => toolkit.deploy());
  const config = fleetConfigFrom(outputs, o.region, o.cpuArchitecture ?? 'arm64');
  mkdirSync(dirname(o.fleetFile), { recursive: true });
  writeFileSync(o.fleetFile, `${JSON.stringify(config, null, 2)}\n`);
  return { deployed: true, config };
}

/** Destroys the fleet stack; the results bucket is retained (nothing measured is lost). */
export async function destroyFleet(
  o: FleetAppOptions & { region: string; profile?: string; yes: boolean },
  sink: FleetSink,
): Promise<boolean> {
  const toolkit = await openToolkit(o, o.profile, sink);
  if (!(await confirmOrYes(o.yes, sink, 'Destroy the k6 fleet stack (its results bucket is kept)?')))
    return false;
  await guard(() => toolkit.destroy());
  return true;
}
