import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../../core/errors.ts';
import { extractK6ThresholdsSource } from './k6-script.ts';
import { readBudgets } from './parse-budgets.ts';

const CHANNELS_JS = fileURLToPath(new URL('../../test/fixtures/k6/channels.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'peakday-k6-script-'));
const script = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

describe('k6 scripts as budgets files', () => {
  it('reads the thresholds of a real k6 script where they are written', () => {
    const set = readBudgets(CHANNELS_JS);
    expect(set.budgets.map((b) => [b.metricName, b.scope, b.expression, b.source.line])).toEqual([
      ['http_req_duration', { channel: 'web' }, 'p(95)<500', 11],
      ['http_req_failed', {}, 'rate<0.01', 12],
      ['checks', { journey: 'checkout' }, 'rate>0.99', 13],
      ['http_req_duration', { journey: 'checkout' }, 'p(99)<0.001', 14],
    ]);
  });

  it('skips comments but keeps strings that look like comments', () => {
    const f = script(
      'comments.js',
      [
        'export const options = {',
        '  // thresholds: { broken',
        '  thresholds: {',
        "    'http_req_duration{step:pay}': ['p(95)<800'], // pay is slow",
        '    /* a block',
        '       comment */',
        '    "http_req_failed{channel:web}": [`rate<0.02`],',
        "    'http_req_waiting{url:http://127.0.0.1/x}': ['p(95)<100'],",
        '  },',
        '};',
      ].join('\n'),
    );
    const set = readBudgets(f);
    expect(set.budgets.map((b) => [b.metric, b.expression])).toEqual([
      ['latency_send', 'p(95)<800'],
      ['error_rate', 'rate<0.02'],
      ['unsupported', 'p(95)<100'],
    ]);
  });

  it('locates a bad threshold at its line in the script (exit 2)', () => {
    const f = script(
      'bad.js',
      "export const options = {\n  thresholds: {\n    http_req_duration: ['p95<500'],\n  },\n};\n",
    );
    try {
      readBudgets(f);
      expect.unreachable();
    } catch (e) {
      const err = e as PeakdayError;
      expect(err.exitCode).toBe(2);
      expect(err.problems[0]).toMatchObject({ file: f, line: 3 });
      expect(err.problems[0]?.message).toMatch(/not a k6 threshold expression/);
    }
  });

  it('says so when a script has no thresholds (exit 2)', () => {
    const f = script('none.js', 'export default function () {}\n');
    expect(() => readBudgets(f)).toThrow(PeakdayError);
    try {
      readBudgets(f);
    } catch (e) {
      expect((e as PeakdayError).problems[0]?.message).toMatch(/no `thresholds: \{ \.\.\. \}` object/);
    }
  });

  it('keeps every newline so positions do not move', () => {
    const text = "const a = 1;\n\nexport const options = { thresholds: { checks: ['rate>0.9'] } };\n";
    const out = extractK6ThresholdsSource(text) as string;
    expect(out.length).toBe(text.length);
    expect(out.split('\n').length).toBe(text.split('\n').length);
    expect(out.indexOf('checks')).toBe(text.indexOf('checks'));
  });
});
