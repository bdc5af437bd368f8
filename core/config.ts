/**
 * `peakday.config.yaml`: optional defaults read from the working directory. Every field is optional;
 * command-line flags win over it. Documented in README "Configuration".
 *
 *   allowedHosts: [staging.example.com]   # targets besides loopback that load may be sent to
 *   runsDir: runs                         # where run directories go
 *   defaults: { seed: 1, driver: builtin, peakRps: 200, baselineRps: 20, duration: 2m }
 *   pricing: { region: us-east-1, overrides: { fargate.x86.vcpuHour: 0.04 } }
 *   assumptions: { ... }                  # overrides of model inputs by name (see docs)
 *   limits: { maxRps: 50000 }             # raise the live-rate ceiling deliberately (docs/errors.md)
 *   metrics:                              # your own CloudWatch metrics for a service (collect --source cloudwatch)
 *     cart:
 *       requests: { namespace: Shop, name: CartRequests, dimensions: { Service: cart }, stat: Sum }
 *       latency: { namespace: Shop, name: CartLatency, dimensions: { Service: cart }, stat: p95, unit: ms }
 *       queueDepth: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: cart-jobs } }
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ABSOLUTE_MAX_RPS, DEFAULT_MAX_LIVE_RPS } from './limits.ts';
import { createChecker, readYamlSource, type YamlSource } from './yaml-source.ts';

export const CONFIG_FILE = 'peakday.config.yaml';

/** What a custom metric stands for in the timeline: a service's requests, latency or queue depth. */
export type CustomMetricRole = 'requests' | 'latency' | 'queueDepth';

/** One custom CloudWatch metric a user maps to a service (`metrics.<service>.<role>`). */
export interface CustomMetric {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  /** CloudWatch statistic: Sum, Average, Maximum, Minimum, SampleCount or pNN (default by role). */
  stat: string;
  /** Latency only: the metric's unit, `ms` (default) or `s`. */
  unit?: 'ms' | 's';
}

/** The default statistic of each role: a count is summed, a latency averaged, a queue's depth its maximum. */
export const CUSTOM_METRIC_DEFAULT_STAT: Record<CustomMetricRole, string> = {
  requests: 'Sum',
  latency: 'Average',
  queueDepth: 'Maximum',
};

export interface PeakdayConfig {
  /** Non-loopback hosts load may target, in addition to `--allow-host`. */
  allowedHosts: string[];
  /** Directory for run directories (default `runs`). */
  runsDir: string;
  defaults: {
    seed?: number;
    driver?: 'builtin' | 'k6';
    peakRps?: number;
    baselineRps?: number;
    /** Wall-clock duration in seconds. */
    duration?: number;
  };
  pricing: { region?: string; overrides: Record<string, number> };
  /** Overrides of named model inputs (e.g. `fargate.startLatency`), interpreted by each model. */
  assumptions: Record<string, unknown>;
  /** Raised limits (core/limits.ts): `maxRps` is the live-rate ceiling (default DEFAULT_MAX_LIVE_RPS). */
  limits: { maxRps?: number };
  /** Custom CloudWatch metrics per service (`collect --source cloudwatch` reads them). */
  metrics: Record<string, Partial<Record<CustomMetricRole, CustomMetric>>>;
  /** The file it came from, when there was one. */
  file?: string;
}

export const DEFAULT_CONFIG: PeakdayConfig = {
  allowedHosts: [],
  runsDir: 'runs',
  defaults: {},
  pricing: { overrides: {} },
  assumptions: {},
  limits: {},
  metrics: {},
};

/** Reads `peakday.config.yaml` from `cwd` if present; invalid content is a located error (exit 2). */
export function readConfig(cwd: string = process.cwd()): PeakdayConfig {
  const file = join(cwd, CONFIG_FILE);
  if (!existsSync(file)) return structuredClone(DEFAULT_CONFIG);
  return parseConfig(readYamlSource(file, 'config-invalid'));
}

/** Validates a configuration document (pure: the fuzz test feeds it mutants); throws every problem at once. */
export function parseConfig(src: YamlSource): PeakdayConfig {
  const c = createChecker(src, 'config-invalid', 'configuration');
  const cfg = structuredClone(DEFAULT_CONFIG);
  cfg.file = src.file;
  if (src.data === null || src.data === undefined) return cfg;
  const root = c.object([], src.data, [
    'allowedHosts',
    'runsDir',
    'defaults',
    'pricing',
    'assumptions',
    'limits',
    'metrics',
  ]);
  if (root) {
    if (root.limits !== undefined) {
      const l = c.object(['limits'], root.limits, ['maxRps']);
      if (l?.maxRps !== undefined)
        cfg.limits.maxRps = c.number(['limits', 'maxRps'], l.maxRps, {
          exclusiveMin: 0,
          max: ABSOLUTE_MAX_RPS,
        });
    }
    const maxRps = cfg.limits.maxRps ?? DEFAULT_MAX_LIVE_RPS;
    const rate = (key: 'peakRps' | 'baselineRps', v: unknown): number | undefined => {
      const n = c.number(['defaults', key], v, { exclusiveMin: 0 });
      if (n !== undefined && n > maxRps) {
        c.add(['defaults', key], `is ${n} requests/s, above the live limit of ${maxRps}`, {
          expected: `at most ${maxRps}`,
          hint: `a loopback run past ${DEFAULT_MAX_LIVE_RPS}/s measures the load generator, not the target; raise the limit deliberately with limits: { maxRps: ${n} }`,
        });
        return undefined;
      }
      return n;
    };
    if (root.allowedHosts !== undefined) {
      const hosts = c.array(['allowedHosts'], root.allowedHosts) ?? [];
      hosts.forEach((h, i) => {
        const s = c.string(['allowedHosts', i], h);
        if (s) cfg.allowedHosts.push(s);
      });
    }
    if (root.runsDir !== undefined) cfg.runsDir = c.string(['runsDir'], root.runsDir) ?? cfg.runsDir;
    if (root.defaults !== undefined) {
      const d = c.object(['defaults'], root.defaults, [
        'seed',
        'driver',
        'peakRps',
        'baselineRps',
        'duration',
      ]);
      if (d) {
        if (d.seed !== undefined)
          cfg.defaults.seed = c.number(['defaults', 'seed'], d.seed, { integer: true, min: 0 });
        if (d.driver !== undefined)
          cfg.defaults.driver = c.oneOf(['defaults', 'driver'], d.driver, ['builtin', 'k6']);
        if (d.peakRps !== undefined) cfg.defaults.peakRps = rate('peakRps', d.peakRps);
        if (d.baselineRps !== undefined) cfg.defaults.baselineRps = rate('baselineRps', d.baselineRps);
        if (d.duration !== undefined)
          cfg.defaults.duration = c.duration(['defaults', 'duration'], d.duration, { allowZero: false });
      }
    }
    if (root.pricing !== undefined) {
      const p = c.object(['pricing'], root.pricing, ['region', 'overrides']);
      if (p) {
        if (p.region !== undefined) cfg.pricing.region = c.string(['pricing', 'region'], p.region);
        if (p.overrides !== undefined) {
          const o = c.object(['pricing', 'overrides'], p.overrides) ?? {};
          for (const [k, v] of Object.entries(o)) {
            const n = c.number(['pricing', 'overrides', k], v, { min: 0 });
            if (n !== undefined) cfg.pricing.overrides[k] = n;
          }
        }
      }
    }
    if (root.metrics !== undefined) cfg.metrics = parseCustomMetrics(c, root.metrics);
    if (root.assumptions !== undefined) cfg.assumptions = c.object(['assumptions'], root.assumptions) ?? {};
  }
  c.throwIfAny();
  return cfg;
}

/** CloudWatch statistics GetMetricData takes for a MetricStat (extended: pNN, pNN.N). */
const STAT = /^(Sum|Average|Maximum|Minimum|SampleCount|p\d{1,2}(\.\d+)?)$/;

/**
 * `metrics:` — per service, per role (requests, latency, queueDepth), a CloudWatch metric by
 * namespace, name, dimensions and statistic. Every problem is reported at its line and column.
 */
function parseCustomMetrics(c: ReturnType<typeof createChecker>, value: unknown): PeakdayConfig['metrics'] {
  const out: PeakdayConfig['metrics'] = {};
  const services = c.object(['metrics'], value) ?? {};
  for (const [service, v] of Object.entries(services)) {
    const roles = c.object(['metrics', service], v, ['requests', 'latency', 'queueDepth']);
    if (!roles) continue;
    const mine: Partial<Record<CustomMetricRole, CustomMetric>> = {};
    for (const role of ['requests', 'latency', 'queueDepth'] as const) {
      if (roles[role] === undefined) continue;
      const path = ['metrics', service, role];
      const m = c.object(path, roles[role], ['namespace', 'name', 'dimensions', 'stat', 'unit']);
      if (!m) continue;
      const ns = c.required(path, m, 'namespace', 'a CloudWatch namespace, e.g. Shop/Cart');
      const nm = c.required(path, m, 'name', 'a metric name, e.g. CartRequests');
      const namespace = ns === undefined ? undefined : c.string([...path, 'namespace'], ns);
      const name = nm === undefined ? undefined : c.string([...path, 'name'], nm);
      const dimensions: Record<string, string> = {};
      if (m.dimensions !== undefined) {
        const d = c.object([...path, 'dimensions'], m.dimensions) ?? {};
        for (const [k, dv] of Object.entries(d)) {
          const sv = typeof dv === 'number' ? String(dv) : c.string([...path, 'dimensions', k], dv);
          if (sv !== undefined) dimensions[k] = sv;
        }
      }
      let stat = CUSTOM_METRIC_DEFAULT_STAT[role];
      if (m.stat !== undefined) {
        const s = c.string([...path, 'stat'], m.stat);
        if (s !== undefined && !STAT.test(s))
          c.add([...path, 'stat'], `is "${s}", not a CloudWatch statistic`, {
            expected: 'Sum, Average, Maximum, Minimum, SampleCount or a percentile such as p95',
            hint: `${role} is usually ${CUSTOM_METRIC_DEFAULT_STAT[role]}`,
          });
        else if (s !== undefined) stat = s;
      }
      let unit: CustomMetric['unit'];
      if (m.unit !== undefined) {
        if (role !== 'latency')
          c.add([...path, 'unit'], `applies to latency only, not ${role}`, { hint: 'remove it' });
        else unit = c.oneOf([...path, 'unit'], m.unit, ['ms', 's']);
      }
      if (namespace && name) mine[role] = { namespace, name, dimensions, stat, ...(unit ? { unit } : {}) };
    }
    out[service] = mine;
  }
  return out;
}
