import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../../core/errors.ts';
import { parseK6Threshold, parseNativeThreshold } from './expression.ts';
import { defaultMinSamples, parseBudgetsText } from './parse-budgets.ts';

function problemsOf(text: string): string[] {
  try {
    parseBudgetsText(text, 'b.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(PeakdayError);
    const err = e as PeakdayError;
    expect(err.exitCode).toBe(2);
    return err.problems.map((p) => `${p.line}:${p.column} ${p.path ?? ''} ${p.message} | ${p.hint ?? ''}`);
  }
  throw new Error('expected the budgets to be rejected');
}

describe('native threshold expressions', () => {
  const valid: [string, 'duration' | 'fraction', unknown][] = [
    ['p95 < 2s', 'duration', { stat: { kind: 'percentile', p: 95 }, op: '<', value: 2000 }],
    ['p99.9<=800ms', 'duration', { stat: { kind: 'percentile', p: 99.9 }, op: '<=', value: 800 }],
    ['max < 1m', 'duration', { stat: { kind: 'max' }, op: '<', value: 60000 }],
    ['med < 250ms', 'duration', { stat: { kind: 'percentile', p: 50 }, op: '<', value: 250 }],
    ['rate < 1%', 'fraction', { stat: { kind: 'rate' }, op: '<', value: 0.01 }],
    ['< 0.5%', 'fraction', { stat: undefined, op: '<', value: 0.005 }],
    ['rate >= 0.99', 'fraction', { stat: { kind: 'rate' }, op: '>=', value: 0.99 }],
  ];
  it.each(valid)('reads %s', (text, unit, expected) => {
    const r = parseNativeThreshold(text, unit);
    expect(r).toEqual({ ok: true, value: expected });
  });

  const invalid: [string, 'duration' | 'fraction', RegExp][] = [
    ['p95 < 500', 'duration', /no unit/],
    ['p100 < 2s', 'duration', /out of range/],
    ['p95 2s', 'duration', /not a threshold/],
    ['rate < 150%', 'fraction', /outside/],
    ['avgg < 2s', 'duration', /not a threshold/],
  ];
  it.each(invalid)('rejects %s', (text, unit, message) => {
    const r = parseNativeThreshold(text, unit);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatch(message);
  });
});

describe('k6 threshold expressions', () => {
  const cases: [string, unknown][] = [
    ['p(95)<500', { kind: 'percentile', p: 95 }],
    ['p(99.9) < 1500', { kind: 'percentile', p: 99.9 }],
    ['avg<200', { kind: 'avg' }],
    ['med<=100', { kind: 'percentile', p: 50 }],
    ['rate<0.01', { kind: 'rate' }],
    ['count<10', { kind: 'count' }],
    ['p(100)<900', { kind: 'max' }],
  ];
  it.each(cases)('reads %s as k6 does', (text, stat) => {
    const r = parseK6Threshold(text);
    expect(r.ok && r.value.stat).toEqual(stat);
  });

  it('reads === as equality', () => {
    const r = parseK6Threshold('count===0');
    expect(r.ok && r.value.op).toBe('==');
  });

  it.each(['p95<500', 'p(95)<', 'rate<<1'])('rejects %s', (text) => {
    expect(parseK6Threshold(text).ok).toBe(false);
  });

  it('reads a gauge threshold (value<3)', () => {
    const r = parseK6Threshold('value<3');
    expect(r.ok && r.value.stat).toEqual({ kind: 'value' });
  });
});

describe('native budgets files', () => {
  it('reads a full budget with its scope, window, warm-up and abortOnFail', () => {
    const set = parseBudgetsText(
      [
        'version: 1',
        'defaults: { window: 1m, warmup: 30s }',
        'budgets:',
        '  - name: web product pages',
        '    channel: web',
        '    journey: product-page',
        '    metric: latency',
        '    threshold: p95 < 2s',
        '    abortOnFail: true',
        '  - journey: checkout',
        '    metric: error_rate',
        '    threshold: [rate < 1%, rate < 5%]',
        '    window: run',
        '    minSamples: 50',
      ].join('\n'),
      'b.yaml',
    );
    expect(set.budgets).toHaveLength(3);
    const [a, b, c] = set.budgets;
    expect(a).toMatchObject({
      name: 'web product pages',
      metric: 'latency',
      stat: { kind: 'percentile', p: 95 },
      op: '<',
      limit: 2000,
      scope: { channel: 'web', journey: 'product-page' },
      windowSeconds: 60,
      warmupSeconds: 30,
      minSamples: 100,
      minSamplesDerived: true,
      abortOnFail: true,
      source: { line: 8, path: 'budgets[0].threshold' },
    });
    expect(b).toMatchObject({ metric: 'error_rate', limit: 0.01, windowSeconds: null, minSamples: 50 });
    expect(c?.limit).toBe(0.05);
    expect(new Set(set.budgets.map((x) => x.id)).size).toBe(3);
  });

  const invalid: [string, string, RegExp][] = [
    [
      'an unknown metric, with a suggestion',
      'budgets:\n  - metric: latncy\n    threshold: p95 < 2s',
      /2:\d+ budgets\[0\]\.metric .*did you mean "latency"/,
    ],
    [
      'a k6 metric name in the native form',
      'budgets:\n  - metric: http_req_duration\n    threshold: p95 < 2s',
      /k6 metric name \| in the native form write "latency_send"/,
    ],
    [
      'a latency without a unit',
      'budgets:\n  - metric: latency\n    threshold: p95 < 500',
      /3:\d+ budgets\[0\]\.threshold latency limit "500" has no unit \| write "500ms"/,
    ],
    [
      'a latency budget without a statistic',
      'budgets:\n  - metric: latency\n    threshold: < 2s',
      /needs a statistic/,
    ],
    ['a percentile on a rate', 'budgets:\n  - metric: error_rate\n    threshold: p95 < 1%', /is a rate/],
    ['a missing threshold', 'budgets:\n  - metric: latency', /missing required key "threshold"/],
    [
      'an unknown key',
      'budgets:\n  - metric: latency\n    threshold: p95 < 2s\n    windw: 1m',
      /unknown key "windw" \| did you mean "window"/,
    ],
    [
      'a bare-number window',
      'budgets:\n  - metric: latency\n    threshold: p95 < 2s\n    window: 60',
      /budgets\[0\]\.window/,
    ],
    [
      'a step scope on dropped iterations',
      'budgets:\n  - metric: dropped_rate\n    step: pay\n    threshold: rate < 1%',
      /no step scope/,
    ],
    ['an empty file', '{}', /neither "budgets" nor "thresholds"/],
    ['a wrong version', 'version: 2\nbudgets: []', /version is 2/],
  ];
  it.each(invalid)('rejects %s, located', (_name, text, expected) => {
    expect(problemsOf(text).join('\n')).toMatch(expected);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(
      'budgets:\n  - metric: latncy\n    threshold: p95 < 2s\n  - metric: latency\n    threshold: p95 < 5\n',
    );
    expect(problems).toHaveLength(2);
  });
});

describe('k6 thresholds files', () => {
  it('takes the thresholds of a real k6 script as they are (test/fixtures/k6/channels.js)', () => {
    const js = readFileSync(new URL('../../test/fixtures/k6/channels.js', import.meta.url), 'utf8');
    const block = /thresholds:\s*(\{[\s\S]*?\n\s*\}),?\n/.exec(js)?.[1];
    expect(block).toBeDefined();
    const set = parseBudgetsText(`thresholds: ${block}\n`, 'channels.js');
    expect(set.budgets.map((b) => [b.metric, b.scope, b.stat, b.op, b.limit])).toEqual([
      ['latency_send', { channel: 'web' }, { kind: 'percentile', p: 95 }, '<', 500],
      ['error_rate', {}, { kind: 'rate' }, '<', 0.01],
      ['check_pass_rate', { journey: 'checkout' }, { kind: 'rate' }, '>', 0.99],
      ['latency_send', { journey: 'checkout' }, { kind: 'percentile', p: 99 }, '<', 0.001],
    ]);
    expect(set.budgets.every((b) => b.form === 'k6' && b.windowSeconds === null)).toBe(true);
  });

  it('reads the same thresholds as JSON, with the object form and abortOnFail', () => {
    const set = parseBudgetsText(
      JSON.stringify({
        thresholds: {
          'peakday_latency{channel:web}': [
            { threshold: 'p(99)<1500', abortOnFail: true, delayAbortEval: '10s' },
          ],
          dropped_iterations: ['count<10'],
        },
        scenarios: { web: { executor: 'constant-arrival-rate' } },
      }),
      'b.json',
    );
    expect(set.budgets[0]).toMatchObject({
      metric: 'latency',
      abortOnFail: true,
      delayAbortEvalSeconds: 10,
      scope: { channel: 'web' },
    });
    expect(set.budgets[1]).toMatchObject({ metric: 'dropped_count', stat: { kind: 'count' }, minSamples: 0 });
  });

  it.each([
    ['a k6 metric outside the series', 'http_req_waiting'],
    ['a custom metric', 'my_custom_trend'],
  ])('reads %s from the run’s k6 metrics (k6_metric)', (_name, key) => {
    const set = parseBudgetsText(`thresholds:\n  "${key}": ["p(95)<500"]\n`, 'b.yaml');
    expect(set.budgets[0]).toMatchObject({ metric: 'k6_metric', metricName: key });
    expect(set.budgets[0]?.unsupported).toBeUndefined();
  });

  it('filters by the k6 scenario and group tags that import keeps', () => {
    const set = parseBudgetsText(
      'thresholds:\n  "http_req_duration{scenario:web,group:::cart}": ["p(95)<500"]\n',
      'b.yaml',
    );
    expect(set.budgets[0]).toMatchObject({
      metric: 'latency_send',
      scope: { scenario: 'web', group: '::cart' },
    });
  });

  it('accepts an unknown tag but marks it unsupported', () => {
    const set = parseBudgetsText('thresholds:\n  "http_req_duration{method:GET}": ["p(95)<500"]\n', 'b.yaml');
    expect(set.budgets[0]?.metric).toBe('unsupported');
    expect(set.budgets[0]?.unsupported).toMatch(/no "method" tag/);
  });

  it('applies expected_response with a caveat rather than silently', () => {
    const set = parseBudgetsText(
      'thresholds:\n  "http_req_duration{expected_response:true}": ["p(95)<500"]\n',
      'b.yaml',
    );
    expect(set.budgets[0]?.metric).toBe('latency_send');
    expect(set.budgets[0]?.notes.join()).toMatch(/not applied/);
  });

  const invalid: [string, string, RegExp][] = [
    ['a typo in a metric name', '"http_req_duraton": ["p(95)<500"]', /did you mean "http_req_duration"/],
    ['a string instead of a list', 'http_req_failed: "rate<0.01"', /write \["rate<0.01"\]/],
    ['a trend aggregation on a rate', 'http_req_failed: ["p(95)<0.01"]', /does not apply to http_req_failed/],
    ['a native expression', 'http_req_duration: ["p95 < 2s"]', /not a k6 threshold expression/],
    ['a broken tag filter', '"http_req_duration{channel}": ["p(95)<500"]', /not key:value/],
  ];
  it.each(invalid)('rejects %s, located', (_name, body, expected) => {
    const problems = problemsOf(`thresholds:\n  ${body}\n`);
    expect(problems.join('\n')).toMatch(expected);
    expect(problems[0]).toMatch(/^2:/);
  });
});

describe('minimum samples', () => {
  const cases: [string, Parameters<typeof defaultMinSamples>[0], number, number][] = [
    ['p50 needs 20', { kind: 'percentile', p: 50 }, 0, 20],
    ['p95 needs 100', { kind: 'percentile', p: 95 }, 0, 100],
    ['p99 needs 500', { kind: 'percentile', p: 99 }, 0, 500],
    ['max needs 20', { kind: 'max' }, 0, 20],
    ['a 1% rate needs 100', { kind: 'rate' }, 0.01, 100],
    ['a 99% pass rate needs 100', { kind: 'rate' }, 0.99, 100],
    ['a 0.01% rate is capped at 1000', { kind: 'rate' }, 0.0001, 1000],
    ['a count needs none', { kind: 'count' }, 10, 0],
  ];
  it.each(cases)('%s', (_name, stat, limit, n) => {
    expect(defaultMinSamples(stat, limit)).toBe(n);
  });
});
