import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBudgetsText } from './parse-budgets.ts';

// Every budgets example in docs/budgets.md must parse: the documentation cannot drift from the parser.
const doc = readFileSync(new URL('../../docs/budgets.md', import.meta.url), 'utf8');
const blocks = [...doc.matchAll(/```(yaml|json)\n([\s\S]*?)```/g)]
  .map((m) => ({ lang: m[1] as string, text: m[2] as string }))
  .filter((b) => /^\s*(budgets|thresholds|version|\{)/m.test(b.text));

describe('docs/budgets.md examples', () => {
  it('has the native, k6 YAML, k6 JSON and service-timeline examples', () => {
    expect(blocks.map((b) => b.lang)).toEqual(['yaml', 'yaml', 'json', 'yaml']);
  });

  it.each(blocks.map((b, i) => [i, b] as const))('example %d parses', (_i, b) => {
    const set = parseBudgetsText(b.text, `docs/budgets.md#${b.lang}`);
    expect(set.budgets.length).toBeGreaterThan(0);
  });
});
