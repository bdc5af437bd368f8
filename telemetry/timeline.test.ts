import { describe, expect, it } from 'vitest';
import { buildTimeline, capacityChange, eventTimeAt, runWindow, wallAt } from './timeline.ts';

const meta = {
  startedAt: '2026-11-25T12:00:00.000Z',
  timeScale: 60,
  eventStart: 3000,
  eventEnd: 6600,
};

describe('run window', () => {
  it('maps wall time to event time through the run clock and back', () => {
    const w = runWindow(meta);
    const at = Date.parse(meta.startedAt) + 10_000;
    expect(eventTimeAt(w, at)).toBe(3600);
    expect(wallAt(w, 3600)).toBe(at);
  });

  it('ends a run without endedAt where its plan would have', () => {
    expect(runWindow(meta).endedAtMs - runWindow(meta).startedAtMs).toBe(60_000);
    expect(runWindow({ ...meta, endedAt: '2026-11-25T12:00:30.000Z' }).endedAtMs).toBe(
      Date.parse('2026-11-25T12:00:30.000Z'),
    );
  });
});

describe('building the timeline', () => {
  it('folds samples into one record per service and period, adding 5xx from several sources', () => {
    const timeline = buildTimeline(
      [
        { service: 'cart', t: 60, period: 60, field: 'cpu', value: 40 },
        { service: 'cart', t: 60, period: 60, field: 'http5xx', value: 2, additive: true },
        { service: 'cart', t: 60, period: 60, field: 'http5xx', value: 1, additive: true },
        { service: 'cart', t: 0, period: 60, field: 'running', value: 2, partial: true },
        { service: 'api', t: 60, period: 60, field: 'requests', value: 10 },
      ],
      [
        { service: 'cart', t: 60, period: 60, table: 'carts', writeUnits: 5 },
        { service: 'cart', t: 60, period: 60, table: 'inventory', readUnits: 9, throttles: 1 },
      ],
      'local',
    );
    expect(timeline.map((r) => [r.t, r.service])).toEqual([
      [0, 'cart'],
      [60, 'api'],
      [60, 'cart'],
    ]);
    expect(timeline[0]).toMatchObject({ running: 2, cpu: null, partial: true });
    expect(timeline[2]).toMatchObject({
      cpu: 40,
      http5xx: 3,
      requests: null,
      store: { table: 'inventory', readUnits: 9, writeUnits: 0, throttles: 1 },
      stores: [
        { table: 'inventory', readUnits: 9, writeUnits: 0, throttles: 1 },
        { table: 'carts', readUnits: 0, writeUnits: 5, throttles: 0 },
      ],
    });
    expect(timeline[2]?.partial).toBeUndefined();
  });

  it('reads the capacity change from an AWS activity cause', () => {
    expect(capacityChange('… triggered policy cpu changing the desired capacity from 2 to 6.')).toEqual({
      from: 2,
      to: 6,
    });
    expect(capacityChange('scheduled action name x was triggered')).toBeUndefined();
  });
});
