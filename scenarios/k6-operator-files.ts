/**
 * `peakday profile export-k6 <profile> --k6-operator --parallelism N --out DIR`: checks the flags,
 * exports the plan's script for N segments and writes the k6-operator manifests (k6-operator.ts),
 * `plan.json` (what `peakday fleet gather` merges the outputs against) and says what to run next.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Problem, validationError } from '../core/errors.ts';
import { exportK6Script, type K6ExportOptions } from './k6-export.ts';
import { buildK6OperatorManifests, isK8sName, k8sNameFor } from './k6-operator.ts';
import type { Plan } from './plan.ts';
import { planIdentity } from './plan-identity.ts';

/** A ConfigMap holds at most 1 MiB (Kubernetes' limit on an object's data). */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

/** The flags, as given. */
export interface K6OperatorExportFlags {
  outDir: string;
  baseUrl: string;
  pools: Record<string, readonly unknown[]>;
  thresholds?: K6ExportOptions['thresholds'];
  parallelism: string;
  segment?: string;
  name?: string;
  namespace?: string;
  storageClass?: string;
  cpu?: string;
  memory?: string;
  typescript?: boolean;
}

/** Writes the manifests and plan.json; returns the warnings and the lines to print. */
export function writeK6OperatorExport(
  plan: Plan,
  f: K6OperatorExportFlags,
): { warnings: string[]; lines: string[]; files: string[] } {
  const problems: Problem[] = [];
  const n = Number(f.parallelism);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    problems.push({
      path: '--parallelism',
      message: `"${f.parallelism}" is not a whole number from 1 to 1000`,
      expected: 'runner pods, e.g. 4',
    });
  if (f.segment !== undefined)
    problems.push({
      path: '--segment',
      message: 'the k6-operator gives each runner its segment itself',
      expected: '--parallelism N without --segment',
    });
  if (f.typescript)
    problems.push({
      path: '--ts',
      message: 'the manifests carry the JavaScript script',
      expected: 'no --ts with --k6-operator',
    });
  const name = f.name ?? k8sNameFor(plan.profile.name);
  if (!isK8sName(name))
    problems.push({
      path: '--name',
      message: `"${name}" is not a DNS-1123 name of at most 52 characters`,
      expected: 'lowercase letters, digits and -, e.g. peakday-flash-sale',
    });
  if (f.namespace !== undefined && !isK8sName(f.namespace))
    problems.push({
      path: '--namespace',
      message: `"${f.namespace}" is not a DNS-1123 name`,
      expected: 'e.g. load',
    });
  if ((f.cpu === undefined) !== (f.memory === undefined))
    problems.push({
      path: f.cpu === undefined ? '--cpu' : '--memory',
      message: 'give --cpu and --memory together',
      expected: 'e.g. --cpu 2 --memory 4Gi (see `peakday fleet size`)',
    });
  if (problems.length > 0)
    throw validationError('k6-operator-flags-invalid', 'profile export-k6 --k6-operator', problems);
  const exported = exportK6Script(plan, {
    baseUrl: f.baseUrl,
    pools: f.pools,
    segmentCount: n,
    ...(f.thresholds ? { thresholds: f.thresholds } : {}),
  });
  const bytes = Buffer.byteLength(exported.script);
  if (bytes > CONFIGMAP_MAX_BYTES * 0.95)
    throw validationError('k6-operator-script-too-large', 'profile export-k6 --k6-operator', [
      {
        path: 'script',
        message: `the script is ${bytes} bytes; a ConfigMap holds at most ${CONFIGMAP_MAX_BYTES}`,
        expected: 'a shorter plan (--window, --duration) or fewer pool values',
      },
    ]);
  const manifests = buildK6OperatorManifests({
    name,
    parallelism: n,
    script: exported.script,
    baseUrl: f.baseUrl,
    profile: plan.profile.name,
    planId: planIdentity(plan),
    requests: plan.requests,
    ...(f.namespace ? { namespace: f.namespace } : {}),
    ...(f.storageClass ? { storageClass: f.storageClass } : {}),
    ...(f.cpu && f.memory ? { resources: { cpu: f.cpu, memory: f.memory } } : {}),
  });
  mkdirSync(f.outDir, { recursive: true });
  const files: string[] = [];
  for (const [file, text] of Object.entries(manifests)) {
    writeFileSync(join(f.outDir, file), text);
    files.push(join(f.outDir, file));
  }
  writeFileSync(join(f.outDir, 'plan.json'), `${JSON.stringify(plan)}\n`);
  writeFileSync(join(f.outDir, 'script.js'), exported.script);
  files.push(join(f.outDir, 'plan.json'), join(f.outDir, 'script.js'));
  const ns = f.namespace ? ` -n ${f.namespace}` : '';
  const d = f.outDir;
  return {
    warnings: exported.warnings,
    files,
    lines: [
      `wrote ${d}: TestRun ${name} (${n} runner pods, one execution segment each), its script ConfigMap, results volume claim, gather pod, plan.json`,
      'next (docs/fleet.md, "On Kubernetes"):',
      `  kubectl${ns} apply -f ${join(d, 'configmap.yaml')} -f ${join(d, 'results-pvc.yaml')} -f ${join(d, 'testrun.yaml')}`,
      `  kubectl${ns} wait testrun/${name} --for=jsonpath='{.status.stage}'=finished --timeout=2h`,
      `  kubectl${ns} apply -f ${join(d, 'gather-pod.yaml')} && kubectl${ns} wait pod/${name}-gather --for=condition=Ready`,
      `  kubectl${ns} cp ${name}-gather:/results ./${name}-results`,
      `  peakday fleet gather ./${name}-results --plan ${join(d, 'plan.json')} --out runs/${name}`,
    ],
  };
}
