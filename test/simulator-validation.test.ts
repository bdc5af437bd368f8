import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import { processesMentioning, runCli } from './cli-helper.ts';

/** validation.json as the replay writes it (simulation/validate.ts ValidationReport), the parts read here. */
interface Validation {
  tasks: Record<string, { live: number | null; simulated: number | null; relativeError: number | null }>;
  p95: { live: number | null; simulated: number | null; relativeError: number | null };
  p95ByChannel: Record<
    string,
    { live: number | null; simulated: number | null; relativeError: number | null }
  >;
  errorRate: { live: number; simulated: number; absoluteDifference: number };
  emulation: { periods: number; heldPeriods: number } | null;
  liveValid: boolean;
  withinBound: { tasks: boolean; p95: boolean; errors: boolean };
  notes: string[];
}

// The issue's targets for the simulator's replay of a live window (docs/simulation.md "Validation
// against a live run"): p95 within 25% overall and per channel, error rate within 2 points, running
// tasks within 15%. Compared only over the periods where the local stack's emulation held: elsewhere
// the live latency is partly this machine's (a loaded host), which no model of the stack reproduces.
const TARGETS = { p95: 0.25, errorPoints: 0.02, tasks: 0.15 };

describe('the simulator against a short live run', () => {
  it('replays a 45-s flash-sale rehearsal of the headless stack on 127.0.0.1 and judges the targets truly where the emulation held', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pd-validate-')), 'rehearsal');
    const r = await runCli(
      ['rehearse', 'flash-sale', '--arch', 'headless', '--duration', '45s', '--out', out],
      { timeoutMs: 280_000 },
    );
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    // 0 on a quiet host; 98 when the engine marked the live run invalid (a loaded host); 99 when the
    // profile's budgets were breached. The replay is written in every case.
    expect([0, 98, 99]).toContain(r.code);
    const live = readRun(join(out, 'live'));
    expect(live.meta.mode).toBe('live');
    expect(live.meta.target ?? '').toMatch(/127\.0\.0\.1/);
    expect(live.summary?.requests.total).toBeGreaterThan(0);
    const v = JSON.parse(readFileSync(join(out, 'replay', 'validation.json'), 'utf8')) as Validation;
    expect(v.emulation?.periods).toBeGreaterThan(0);
    expect(v.liveValid).toBe(live.meta.valid);
    if (!live.meta.valid || v.emulation?.heldPeriods === 0) {
      // A loaded host: the live latency is partly this machine's (the engine behind its schedule, or
      // replicas slower than they emulate). The validation says so and judges nothing it cannot.
      expect(v.notes.join(' ')).toMatch(/live run is invalid|held in none of the \d+ periods/);
      expect(v.withinBound.p95).toBe(false);
      expect(v.withinBound.errors).toBe(false);
    } else {
      // A valid live run: the replay's figures exist and the validation's verdict on each target is
      // true to them. Whether the simulator MEETS the targets is the open part of issue 19: on a quiet
      // host (load 6, 2026-12-02) cart's running tasks were 2.25 simulated vs 2.94 live (23.5% > 15%).
      // docs/simulation.md keeps the table; this test keeps the judgement honest.
      expect(Object.keys(v.tasks).length).toBeGreaterThan(0);
      const tasksWithin = Object.values(v.tasks).every((a) => (a.relativeError ?? 0) <= TARGETS.tasks);
      expect(v.withinBound.tasks, JSON.stringify(v.tasks)).toBe(tasksWithin);
      expect(v.p95.relativeError, `p95 ${v.p95.simulated} vs ${v.p95.live} ms`).not.toBeNull();
      const p95Within =
        (v.p95.relativeError ?? 1) <= TARGETS.p95 &&
        Object.values(v.p95ByChannel).every((a) => (a.relativeError ?? 0) <= TARGETS.p95);
      expect(v.withinBound.p95, JSON.stringify({ p95: v.p95, byChannel: v.p95ByChannel })).toBe(p95Within);
      expect(v.withinBound.errors, JSON.stringify(v.errorRate)).toBe(
        v.errorRate.absoluteDifference <= TARGETS.errorPoints,
      );
    }
    expect(processesMentioning(out)).toEqual([]);
  }, 300_000);
});
