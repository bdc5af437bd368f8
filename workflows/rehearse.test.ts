import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CalibrationFile } from '../core/calibration-file.ts';
import type { RunMeta } from '../core/run-format.ts';
import { resolvePricing } from '../simulation/pricing/pricing-table.ts';
import type { SimulationFindings } from '../simulation/simulate.ts';
import { describeProjection, rehearsalStackOptions, simulateRehearsalEvent } from './rehearse.ts';

describe("a rehearsal's whole-event simulation", () => {
  it('uses the capacity its live run measured: half the capacity of cart, twice its tasks at the peak', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-reh-event-'));
    // As calibrationFromRun writes it: cart measured at half the model's capacity, search not measured.
    const calibration: CalibrationFile = {
      formatVersion: 1,
      kind: 'peakday-calibration',
      arch: 'headless',
      measuredAt: '2026-01-01T00:00:00.000Z',
      source: 'live run constructed-for-test',
      services: { cart: { capacityRpsPerTask: 10, efficiency: 0.5, provenance: 'measured' } },
      unmeasured: { search: 'never busy enough in the live run' },
    };
    const calibrationPath = join(dir, 'calibration.json');
    const { event, projection } = await simulateRehearsalEvent({
      profile: 'flash-sale',
      arch: 'headless',
      // Low enough that cart's doubled need stays under its max capacity (10 tasks), its events included.
      peakRps: 50,
      calibration,
      calibrationPath,
      out: join(dir, 'event'),
      pricing: resolvePricing(),
    });
    const measured = projection.withMeasured;
    expect(measured).not.toBeNull();
    const model = projection.withModelTable;
    expect(model.neededAtPeak.cart).toBeGreaterThanOrEqual(2);
    // Twice the tasks for half the capacity, and a little more: at half capacity cart's backlog holds
    // back the journeys' later steps (simulate-step.ts: an iteration's later steps are sent after the
    // earlier answers), which then arrive in the peak minutes (8 tasks against 4 on this plan).
    expect(measured!.neededAtPeak.cart! / model.neededAtPeak.cart!).toBeGreaterThanOrEqual(1.8);
    expect(measured!.neededAtPeak.cart! / model.neededAtPeak.cart!).toBeLessThanOrEqual(2.5);
    expect(measured!.peakTasks.cart).toBeGreaterThan(model.peakTasks.cart!);
    // Services the calibration leaves alone keep the model table's capacity; only the pace at which
    // the slower cart passes on its add-to-carts' calls moves their need (within a task).
    expect(Math.abs(measured!.neededAtPeak.catalog! - model.neededAtPeak.catalog!)).toBeLessThanOrEqual(1);
    expect(projection.measured).toEqual(['cart']);
    expect(projection.modelTable.search).toContain('never busy enough');

    // The event's run directory names the calibration and labels each service's capacity.
    const meta = JSON.parse(readFileSync(join(event.dir, 'meta.json'), 'utf8')) as RunMeta;
    expect(meta.options.calibration).toBe(calibrationPath);
    const note = meta.notes.find((n) => n.startsWith('capacity per task:'));
    expect(note).toContain('cart measured (×0.5)');
    expect(note).toMatch(/search: model-input \(.*not measured in .*never busy enough/);
    const findings = JSON.parse(
      readFileSync(join(event.dir, 'simulation.json'), 'utf8'),
    ) as SimulationFindings;
    expect(findings.services.cart?.capacityProvenance).toBe('measured');
    expect(findings.services.search?.capacityProvenance).toBe('model-input');

    const line = describeProjection(projection);
    expect(line).toContain(`cart ${measured!.peakTasks.cart} (model table ${model.peakTasks.cart})`);
    expect(line).toContain(`${measured!.breachMinutes} breach minutes (model table ${model.breachMinutes})`);
  }, 60_000);

  it('says when the two projections differ at a knee, not by capacity', () => {
    const side = (peak: number, closest: number) => ({
      peakTasks: { monolith: peak },
      neededAtPeak: { monolith: peak },
      breachMinutes: 2,
      computeUsd: 0.06,
      closestScaleOut: { monolith: closest },
    });
    const projection = {
      measured: ['monolith'],
      efficiency: { monolith: 1.016 },
      modelTable: {},
      withMeasured: side(3, 0.003),
      withModelTable: side(4, 0.012),
      breachDefinition: '',
    };
    expect(describeProjection(projection)).toContain(
      'monolith 3 (model table 4; capacities 1.6% apart and a scale-out 0.3% from another capacity: a knee)',
    );
    // A margin below the decision's, capacities farther apart than the margin, or two tasks apart: no knee.
    expect(describeProjection(projection, 0.002)).toContain('monolith 3 (model table 4);');
    expect(describeProjection({ ...projection, efficiency: { monolith: 1.2 } })).toContain(
      'monolith 3 (model table 4);',
    );
    expect(describeProjection({ ...projection, withModelTable: side(5, 0.012) })).toContain(
      'monolith 3 (model table 5);',
    );
  });

  it('without a calibration, says the whole event rests on the model table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-reh-event-'));
    const { event, projection } = await simulateRehearsalEvent({
      profile: 'flash-sale',
      arch: 'headless',
      peakRps: 60,
      calibration: null,
      calibrationPath: null,
      out: join(dir, 'event'),
      pricing: resolvePricing(),
    });
    expect(projection.withMeasured).toBeNull();
    expect(describeProjection(projection)).toMatch(/^with the model table \(the live run measured no/);
    const meta = JSON.parse(readFileSync(join(event.dir, 'meta.json'), 'utf8')) as RunMeta;
    expect(meta.options.calibration).toBeNull();
  }, 60_000);
});

describe("a rehearsal's stack", () => {
  it("draws its tasks' start latencies from the live run's plan seed, as the replay does", () => {
    const options = rehearsalStackOptions({ arch: 'headless' }, '/tmp/rehearsal', 7);
    expect(options).toMatchObject({
      seed: 7,
      host: '127.0.0.1',
      port: 0,
      autoscaling: true,
      arch: 'headless',
    });
    expect(options.dataDir).toBe('/tmp/rehearsal/stack-data');
    expect(rehearsalStackOptions({ arch: 'monolith', scaling: 's.yaml' }, '/tmp/r', 1)).toMatchObject({
      seed: 1,
      scalingFile: 's.yaml',
    });
  });
});
