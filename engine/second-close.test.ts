import { describe, expect, it } from 'vitest';
import type { SeriesRecord } from '../core/run-format.ts';
import { Aggregator } from './aggregator.ts';
import type { SecondReport } from './engine.ts';
import { createHealthSampler } from './health.ts';
import { createLatencyHistogram } from './histogram.ts';
import { createSecondCloser, judgeSecond, type StopOrder, sumSecond } from './second-close.ts';

const rec = (x: Partial<SeriesRecord>): SeriesRecord => ({
  t: 0,
  wall: 0,
  dt: 1,
  channel: 'web',
  journey: 'j',
  step: null,
  ...x,
});

describe('the per-second close', () => {
  it('sums a second over its records', () => {
    expect(
      sumSecond([rec({ planned: 3, started: 2, dropped: 1 }), rec({ step: 's', requests: 5, failed: 2 })]),
    ).toEqual({
      planned: 3,
      started: 2,
      dropped: 1,
      requests: 5,
      failed: 2,
    });
  });

  it('takes the first abort rule that aborts, and turns a throwing rule into an error stop', () => {
    const second = { t: 0, wall: 0, records: [] };
    expect(judgeSecond([() => ({ abort: false })], second)).toBeNull();
    expect(
      judgeSecond(
        [
          () => ({ abort: true, reason: 'budget p95', exitCode: 99 }),
          () => ({ abort: true, reason: 'x', exitCode: 97 }),
        ],
        second,
      ),
    ).toEqual({ reason: 'budget-abort', detail: 'budget p95', exitCode: 99 });
    expect(
      judgeSecond(
        [
          () => {
            throw new Error('gone');
          },
        ],
        second,
      ),
    ).toEqual({ reason: 'error', detail: 'abort rule failed: gone', exitCode: 1 });
  });

  it('emits the second to subscribers, then asks the abort rules, and records health', async () => {
    const agg = new Aggregator([{ channel: 'web', journey: 'j', steps: ['s'] }]);
    const slot = agg.scenarios[0] as (typeof agg.scenarios)[number];
    slot.planned = 4;
    slot.started = 4;
    agg.request(0, 0, 503, null, false, false, true, 1000, 900);
    const reports: SecondReport[] = [];
    const stops: StopOrder[] = [];
    const health: never[] = [];
    const sampler = createHealthSampler();
    const closer = createSecondCloser({
      plan: { eventStart: 100, timeScale: 60 },
      agg,
      sampler,
      now: () => 1000,
      subscribers: [{ onSecond: (r) => reports.push(r) }],
      abortRules: [
        ({ records }) => ({ abort: records.length > 1, reason: 'stop it', exitCode: 97 }) as never,
      ],
      lagSecond: createLatencyHistogram(),
      takeLate: () => 3,
      inFlight: () => 2,
      takeSchedulerMode: () => 'sleep',
      health,
      isStopped: () => false,
      stop: (o) => stops.push(o),
    });
    closer.emit(false);
    await new Promise((r) => setImmediate(r));
    sampler.stop();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ second: 0, t: 100, planned: 4, started: 4, requests: 1, failed: 1 });
    expect(stops).toEqual([{ reason: 'circuit-breaker', detail: 'stop it', exitCode: 97 }]);
    expect(health).toHaveLength(1);
    expect(health[0]).toMatchObject({ lateStarts: 3, inFlight: 2, scheduler: 'sleep' });
  });
});
