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
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ABSOLUTE_MAX_RPS, DEFAULT_MAX_LIVE_RPS } from './limits.ts';
import { createChecker, readYamlSource, type YamlSource } from './yaml-source.ts';

export const CONFIG_FILE = 'peakday.config.yaml';

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
    if (root.assumptions !== undefined) cfg.assumptions = c.object(['assumptions'], root.assumptions) ?? {};
  }
  c.throwIfAny();
  return cfg;
}
