import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../abort-rules.ts';
import type { StopOrder } from '../second-close.ts';
import { K6_LATENESS_SECONDS } from './convert.ts';
import { watchK6Output } from './live-rules.ts';

const T0 = Date.parse('2026-12-03T12:00:00.000Z');

/** One `http_reqs` sample as k6's JSON output writes it (refused: status 0, error_code 1212). */
function httpReq(second: number, i: number, refused: boolean): string {
  const time = new Date(T0 + second * 1000 + i * 10).toISOString();
  const tags = refused
    ? { status: '0', error_code: '1212', scenario: 'web_browse', name: 'home', method: 'GET' }
    : { status: '200', scenario: 'web_browse', name: 'home', method: 'GET' };
  return `${JSON.stringify({ metric: 'http_reqs', type: 'Point', data: { time, value: 1, tags } })}\n`;
}

const DECL = `${JSON.stringify({ type: 'Metric', data: { name: 'http_reqs', type: 'counter', contains: 'default', thresholds: [] }, metric: 'http_reqs' })}\n`;

function watcher(file: string) {
  const orders: StopOrder[] = [];
  const w = watchK6Output(file, {
    startedAtMs: T0,
    eventStart: 0,
    timeScale: 1,
    rules: [createCircuitBreaker({ target: '127.0.0.1:9' })],
    onStop: (o) => orders.push(o),
    intervalMs: 60_000,
  });
  return { w, orders };
}

describe('the abort rules on k6 output as k6 writes it', () => {
  it('stops on the second the circuit breaker trips, once its points have moved the lateness past it', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pd-k6-live-')), 'k6-out.ndjson');
    const { w, orders } = watcher(file);
    w.poll(); // nothing written yet: no error
    writeFileSync(file, DECL);
    // Healthy for 3 s, then every request refused.
    for (let s = 0; s < 3; s++) for (let i = 0; i < 4; i++) appendFileSync(file, httpReq(s, i, false));
    let second = 3;
    for (; orders.length === 0 && second < 30; second++) {
      for (let i = 0; i < 4; i++) appendFileSync(file, httpReq(second, i, true));
      w.poll();
    }
    w.stop();
    expect(orders).toHaveLength(1);
    expect(orders[0]?.reason).toBe('circuit-breaker');
    expect(orders[0]?.exitCode).toBe(97);
    expect(orders[0]?.detail).toMatch(
      /connection refused on 127\.0\.0\.1:9: is the target running\? \(20 of 20 requests failed in the last 5 s: 20 refused/,
    );
    // Refused from second 3: the fifth such second (7) is complete, and judged, once a point of a
    // second more than the lateness past it (13) has been read.
    expect(second - 1).toBe(7 + K6_LATENESS_SECONDS + 1);
  });

  it('reads a line k6 has not finished writing with the next read, and never stops a healthy run', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pd-k6-live-')), 'k6-out.ndjson');
    const { w, orders } = watcher(file);
    writeFileSync(file, DECL);
    for (let s = 0; s < 20; s++) {
      const lines = [0, 1, 2].map((i) => httpReq(s, i, false)).join('');
      const cut = Math.floor(lines.length / 2);
      appendFileSync(file, lines.slice(0, cut));
      w.poll();
      appendFileSync(file, lines.slice(cut));
      w.poll();
    }
    w.stop();
    expect(orders).toEqual([]);
  });
});
