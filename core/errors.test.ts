import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CATALOG,
  ExitCode,
  invalidInput,
  isErrorCode,
  PeakdayError,
  validationError,
} from './errors.ts';
import { renderErrorCatalog, updateErrorsDoc } from './errors-doc.ts';

const ROOT = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', '.git', 'runs', 'fixtures', 'cdk.out', '.peakday']);

function sourceFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/**
 * Where a code is given to an error: `new PeakdayError('code'`, `invalidInput('code'`,
 * `validationError('code'`, and the input readers that take the code their errors carry
 * (`readYamlSource(file, 'code'`, `parseYamlSource(text, file, 'code'`, `createChecker(src, 'code'`),
 * plus a constant typed `ErrorCode`. (Helpers that pass a code on take an `ErrorCode`, so the
 * type checker covers them.)
 */
const THROWN =
  /(?:new PeakdayError|invalidInput|validationError)\(\s*'([^']+)'|(?:readYamlSource|createChecker)\([^,()]+,\s*'([^']+)'|parseYamlSource\([^,()]+,[^,()]+,\s*'([^']+)'|:\s*ErrorCode\s*=\s*'([^']+)'/g;

function thrownCodes(): { code: string; where: string }[] {
  const found: { code: string; where: string }[] = [];
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(THROWN)) {
      const code = m.slice(1).find((g) => g !== undefined) as string;
      const line = text.slice(0, m.index).split('\n').length;
      found.push({ code, where: `${relative(ROOT, file)}:${line}` });
    }
  }
  return found;
}

describe('the error catalog', () => {
  const thrown = thrownCodes();

  it('finds the codes the source throws (the scan itself works)', () => {
    const codes = new Set(thrown.map((t) => t.code));
    for (const c of [
      'profile-invalid',
      'invalid-flag',
      'budgets-invalid',
      'run-file-corrupt',
      'k6-not-found',
    ])
      expect(codes).toContain(c);
  });

  it('has every code thrown anywhere in the source', () => {
    const missing = thrown.filter((t) => !isErrorCode(t.code)).map((t) => `${t.code} (${t.where})`);
    expect(
      missing,
      'add one line per code to ERROR_CATALOG in core/errors.ts: ' +
        "'the-code': { exit: INPUT, meaning: '...', todo: '...' }, then run `npx tsx scripts/errors-doc.ts`",
    ).toEqual([]);
  });

  it('lists no code the source never uses (a renamed code leaves no stale entry)', () => {
    const all = sourceFiles()
      .filter((f) => !f.endsWith(join('core', 'errors.ts')))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const unused = Object.keys(ERROR_CATALOG).filter((c) => !all.includes(`'${c}'`));
    expect(unused, 'remove these entries from ERROR_CATALOG in core/errors.ts').toEqual([]);
  });

  it('gives every code a documented exit code, a meaning and what to do', () => {
    const exits = new Set<number>(Object.values(ExitCode));
    for (const [code, e] of Object.entries(ERROR_CATALOG)) {
      expect(code, 'codes are kebab-case').toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(exits.has(e.exit), `${code}: exit ${e.exit}`).toBe(true);
      expect(e.meaning.length, code).toBeGreaterThan(10);
      expect(e.todo.length, code).toBeGreaterThan(5);
    }
  });

  it('is listed in docs/errors.md exactly as the catalog says', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
    expect(
      updateErrorsDoc(doc) === doc,
      'docs/errors.md is behind core/errors.ts: run `npx tsx scripts/errors-doc.ts`',
    ).toBe(true);
    expect(renderErrorCatalog().split('\n').length).toBe(Object.keys(ERROR_CATALOG).length + 4);
  });

  it('documents every exit code a user can meet in docs/errors.md and the README', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const [name, code] of Object.entries(ExitCode)) {
      expect(doc, name).toMatch(new RegExp(`^\\| ${code} \\| ${name} \\|`, 'm'));
      expect(readme, name).toMatch(new RegExp(`^\\| ${code} +\\|`, 'm'));
    }
  });
});

describe('PeakdayError', () => {
  it.each([
    ['profile-invalid', ExitCode.invalidInput],
    ['k6-failed', ExitCode.environment],
    ['k6-script-error', ExitCode.invalidInput],
    ['aws-throttled', ExitCode.awsUnavailable],
    ['aws-request-failed', ExitCode.awsUnavailable],
    ['stack-start-failed', ExitCode.internal],
    ['stack-start-resources', ExitCode.environment],
    ['stack-start-timeout', ExitCode.environment],
  ] as const)('takes the exit code of %s from the catalog (%i)', (code, exit) => {
    expect(new PeakdayError(code, 'x').exitCode).toBe(exit);
  });

  it('makes invalid input and validation errors exit 2 with every problem kept', () => {
    expect(invalidInput('target-invalid', 'x').exitCode).toBe(2);
    const e = validationError('profile-invalid', 'p.yaml', [{ message: 'a' }, { message: 'b' }]);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('p.yaml: 2 problems found');
    expect(e.problems).toHaveLength(2);
  });
});
