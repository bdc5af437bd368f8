import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CalibrationFile } from '../core/calibration-file.ts';
import { createRunDirectory } from '../core/run-directory.ts';
import { RUN_FILES, type RunMeta, type TimelineRecord } from '../core/run-format.ts';
import { computeDemandTable, TOPOLOGIES } from '../reference-stack/topology.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import {
  type CapacityInput,
  capacityWarnings,
  classifyCalibration,
  PRODUCTION_DEFAULT,
  productionDefaultEfficiency,
  readCapacityInputs,
  resolveCapacity,
} from './capacity-sources.ts';

/** The headless topology's scalable services (the bus is a managed service, not tasks). */
const HEADLESS = Object.entries(TOPOLOGIES.headless.deployables)
  .filter(([, d]) => (d as { standsInFor?: string }).standsInFor === undefined)
  .map(([k]) => k);

function calibration(
  services: Record<string, number>,
  extra: Partial<CalibrationFile> & { probe?: unknown } = {},
): CalibrationFile {
  return {
    formatVersion: 1,
    kind: 'peakday-calibration',
    arch: 'headless',
    measuredAt: '2026-12-01T00:00:00Z',
    source: 'test',
    services: Object.fromEntries(
      Object.entries(services).map(([s, e]) => [
        s,
        { capacityRpsPerTask: 100 * e, efficiency: e, provenance: 'measured' as const },
      ]),
    ),
    ...extra,
  } as CalibrationFile;
}

describe('capacity per task at event scale', () => {
  it('takes the documented production default for every service when nothing was measured, never the emulation', () => {
    const res = resolveCapacity({ arch: 'headless', scale: 'event' });
    // The anchor: catalog's share of getProduct served at the documented req/s per vCPU.
    const ms = computeDemandTable('headless').getProduct.catalog as number;
    const e = productionDefaultEfficiency();
    expect(e).toBeCloseTo((PRODUCTION_DEFAULT.anchorRpsPerVcpu * ms) / 1000, 2);
    expect(Object.keys(res.services).sort()).toEqual([...HEADLESS].sort());
    for (const s of Object.values(res.services)) {
      expect(s.kind).toBe('published-default');
      expect(s.provenance).toBe('model-input');
      expect(s.efficiency).toBe(e);
      expect(s.source).toMatch(/model input/);
    }
  });

  it("keeps the local emulation at the profile's own rates, and only on request at event scale", () => {
    const local = resolveCapacity({ arch: 'monolith', scale: 'local' });
    expect(local.services.monolith).toMatchObject({ kind: 'local-emulation', efficiency: 1 });
    const asked = resolveCapacity({ arch: 'monolith', scale: 'event', mode: 'emulated' });
    expect(asked.services.monolith?.kind).toBe('local-emulation');
    expect(capacityWarnings([], asked).join('\n')).toMatch(/--capacity emulated/);
    const defaults = resolveCapacity({ arch: 'monolith', scale: 'local', mode: 'defaults' });
    expect(defaults.services.monolith?.kind).toBe('published-default');
  });

  it('prefers a measurement of the real system, then a user file, then the defaults, per service', () => {
    const real: CapacityInput = {
      kind: 'measured-real-system',
      path: 'prod-probe/',
      file: calibration({ catalog: 9 }, { unmeasured: { search: 'never busy' } }),
    };
    const user: CapacityInput = {
      kind: 'user-file',
      path: 'mine.json',
      file: calibration({ catalog: 3, cart: 4 }),
    };
    // Given in the "wrong" order: the kind decides, not the order.
    const res = resolveCapacity({ arch: 'headless', scale: 'event', inputs: [user, real] });
    expect(res.services.catalog).toMatchObject({ kind: 'measured-real-system', efficiency: 9 });
    expect(res.services.cart).toMatchObject({ kind: 'user-file', efficiency: 4 });
    expect(res.services.gateway?.kind).toBe('published-default');
    expect(res.services.search?.kind).toBe('published-default');
    expect(res.services.search?.source).toMatch(/not measured in prod-probe\/: never busy/);
  });

  it('ignores a calibration of the other topology (a monolith probe says nothing about the gateway)', () => {
    const mono: CapacityInput = {
      kind: 'measured-real-system',
      path: 'mono/',
      file: calibration({ monolith: 7 }, { arch: 'monolith' }),
    };
    const head = resolveCapacity({ arch: 'headless', scale: 'event', inputs: [mono] });
    expect(Object.values(head.services).every((s) => s.kind === 'published-default')).toBe(true);
    const m = resolveCapacity({ arch: 'monolith', scale: 'event', inputs: [mono] });
    expect(m.services.monolith?.efficiency).toBe(7);
  });

  it.each([
    [
      'a probe of a remote target the user pinned',
      { replicasPinnedBy: 'user', target: 'https://shop.example.com' },
      'measured-real-system',
    ],
    [
      'a probe of a target on loopback',
      { replicasPinnedBy: 'user', target: 'http://127.0.0.1:8080' },
      'measured-local-stack',
    ],
    [
      'a probe of the local stack',
      { replicasPinnedBy: 'peakday', target: 'local headless stack' },
      'measured-local-stack',
    ],
  ])('classifies %s', (_, probe, kind) => {
    expect(classifyCalibration(calibration({ catalog: 1 }, { probe }))).toBe(kind);
  });

  it('classifies a hand-written file of model inputs as a user file', () => {
    const f = calibration({ catalog: 5 });
    f.services.catalog!.provenance = 'model-input';
    expect(classifyCalibration(f)).toBe('user-file');
  });

  it('derives capacity per task from a run directory whose timeline was collected from CloudWatch', () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-capsrc-'));
    const plan = constructedPlan([
      { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 600], rates: [50, 50] },
    ]);
    const meta = {
      formatVersion: 1,
      id: 'cw',
      mode: 'live',
      driver: 'engine',
      tool: { name: 'peakday', version: '0' },
      profile: { name: 'constructed', hash: 'test' },
      options: { arch: 'headless' },
      timeScale: 1,
      eventStart: 0,
      eventEnd: 600,
      seed: 1,
      startedAt: '2026-12-01T00:00:00Z',
      endedAt: '2026-12-01T00:10:00Z',
      endReason: 'completed',
      valid: true,
      invalidReasons: [],
      capabilities: { intendedStartLatency: true, sendLatency: true },
      notes: [],
    } as unknown as RunMeta;
    createRunDirectory(dir, { meta, plan });
    // catalog: 2 tasks serving 60 s × 120 req/s at 30% CPU, 2 points of it the task's own overhead
    // (serving no request: simulation/calibrate-from-run.ts) → 60 / 0.28 req/s per task at full CPU.
    const rec = (t: number): TimelineRecord => ({
      t,
      period: 60,
      service: 'catalog',
      desired: 2,
      running: 2,
      pending: 0,
      cpu: 30,
      memory: 20,
      requests: 120 * 60,
      requestsPerTarget: 60 * 60,
      responseTimeMs: 20,
      http5xx: 0,
      source: 'cloudwatch',
      provenance: 'measured',
    });
    writeFileSync(
      join(dir, RUN_FILES.timeline),
      `${[0, 60, 120].map((t) => JSON.stringify(rec(t))).join('\n')}\n`,
    );
    const [input] = readCapacityInputs([dir], 'headless');
    expect(input?.kind).toBe('measured-real-system');
    expect(input?.file.services.catalog?.capacityRpsPerTask).toBeCloseTo(60 / 0.28, 1);
    const res = resolveCapacity({ arch: 'headless', scale: 'event', inputs: [input!] });
    expect(res.services.catalog?.kind).toBe('measured-real-system');
    expect(res.services.catalog?.provenance).toBe('measured');
    expect(res.services.pricing?.kind).toBe('published-default');
  });
});
