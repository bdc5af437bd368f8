import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { calibrationFromRun } from '../simulation/calibrate-from-run.ts';
import { efficiencyFromCalibration } from '../simulation/efficiency.ts';
import { type ValidationReport, validateAgainstLive } from '../simulation/validate.ts';
import { REPO_ROOT, runCli } from './cli-helper.ts';

// The validation table reproduced on a recorded valid live run (test/fixtures/recorded-rehearsal:
// product-drop on the monolith, recorded on a quiet host): issue 19's targets held by a test, with no
// stack and no load, so it says the same on every host. The short live run of
// test/simulator-validation.test.ts judges a fresh run honestly; this one holds the bounds.
const LIVE = join(REPO_ROOT, 'test', 'fixtures', 'recorded-rehearsal', 'live');

function expectTargetsMet(v: ValidationReport): void {
  expect(v.liveValid).toBe(true);
  expect(v.emulation?.heldPeriods).toBe(28);
  expect(Object.keys(v.tasks)).toEqual(['monolith']);
  expect(v.tasks.monolith?.relativeError, JSON.stringify(v.tasks)).toBeLessThanOrEqual(0.15);
  expect(v.p95.relativeError, JSON.stringify(v.p95)).toBeLessThanOrEqual(0.25);
  expect(Object.keys(v.p95ByChannel).sort()).toEqual(['mobile-app', 'social', 'web']);
  for (const a of Object.values(v.p95ByChannel))
    expect(a.relativeError, JSON.stringify(a)).toBeLessThanOrEqual(0.25);
  expect(v.errorRate.absoluteDifference).toBeLessThanOrEqual(0.02);
  expect(v.withinBound).toEqual({ tasks: true, p95: true, errors: true });
}

describe('the validation table on a recorded valid live run', () => {
  it('meets the targets replayed by `peakday simulate --validate` (the model table)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pd-validate-rec-')), 'replay');
    const r = await runCli(['simulate', '--validate', LIVE, '--arch', 'monolith', '--out', out, '--json']);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.code).toBe(0);
    const v = JSON.parse(readFileSync(join(out, 'validation.json'), 'utf8')) as ValidationReport;
    expectTargetsMet(v);
    // The live p95 over the held periods is the recorded run's own (merged histograms).
    expect(v.p95.live).toBeCloseTo(193.0, 0);
    // The replay's meta says where its capacity per task came from, as every simulated run's does.
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as {
      options: {
        capacity?: { mode: string; services: Record<string, { provenance: string; source: string }> };
      };
    };
    expect(meta.options.capacity?.mode).toBe('replay');
    expect(meta.options.capacity?.services.monolith?.provenance).toBe('model-input');
    expect(meta.options.capacity?.services.monolith?.source).toMatch(/model table/);
  }, 60_000);

  // As `peakday rehearse` replays it: the capacity measured in the run. The emulator charges the
  // demand table exactly, so the measurement must find it: efficiency 1 within its own stated
  // uncertainty and within 2%. The targets are held at that capacity by the model table's replay
  // above, not here: this run sits on its knee, where a replay at efficiency 1.003 reaches 4 tasks as
  // live did (3.07 on average) and one at 1.007 only 3 (2.53), and the p95 goes 273, 196, 152 ms at
  // 0.98, 1.00, 1.014 against 193 live (docs/simulation.md, session 14). A measurement over 28
  // minutes states an uncertainty of about 1%: the knee is narrower than any measurement of it.
  it("measures the emulator's capacity in the run, and the replay takes it as measured", () => {
    const calibration = calibrationFromRun(LIVE, 'monolith');
    const m = calibration?.services.monolith;
    expect(m?.provenance).toBe('measured');
    expect(Math.abs((m?.efficiency ?? 0) - 1)).toBeLessThanOrEqual(Math.max(0.02, 2 * (m?.uncertainty ?? 0)));
    const efficiency = efficiencyFromCalibration(calibration!);
    const { report } = validateAgainstLive(LIVE, { arch: 'monolith', scaling: loadScaling(), efficiency });
    expect(report.capacities.monolith?.provenance).toBe('measured');
    // A monolith has no leaf to measure the live hop from: the replay says it took the assumption.
    expect(report.hop).toEqual({ ms: 0.5, provenance: 'model-input', periods: 0, services: [] });
    expect(report.notes.join(' ')).toMatch(/network hop is the simulator's assumption, 0.5 ms/);
    expect(report.liveValid).toBe(true);
    expect(report.withinBound.errors).toBe(true);
  }, 60_000);

  it('judges nothing when replayed as the other topology, and names the one to use', () => {
    // The CLI takes the live run's own topology (test/simulate-cli.test.ts); a caller of the
    // library that names the other one gets no verdict rather than a vacuous one.
    const { report: v } = validateAgainstLive(LIVE, { arch: 'headless', scaling: loadScaling() });
    expect(v.withinBound).toEqual({ tasks: false, p95: false, errors: false });
    expect(v.notes.join(' ')).toMatch(/replay it with --arch monolith/);
  }, 60_000);
});
