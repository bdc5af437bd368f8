/**
 * Fuzz: mutates the built-in profiles, the built-in budgets files and a full configuration at
 * random (seeded, so a failure reproduces) and asserts that every outcome is either accepted or a
 * PeakdayError (exit 2) whose problems are located — never a crash, a hang or an internal error.
 * A sample of rejected mutants of each kind also goes through the real CLI (exit 2, no stack trace).
 *
 * `npm test` plays a small sample (about 600 mutants); `npm run fuzz` sets PEAKDAY_FUZZ_MUTANTS=10000
 * and plays the full 10,000 (70% profiles, 20% budgets, 10% config), which takes minutes.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PeakdayError } from '../core/errors.ts';
import { createRng } from '../core/rng.ts';
import { runCli } from '../test/cli-helper.ts';
import { listProfiles } from './profile.ts';
import { attempt, CONFIG_SEED, type FuzzKind, LOCATED_CODES, mutate } from './testing/fuzz.ts';

const TOTAL = Number(process.env.PEAKDAY_FUZZ_MUTANTS ?? 600);
const BUDGETS_DIR = fileURLToPath(new URL('./budgets/', import.meta.url));

const seeds: { kind: FuzzKind; name: string; text: string }[] = [
  ...listProfiles().map((p) => ({
    kind: 'profile' as const,
    name: p.name,
    text: readFileSync(p.file, 'utf8'),
  })),
  ...readdirSync(BUDGETS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ kind: 'budgets' as const, name: f, text: readFileSync(join(BUDGETS_DIR, f), 'utf8') })),
  { kind: 'config' as const, name: 'peakday.config.yaml', text: CONFIG_SEED },
];
const SHARE: Record<FuzzKind, number> = { profile: 0.7, budgets: 0.2, config: 0.1 };
const perSeed = (kind: FuzzKind) =>
  Math.max(10, Math.round((TOTAL * SHARE[kind]) / seeds.filter((s) => s.kind === kind).length));

function expectLocated(kind: FuzzKind, error: PeakdayError, mutant: string): void {
  expect(error.exitCode, `${error.message}\n${mutant}`).toBe(2);
  if (!LOCATED_CODES[kind].includes(error.code)) return;
  expect(error.problems.length, error.message).toBeGreaterThan(0);
  for (const p of error.problems) {
    expect(p.file).toBe('mutant.yaml');
    expect(p.line, JSON.stringify(p)).toBeGreaterThan(0);
    expect(p.column, JSON.stringify(p)).toBeGreaterThan(0);
    expect(p.message.length).toBeGreaterThan(0);
  }
}

describe(`input fuzzing (${TOTAL} mutants)`, () => {
  const rejected: Record<FuzzKind, string[]> = { profile: [], budgets: [], config: [] };

  it.each(seeds.map((s) => [s.kind, s.name, s] as const))(
    'mutants of the %s %s are accepted or rejected with located problems (exit 2)',
    (kind, name, seed) => {
      const n = perSeed(kind);
      const rng = createRng(0xfeed ^ name.length);
      let failed = 0;
      for (let i = 0; i < n; i++) {
        const mutant = mutate(seed.text, rng.fork(`${name}-${i}`));
        const r = attempt(kind, mutant);
        if (r.ok) continue;
        failed++;
        expectLocated(kind, r.error, mutant);
        if (rejected[kind].length < 3 && LOCATED_CODES[kind][0] === r.error.code) rejected[kind].push(mutant);
      }
      // The mutations are meant to break things: many mutants must be rejected.
      expect(failed).toBeGreaterThan(n / 5);
    },
    600_000,
  );

  it('a sample of rejected mutants of each kind exits 2 through the CLI, located, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-fuzz-'));
    const located = (file: string) => new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`);
    for (const kind of ['profile', 'budgets', 'config'] as const)
      expect(rejected[kind].length, kind).toBeGreaterThan(0);
    for (const [i, mutant] of rejected.profile.slice(0, 2).entries()) {
      const file = join(dir, `mutant-${i}.yaml`);
      writeFileSync(file, mutant);
      const r = await runCli(['profile', 'validate', file]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(located(file));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    for (const [i, mutant] of rejected.budgets.slice(0, 2).entries()) {
      const file = join(dir, `budgets-${i}.yaml`);
      writeFileSync(file, mutant);
      // Budgets are read before any load: port 9 is never contacted.
      const r = await runCli(['run', 'ci-smoke', '--target', 'http://127.0.0.1:9', '--budgets', file]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(located(file));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    for (const [i, mutant] of rejected.config.slice(0, 2).entries()) {
      const cwd = mkdtempSync(join(dir, `config-${i}-`));
      writeFileSync(join(cwd, 'peakday.config.yaml'), mutant);
      const r = await runCli(['profile', 'show', 'ci-smoke'], { cwd });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(located(join(cwd, 'peakday.config.yaml')));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  }, 120_000);
});
