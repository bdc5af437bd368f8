/**
 * Fuzz: mutates the built-in profiles at random (seeded, so a failure reproduces) and asserts that
 * every outcome is either a valid plan or a PeakdayError (exit 2) whose problems are located —
 * never a crash, a hang or an internal error. A sample of failing mutants also goes through the
 * real CLI (exit 2, no stack trace).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PeakdayError } from '../core/errors.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { parseYamlSource } from '../core/yaml-source.ts';
import { runCli } from '../test/cli-helper.ts';
import { compilePlan } from './compile.ts';
import { builtinJourneys, listProfiles } from './profile.ts';
import { parseProfile } from './profile-parser.ts';

const REPLACEMENTS: unknown[] = [
  -1,
  0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  1e308,
  0.5,
  7,
  '',
  'abc',
  '5x',
  '10m',
  '-3s',
  '1ms',
  '999d',
  null,
  true,
  [],
  {},
  [1, 2],
  { x: 1 },
  'x'.repeat(300),
];

type Json = Record<string, unknown> | unknown[];

function paths(
  node: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
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

/** One random structural mutation of the data, or a textual one of its YAML. */
function mutate(text: string, rng: Rng): string {
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
    const op = rng.int(4);
    if (op === 0)
      (parent as Record<string | number, unknown>)[key] = REPLACEMENTS[rng.int(REPLACEMENTS.length)];
    else if (op === 1) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete (parent as Record<string, unknown>)[key as string];
    } else if (op === 2 && !Array.isArray(parent)) (parent as Record<string, unknown>)[`${String(key)}x`] = 1;
    else {
      const v = (parent as Record<string | number, unknown>)[key];
      if (typeof v === 'number')
        (parent as Record<string | number, unknown>)[key] = v * [-1, 0, 1e6, 1e-6][rng.int(4)]!;
      else if (typeof v === 'string')
        (parent as Record<string | number, unknown>)[key] = `${v}${['0', 'h', 'x', ''][rng.int(4)]}`;
    }
  }
  return stringify(data);
}

type Outcome = { ok: true } | { ok: false; error: PeakdayError };

function attempt(text: string): Outcome {
  try {
    const src = parseYamlSource(text, 'mutant.yaml', 'profile-invalid');
    const model = parseProfile(src, { builtinJourneys: builtinJourneys(), env: {} });
    compilePlan({ model, file: 'mutant.yaml', builtin: false, hash: 'fuzz' }, {});
    return { ok: true };
  } catch (e) {
    if (e instanceof PeakdayError) return { ok: false, error: e };
    throw new Error(`crash on mutant:\n${text}\n${(e as Error).stack}`);
  }
}

const MUTANTS_PER_PROFILE = 60;

describe('profile fuzzing', () => {
  const failures: string[] = [];

  it.each(listProfiles().map((p) => [p.name, p.file] as const))(
    'mutants of %s either compile or fail with located problems (exit 2)',
    (name, file) => {
      const text = readFileSync(file, 'utf8');
      const rng = createRng(0xfeed ^ name.length);
      let failed = 0;
      for (let i = 0; i < MUTANTS_PER_PROFILE; i++) {
        const mutant = mutate(text, rng.fork(`${name}-${i}`));
        const r = attempt(mutant);
        if (r.ok) continue;
        failed++;
        expect(r.error.exitCode, r.error.message).toBe(2);
        if (r.error.code === 'profile-invalid' || r.error.code === 'yaml-invalid') {
          expect(r.error.problems.length, r.error.message).toBeGreaterThan(0);
          for (const p of r.error.problems) {
            expect(p.file).toBe('mutant.yaml');
            expect(p.line, JSON.stringify(p)).toBeGreaterThan(0);
            expect(p.column, JSON.stringify(p)).toBeGreaterThan(0);
            expect(p.message.length).toBeGreaterThan(0);
          }
        }
        if (failures.length < 3 && r.error.code === 'profile-invalid') failures.push(mutant);
      }
      // The mutations are meant to break things: most mutants must be rejected.
      expect(failed).toBeGreaterThan(MUTANTS_PER_PROFILE / 4);
    },
  );

  it('a sample of rejected mutants exits 2 through the CLI with located problems and no stack trace', async () => {
    expect(failures.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'peakday-fuzz-'));
    for (const [i, mutant] of failures.slice(0, 2).entries()) {
      const file = join(dir, `mutant-${i}.yaml`);
      writeFileSync(file, mutant);
      const r = await runCli(['profile', 'validate', file]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
