import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportK6Thresholds } from './k6-thresholds.ts';
import { parseBudgetsText } from './parse-budgets.ts';

describe('exportK6Thresholds', () => {
  it('writes native budgets as k6 thresholds, warning that k6 measures from send time', () => {
    const set = parseBudgetsText(
      [
        'budgets:',
        '  - channel: web',
        '    metric: latency',
        '    threshold: [p95 < 2s, p99 < 3s]',
        '    window: 1m',
        '  - journey: checkout',
        '    metric: error_rate',
        '    threshold: rate < 1%',
        '    abortOnFail: true',
        '  - metric: check_pass_rate',
        '    threshold: rate >= 99%',
        '  - metric: dropped_rate',
        '    threshold: rate < 1%',
      ].join('\n'),
      'b.yaml',
    );
    const out = exportK6Thresholds(set.budgets);
    expect(out.thresholds).toEqual({
      'http_req_duration{channel:web}': ['p(95)<2000', 'p(99)<3000'],
      'http_req_failed{journey:checkout}': [{ threshold: 'rate<0.01', abortOnFail: true }],
      checks: ['rate>=0.99'],
    });
    const w = out.warnings.join('\n');
    expect(w).toMatch(/k6 measures latency from send time/);
    expect(w).toMatch(/1m sliding window is not exported/);
    expect(w).toMatch(/no dropped-iteration rate/);
    expect(w).toMatch(/no minimum sample count/);
  });

  it('gives k6 thresholds back exactly as k6 wrote them (test/fixtures/k6/channels.js)', () => {
    const js = readFileSync(new URL('../../test/fixtures/k6/channels.js', import.meta.url), 'utf8');
    const block = /thresholds:\s*(\{[\s\S]*?\n\s*\}),?\n/.exec(js)?.[1] as string;
    const out = exportK6Thresholds(parseBudgetsText(`thresholds: ${block}\n`, 'channels.js').budgets);
    expect(out.thresholds).toEqual({
      'http_req_duration{channel:web}': ['p(95)<500'],
      http_req_failed: ['rate<0.01'],
      'checks{journey:checkout}': ['rate>0.99'],
      'http_req_duration{journey:checkout}': ['p(99)<0.001'],
    });
    expect(out.warnings).toEqual([]);
  });

  it('keeps abortOnFail and delayAbortEval in the object form', () => {
    const set = parseBudgetsText(
      'thresholds:\n  http_req_failed:\n    - { threshold: "rate<0.5", abortOnFail: true, delayAbortEval: 10s }\n',
      'b.yaml',
    );
    expect(exportK6Thresholds(set.budgets).thresholds).toEqual({
      http_req_failed: [{ threshold: 'rate<0.5', abortOnFail: true, delayAbortEval: '10s' }],
    });
  });
});
