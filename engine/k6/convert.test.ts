import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertK6Output } from './convert.ts';
import { K6_FIXTURES, k6SummaryCount } from './stand-in.ts';

const sum = (xs: (number | undefined)[]) => xs.reduce<number>((a, x) => a + (x ?? 0), 0);

describe("converting k6's JSON output into series records", () => {
  it("keeps every request, failure, check and dropped iteration k6's own summary counts", async () => {
    const channels = await convertK6Output(join(K6_FIXTURES, 'channels.out.ndjson'), {
      eventStart: 0,
      timeScale: 1,
    });
    expect(sum(channels.records.map((r) => r.requests))).toBe(k6SummaryCount('channels', 'http_reqs'));
    expect(
      sum(channels.records.map((r) => r.checks?.passed)) + sum(channels.records.map((r) => r.checks?.failed)),
    ).toBe(channels.points.checks);
    expect(channels.latePoints).toBe(0);

    const dropped = await convertK6Output(join(K6_FIXTURES, 'dropped.out.ndjson'), {
      eventStart: 0,
      timeScale: 1,
    });
    expect(sum(dropped.records.map((r) => r.dropped))).toBe(k6SummaryCount('dropped', 'dropped_iterations'));
  });

  it('places records on the event clock: wall seconds times the time scale, from the event start', async () => {
    const at1 = await convertK6Output(join(K6_FIXTURES, 'channels.out.ndjson'), {
      eventStart: 0,
      timeScale: 1,
    });
    const at60 = await convertK6Output(join(K6_FIXTURES, 'channels.out.ndjson'), {
      eventStart: 3600,
      timeScale: 60,
    });
    const times = (c: typeof at1) => [...new Set(c.records.map((r) => r.t))].sort((a, b) => a - b);
    expect(times(at60)).toEqual(times(at1).map((t) => 3600 + t * 60));
    expect(sum(at60.records.map((r) => r.requests))).toBe(sum(at1.records.map((r) => r.requests)));
  });
});
