import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createProgram } from '../cli/main.ts';

// docs/ci.md must stay runnable: its YAML parses and every peakday command and flag it uses exists.
const doc = readFileSync(new URL('../docs/ci.md', import.meta.url), 'utf8');
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] as string);
const invocations = [...doc.replace(/\\\n\s*/g, ' ').matchAll(/node bin\/peakday\.js ([^\n|]+)/g)].map((m) =>
  (m[1] as string).trim().split(/\s+/),
);

function find(program: Command, words: string[]): { cmd: Command; rest: string[] } {
  let cmd = program;
  let i = 0;
  for (; i < words.length; i++) {
    const sub = cmd.commands.find((c) => c.name() === words[i]);
    if (!sub) break;
    cmd = sub;
  }
  return { cmd, rest: words.slice(i) };
}

describe('docs/ci.md', () => {
  it('has a GitHub Actions workflow and a GitLab CI job that parse as YAML', () => {
    const parsed = yamlBlocks.map((b) => parse(b) as Record<string, unknown>);
    expect(parsed.some((p) => 'jobs' in p && 'on' in p)).toBe(true);
    expect(parsed.some((p) => 'peakday-gate' in p)).toBe(true);
  });

  it('uses only peakday commands and flags that exist', async () => {
    const program = await createProgram();
    expect(invocations.length).toBeGreaterThanOrEqual(8);
    for (const words of invocations) {
      const { cmd, rest } = find(program, words);
      expect(cmd.name(), words.join(' ')).not.toBe('peakday');
      const flags = rest.filter((w) => w.startsWith('--'));
      const known = cmd.options.map((o) => o.long);
      for (const f of flags) expect(known, `${cmd.name()} ${f}`).toContain(f);
    }
  });
});
