/**
 * `peakday profile export-k6 --k6-operator` and `peakday fleet gather` through the real CLI: the
 * TestRun validates against the k6-operator's CRD (vendored in infra/k8s/k6-operator/, unknown
 * fields rejected as `kubectl apply --validate=strict` does), and, with a real k6 (K6_BIN), three
 * runners started as the operator starts them (its segment flags, `instance_id` tag and the
 * manifest's own arguments) leave outputs that `fleet gather` merges into exactly the plan.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readRun } from '../core/run-directory.ts';
import { countArrivals } from '../engine/segments.ts';
import { startTestServer } from '../engine/test-support.ts';
import type { Plan } from '../scenarios/plan.ts';
import { planIdentity } from '../scenarios/plan-identity.ts';
import { REPO_ROOT, runCli } from './cli-helper.ts';

type Schema = Record<string, unknown>;

/** The CRD's schema with unknown fields refused wherever it lists properties (strict validation). */
function strict(schema: Schema): Schema {
  const out: Schema = { ...schema };
  if (
    out.properties &&
    !out['x-kubernetes-preserve-unknown-fields'] &&
    out.additionalProperties === undefined
  )
    out.additionalProperties = false;
  if (out.properties)
    out.properties = Object.fromEntries(
      Object.entries(out.properties as Record<string, Schema>).map(([k, v]) => [k, strict(v)]),
    );
  if (out.items) out.items = strict(out.items as Schema);
  if (out.additionalProperties && typeof out.additionalProperties === 'object')
    out.additionalProperties = strict(out.additionalProperties as Schema);
  return out;
}

function testRunValidator() {
  const crd = parse(readFileSync(join(REPO_ROOT, 'infra/k8s/k6-operator/k6.io_testruns.yaml'), 'utf8'));
  const version = crd.spec.versions.find((v: { name: string }) => v.name === 'v1alpha1');
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('int32', {
    type: 'number',
    validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31,
  });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) });
  const validate = ajv.compile(strict(version.schema.openAPIV3Schema));
  return (doc: unknown) =>
    validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

async function exportOperator(dir: string, extra: string[] = []) {
  const r = await runCli([
    'profile',
    'export-k6',
    'ci-smoke',
    '--k6-operator',
    '--parallelism',
    '3',
    '--duration',
    '20s',
    '--peak-rps',
    '300',
    '--base-url',
    'http://shop.example.internal:8080',
    '--out',
    dir,
    ...extra,
  ]);
  return r;
}

describe('profile export-k6 --k6-operator', () => {
  it('writes a TestRun valid against the vendored k6-operator CRD, its ConfigMap and a results volume', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-k8s-'));
    const r = await exportOperator(dir, ['--cpu', '2', '--memory', '4Gi', '--namespace', 'load']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/peakday fleet gather/);
    const testRun = parse(readFileSync(join(dir, 'testrun.yaml'), 'utf8'));
    const validate = testRunValidator();
    expect(validate(testRun)).toEqual([]);
    // The validator does reject what the CRD does not allow.
    expect(validate({ ...testRun, spec: { ...testRun.spec, parallelizm: 3 } })).not.toEqual([]);
    expect(validate({ ...testRun, spec: { ...testRun.spec, parallelism: '3' } })).not.toEqual([]);
    const { script, ...noScript } = testRun.spec;
    expect(validate({ ...testRun, spec: noScript })).not.toEqual([]);
    expect(script).toBeDefined();

    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan;
    expect(testRun.apiVersion).toBe('k6.io/v1alpha1');
    expect(testRun.metadata.namespace).toBe('load');
    expect(testRun.spec.parallelism).toBe(3);
    expect(testRun.spec.arguments).toContain('--out json=/results/k6-out.ndjson');
    expect(testRun.spec.arguments).toContain(`--tag peakday_plan=${planIdentity(plan)}`);
    expect(testRun.spec.arguments).toContain('--tag peakday_segments=3');
    expect(testRun.spec.runner.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
    expect(testRun.spec.runner.resources.limits).toEqual({ cpu: '2', memory: '4Gi' });
    const cm = parse(readFileSync(join(dir, 'configmap.yaml'), 'utf8'));
    expect(cm.metadata.name).toBe(testRun.spec.script.configMap.name);
    expect(cm.data[testRun.spec.script.configMap.file]).toBe(readFileSync(join(dir, 'script.js'), 'utf8'));
    const pvc = parse(readFileSync(join(dir, 'results-pvc.yaml'), 'utf8'));
    expect(pvc.metadata.name).toBe(testRun.spec.runner.volumes[0].persistentVolumeClaim.claimName);
    expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
  });

  it.each([
    [['--parallelism', '0'], /--parallelism/],
    [['--segment', '1/3'], /gives each runner its segment itself/],
    [['--name', 'Not_A_Name'], /DNS-1123/],
    [['--cpu', '2'], /--cpu and --memory together/],
  ])('refuses %j with exit 2', async (flags, message) => {
    const r = await exportOperator(mkdtempSync(join(tmpdir(), 'peakday-k8s-')), flags);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

const K6_BIN = process.env.K6_BIN;

/** Runs k6 as the operator runs runner `index` of `count` (runner.go), results in `resultsDir`. */
function runAsOperatorRunner(
  k6: string,
  testRun: { spec: { arguments: string; runner: { env: { name: string; value?: string }[] } } },
  script: string,
  index: number,
  count: number,
  resultsDir: string,
): Promise<number> {
  const seq = ['0', ...Array.from({ length: count - 1 }, (_, k) => `${k + 1}/${count}`), '1'];
  const part = (k: number) => (k === 0 ? '0' : k === count ? '1' : `${k}/${count}`);
  const args = [
    'run',
    '--quiet',
    `--execution-segment=${part(index - 1)}:${part(index)}`,
    `--execution-segment-sequence=${seq.join(',')}`,
    ...testRun.spec.arguments.replaceAll('/results', resultsDir).split(' '),
    script,
    '--tag',
    `instance_id=${index}`,
    '--tag',
    'testrun_name=peakday-ci-smoke',
  ];
  const env: Record<string, string> = {};
  for (const e of testRun.spec.runner.env) if (e.value !== undefined) env[e.name] = e.value;
  return new Promise((resolve) => {
    const child = spawn(k6, args, { env: { ...process.env, ...env }, stdio: 'ignore' });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

describe.runIf(K6_BIN)('fleet gather (real k6 runners started as the k6-operator starts them)', () => {
  it("merges the runners' outputs into exactly the plan; a missing runner is named; another plan is refused", async () => {
    const server = await startTestServer();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'peakday-k8s-run-'));
      const exp = join(dir, 'export');
      const r = await runCli([
        'profile',
        'export-k6',
        'ci-smoke',
        '--k6-operator',
        '--parallelism',
        '3',
        '--duration',
        '20s',
        '--peak-rps',
        '300',
        '--base-url',
        server.url,
        '--out',
        exp,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const testRun = parse(readFileSync(join(exp, 'testrun.yaml'), 'utf8'));
      const cm = parse(readFileSync(join(exp, 'configmap.yaml'), 'utf8'));
      const script = join(dir, 'script.js');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(script, cm.data['script.js']);
      const results = join(dir, 'results');
      const codes = await Promise.all(
        [1, 2, 3].map((i) => {
          const pod = join(results, `peakday-ci-smoke-${i}-x${i}`);
          mkdirSync(pod, { recursive: true });
          return runAsOperatorRunner(K6_BIN as string, testRun, script, i, 3, pod);
        }),
      );
      expect(codes).toEqual([0, 0, 0]);
      const g = await runCli([
        'fleet',
        'gather',
        results,
        '--plan',
        join(exp, 'plan.json'),
        '--out',
        join(dir, 'run'),
        '--json',
      ]);
      expect(g.code, g.stderr).toBe(0);
      const { summary, missingSegments } = JSON.parse(g.stdout);
      const plan = JSON.parse(readFileSync(join(exp, 'plan.json'), 'utf8')) as Plan;
      const planned = countArrivals(plan).reduce((a, b) => a + b, 0);
      expect(missingSegments).toEqual([]);
      expect(summary.iterations.planned).toBe(planned);
      // Real k6 starts slightly fewer than a segment's rate integral: 1,095 of 1,107 (98.9%) in one CI
      // run at load 3.5. The bound checks the runners played the plan, not k6's exactness.
      expect(summary.iterations.started).toBeGreaterThanOrEqual(0.98 * planned);
      expect(summary.requests.total).toBe(server.received.count);
      expect(readRun(join(dir, 'run', 'generators', '2of3')).meta.segment).toEqual({ index: 2, count: 3 });

      // Without runner 2's folder: partial, segment 2/3 named.
      const { rmSync, cpSync } = await import('node:fs');
      const two = join(dir, 'two');
      cpSync(results, two, { recursive: true });
      rmSync(join(two, 'peakday-ci-smoke-2-x2'), { recursive: true });
      const p = await runCli([
        'fleet',
        'gather',
        two,
        '--plan',
        join(exp, 'plan.json'),
        '--out',
        join(dir, 'run2'),
        '--json',
      ]);
      expect(p.code, p.stderr).toBe(0);
      const partial = JSON.parse(p.stdout);
      expect(partial.missingSegments).toEqual(['2/3']);
      expect(partial.summary.partial).toBe(true);

      // Against another plan (another rate): refused, exit 2.
      const other = join(dir, 'other');
      const o = await runCli([
        'profile',
        'export-k6',
        'ci-smoke',
        '--k6-operator',
        '--parallelism',
        '3',
        '--duration',
        '20s',
        '--peak-rps',
        '301',
        '--base-url',
        server.url,
        '--out',
        other,
      ]);
      expect(o.code).toBe(0);
      const x = await runCli([
        'fleet',
        'gather',
        results,
        '--plan',
        join(other, 'plan.json'),
        '--out',
        join(dir, 'run3'),
      ]);
      expect(x.code).toBe(2);
      expect(x.stderr).toMatch(/played plan [0-9a-f]{16}, not [0-9a-f]{16}/);
    } finally {
      await server.close();
    }
  }, 180_000);
});
