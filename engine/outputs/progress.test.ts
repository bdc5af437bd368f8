import { describe, expect, it } from 'vitest';
import type { SecondReport } from '../engine.ts';
import { createTestPlan, getJourney } from '../test-support.ts';
import { createProgressOutput, formatProgress } from './progress.ts';

const plan = createTestPlan([{ journey: getJourney('a', ['/a']), rate: 100 }], 120, { timeScale: 30 });

function report(second: number, lagP99: number): SecondReport {
  return {
    second,
    t: second * 30,
    wall: second,
    dt: 1,
    records: [],
    health: {
      t: second * 30,
      wall: second,
      schedulerLag: { p50: 1, p99: lagP99, max: lagP99 },
      eventLoopDelay: { p50: 1, p99: 5, max: 5 },
      hostCpu: 0.5,
      processCpu: 0.4,
      inFlight: 3,
      rssMb: 90,
    },
    planned: 100,
    started: 98,
    dropped: 2,
    requests: 97,
    failed: 1,
    p95Ms: 12.34,
  };
}

describe('progress output', () => {
  it('shows wall and event time, target vs achieved rate, p95, errors, dropped and engine state', () => {
    const line = formatProgress(plan, report(59, 2), { requests: 970, failed: 3, dropped: 20 });
    expect(line).toBe(
      '1:00/2:00 wall | event 30:00/1h00m | rate 98/100 it/s | p95 12.3 ms | errors 3/970 | dropped 20 | lag p99 2.0 ms | engine ok',
    );
    expect(formatProgress(plan, report(3, 40), { requests: 1, failed: 0, dropped: 0 })).toMatch(
      /ENGINE BEHIND$/,
    );
  });

  it('rewrites one line on a TTY and prints plain lines every few seconds elsewhere', () => {
    const tty: string[] = [];
    const t = createProgressOutput(plan, { tty: true, write: (s) => tty.push(s) });
    const plain: string[] = [];
    const p = createProgressOutput(plan, { tty: false, write: (s) => plain.push(s), plainEvery: 5 });
    for (let i = 0; i < 10; i++) {
      t.onSecond?.(report(i, 1));
      p.onSecond?.(report(i, 1));
    }
    t.end();
    expect(tty).toHaveLength(11);
    expect(tty[0]?.startsWith('\r')).toBe(true);
    expect(plain).toHaveLength(2);
    expect(plain.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(plain[1]).toMatch(/errors 10\/970/);
  });
});
