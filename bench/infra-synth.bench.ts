/**
 * Synth time of the reference stack on AWS, both topologies: what `peakday stack synth --aws` spends
 * per topology building the CDK app, running cdk-nag's AwsSolutions checks and writing the cloud
 * assembly (the services' image staged as an asset, never built). Module loading (aws-cdk-lib is
 * large) is reported apart: it is paid once per process. Three rounds each; prints the median and range.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const t0 = performance.now();
const { synthReferenceStack } = await import('../infra/reference-stack/app.ts');
await import('aws-cdk-lib');
await import('cdk-nag');
const loadMs = performance.now() - t0;
console.log(`load: aws-cdk-lib, cdk-nag and the stack modules imported in ${loadMs.toFixed(0)} ms`);

const ROUNDS = 3;
for (const arch of ['headless', 'monolith'] as const) {
  const times: number[] = [];
  let resources = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-synth-bench-'));
    const s0 = performance.now();
    const r = await synthReferenceStack({ arch, outdir: dir });
    times.push(performance.now() - s0);
    resources = Object.keys(r.template.Resources as object).length;
    if (r.nag.findings.length > 0) throw new Error(`${arch}: cdk-nag findings: ${r.nag.findings.length}`);
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  console.log(
    `${arch.padEnd(8)}  ${resources} resources  synth + nag: median ${times[1]!.toFixed(0)} ms (${times[0]!.toFixed(0)}-${times[ROUNDS - 1]!.toFixed(0)} ms over ${ROUNDS} rounds)`,
  );
}
console.log(
  `load average: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
