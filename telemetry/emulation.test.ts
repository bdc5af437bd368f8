import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../core/run-format.ts';
import { STRETCH_BOUND_MS } from '../reference-stack/capacity/emulator.ts';
import { type EmfRecordInput, formatEmfRecord, parseEmfRecord } from '../reference-stack/orchestrator/emf.ts';
import { emulationWindows, heldPeriodStarts, summariseEmulation } from './emulation.ts';
import { timelineFromEmf } from './sources/local.ts';

const rec = (
  service: string,
  t: number,
  holds: number,
  stretched: number,
  addedMs = stretched * 20,
): TimelineRecord => ({
  t,
  period: 60,
  service,
  desired: 2,
  running: 2,
  pending: 0,
  cpu: 50,
  memory: 20,
  requests: holds,
  requestsPerTarget: holds / 2,
  responseTimeMs: 10,
  http5xx: 0,
  emulation: { holds, stretched, emulatedMs: holds * 10, addedMs },
  source: 'local',
  provenance: 'measured',
});

describe('emulation fidelity from the timeline', () => {
  it('an unloaded stack holds everywhere: heldFraction 1, no worst periods', () => {
    const s = summariseEmulation([
      rec('gateway', 0, 100, 0),
      rec('gateway', 60, 100, 2),
      rec('cart', 0, 50, 0),
    ]);
    expect(s?.heldFraction).toBe(1);
    expect(s?.worstPeriods).toEqual([]);
    expect(s?.notes.join(' ')).toContain(`more than ${STRETCH_BOUND_MS} ms`);
  });

  it('a period where the host stretched a tenth of the holds does not hold, and is named worst first', () => {
    const timeline = [
      rec('gateway', 0, 100, 0),
      rec('gateway', 60, 100, 10, 400), // 40% added
      rec('gateway', 120, 100, 50, 800), // 80% added
      rec('gateway', 180, 100, 0),
      rec('cart', 60, 100, 0),
      rec('search', 60, 0, 0), // no requests: not judged
    ];
    const s = summariseEmulation(timeline)!;
    expect(s.periods).toBe(5);
    expect(s.heldPeriods).toBe(3);
    expect(s.heldFraction).toBe(0.6);
    expect(s.worstPeriods.map((p) => [p.service, p.t, p.addedFraction])).toEqual([
      ['gateway', 120, 0.8],
      ['gateway', 60, 0.4],
    ]);
    expect(emulationWindows(timeline)).toEqual([
      { service: 'gateway', start: 60, end: 180, stretchedShare: 0.3, addedFraction: 0.6 },
    ]);
    const { held, notHeld } = heldPeriodStarts(timeline);
    expect([...held].sort((a, b) => a - b)).toEqual([0, 180]);
    expect([...notHeld].sort((a, b) => a - b)).toEqual([60, 120]);
  });

  it('says nothing when the source does not report the emulation (CloudWatch)', () => {
    const { emulation: _, ...plain } = rec('gateway', 0, 10, 0);
    expect(summariseEmulation([plain])).toBeNull();
  });

  it('reads the stack’s Peakday/Emulation EMF records into the timeline, summing replicas’ records', () => {
    const info = { eventTime: 60, period: 60, service: 'cart', arch: 'headless' };
    const emf = (values: Record<string, number>, group: EmfRecordInput['group']) =>
      formatEmfRecord({
        group,
        dimensions: { ClusterName: 'peakday', ServiceName: 'cart' },
        values,
        info,
        timestampMs: 1_000,
      });
    const data = [
      emf({ RunningTaskCount: 2, DesiredTaskCount: 2, PendingTaskCount: 0 }, 'ECS/ContainerInsights'),
      emf(
        { HoldCount: 200, StretchedHoldCount: 30, EmulatedServiceTime: 2000, AddedServiceTime: 900 },
        'Peakday/Emulation',
      ),
    ].flatMap((o) => {
      const r = parseEmfRecord(o);
      return 'data' in r ? r.data : [];
    });
    const { timeline } = timelineFromEmf(data, {
      startedAtMs: 0,
      endedAtMs: 10_000,
      eventStart: 0,
      eventEnd: 600,
      timeScale: 60,
    });
    expect(timeline).toHaveLength(1);
    expect(timeline[0]?.emulation).toEqual({ holds: 200, stretched: 30, emulatedMs: 2000, addedMs: 900 });
  });
});
