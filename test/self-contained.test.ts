import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'runs', '.peakday', 'cdk.out', 'fixtures']);
const TEXT = /\.(ts|js|mjs|md|ya?ml|json|sh)$/;
/** The one place allowed to name the directory beside the clone: CI's optional k6 (see .ci/run). */
const ALLOWED = new Set(['.ci/run']);
// Spelled in two parts so this file does not match itself.
const OUTSIDE = `..${'/'}shared`;

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name)) continue;
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) yield* walk(path);
    else if (TEXT.test(name) || name === 'run') yield path;
  }
}

describe('the repository stands on its own', () => {
  it('names no file outside the clone: facts are in docs/sources.md, k6 outputs in test/fixtures/k6', () => {
    const offenders: string[] = [];
    for (const file of walk(ROOT)) {
      const rel = relative(ROOT, file);
      if (ALLOWED.has(rel)) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (line.includes(OUTSIDE)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(
      offenders,
      'copy what these lines read into the repository (docs/sources.md, test/fixtures/)',
    ).toEqual([]);
  });
});
