/**
 * The input fuzzer shared by the fuzz test (scenarios/profile-fuzz.test.ts) in its two sizes: a
 * small sample in `npm test` and the full 10,000 mutants in `npm run fuzz`. It mutates profiles,
 * budgets files and config files at random (seeded through core/rng.ts, so a failure reproduces)
 * and classifies each outcome: accepted, or rejected with a PeakdayError. Anything else (a crash,
 * a TypeError, a RangeError) is the bug the fuzzer exists to find.
 */
import { stringify } from 'yaml';
import { parseConfig } from '../../core/config.ts';
import { PeakdayError } from '../../core/errors.ts';
import type { Rng } from '../../core/rng.ts';
import { parseYamlSource } from '../../core/yaml-source.ts';
import { parseBudgets } from '../budgets/parse-budgets.ts';
import { compilePlan } from '../compile.ts';
import { builtinJourneys } from '../profile.ts';
import { parseProfile } from '../profile-parser.ts';

/** Values a mutation puts in place of a node: wrong types, edge numbers, malformed durations and expressions. */
const REPLACEMENTS: unknown[] = [
  -1,
  0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  1e308,
  1e20,
  0.5,
  7,
  '',
  'abc',
  '5x',
  '10m',
  '-3s',
  '1ms',
  '999d',
  '35%',
  'p95 < 500',
  'p100 < 1s',
  'rate < 150%',
  'rate<0.01',
  'p(95)<500',
  'http_req_duration{channel:web}',
  'latnecy',
  null,
  true,
  [],
  {},
  [1, 2],
  { x: 1 },
  'x'.repeat(300),
  'line one\nline two',
];

type Json = Record<string, unknown> | unknown[];

function paths(node: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      const p = [...prefix, Array.isArray(node) ? Number(k) : k];
      out.push(p);
      paths(v, p, out);
    }
  }
  return out;
}

function parentOf(root: Json, path: (string | number)[]): Json | undefined {
  let node: unknown = root;
  for (const k of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[k];
  }
  return node !== null && typeof node === 'object' ? (node as Json) : undefined;
}

/** One random structural mutation of the data (1-3 edits), or a textual one of its YAML. */
export function mutate(text: string, rng: Rng): string {
  const kind = rng.int(10);
  if (kind === 0) {
    const lines = text.split('\n');
    lines.splice(rng.int(lines.length), 1);
    return lines.join('\n');
  }
  if (kind === 1) {
    const i = rng.int(text.length);
    return text.slice(0, i) + ['{', ':', '-', '"', '  ', '\t', '[', '&a', '*b'][rng.int(9)] + text.slice(i);
  }
  const data = parseYamlSource(text, 'x.yaml').data as Json;
  const all = paths(data);
  const n = 1 + rng.int(3);
  for (let m = 0; m < n; m++) {
    const path = all[rng.int(all.length)];
    if (!path) break;
    const parent = parentOf(data, path);
    const key = path[path.length - 1] as string | number;
    if (!parent) continue;
    const node = parent as Record<string | number, unknown>;
    const op = rng.int(4);
    if (op === 0) node[key] = REPLACEMENTS[rng.int(REPLACEMENTS.length)];
    else if (op === 1) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete node[key];
    } else if (op === 2 && !Array.isArray(parent)) node[`${String(key)}x`] = 1;
    else {
      const v = node[key];
      if (typeof v === 'number') node[key] = v * ([-1, 0, 1e6, 1e-6][rng.int(4)] as number);
      else if (typeof v === 'string') node[key] = `${v}${['0', 'h', 'x', '', '%', ' ms'][rng.int(6)]}`;
    }
  }
  return stringify(data);
}

/** The three kinds of input the fuzzer mutates. */
export type FuzzKind = 'profile' | 'budgets' | 'config';

/** Accepted, or rejected with a PeakdayError; a crash is thrown with the mutant in its message. */
export type FuzzOutcome = { ok: true } | { ok: false; error: PeakdayError };

/** The error code a rejected input of each kind carries when its problems are located in the file. */
export const LOCATED_CODES: Record<FuzzKind, readonly string[]> = {
  profile: ['profile-invalid', 'yaml-invalid'],
  budgets: ['budgets-invalid', 'yaml-invalid'],
  config: ['config-invalid', 'yaml-invalid'],
};

const validators: Record<FuzzKind, (text: string, file: string) => void> = {
  profile: (text, file) => {
    const src = parseYamlSource(text, file, 'profile-invalid');
    const model = parseProfile(src, { builtinJourneys: builtinJourneys(), env: {} });
    compilePlan({ model, file, builtin: false, hash: 'fuzz' }, { maxPeakRps: 20_000 });
  },
  budgets: (text, file) => {
    parseBudgets(parseYamlSource(text, file, 'budgets-invalid'));
  },
  config: (text, file) => {
    parseConfig(parseYamlSource(text, file, 'config-invalid'));
  },
};

/** Validates one mutant of `kind` as the CLI would (a profile is also compiled). */
export function attempt(kind: FuzzKind, text: string, file = 'mutant.yaml'): FuzzOutcome {
  try {
    validators[kind](text, file);
    return { ok: true };
  } catch (e) {
    if (e instanceof PeakdayError) return { ok: false, error: e };
    throw new Error(`crash on a ${kind} mutant:\n${text}\n${(e as Error).stack}`);
  }
}

/** A configuration exercising every key (README "Configuration"), the seed of config mutants. */
export const CONFIG_SEED = `allowedHosts: [staging.example.com]
runsDir: runs
defaults: { seed: 1, driver: builtin, peakRps: 200, duration: 2m }
pricing: { region: us-east-1, overrides: { fargate.x86.vcpuHour: 0.04 } }
assumptions: { fargate.startLatency: 45s }
limits: { maxRps: 50000 }
`;
