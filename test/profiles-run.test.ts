/**
 * Every built-in profile, played by `peakday run` through the real CLI against the reference stack's
 * monolith (in this process, on 127.0.0.1): real journeys, with extraction, templating, cookies and
 * checks, against the real API. Short and slow (a few seconds at a few dozen iterations a second
 * each) so the suite stays quick on a shared host; the benchmark measures rates.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import { REPO_ROOT, runCli } from './cli-helper.ts';
import { startTestStack, type TestStack } from './stack-helper.ts';

const profiles = readdirSync(join(REPO_ROOT, 'scenarios', 'profiles'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

let stack: TestStack;
beforeAll(async () => {
  // The engine's catalog pools draw product ids from the stack's default 10,000-product catalog.
  stack = await startTestStack('monolith', {
    domain: { catalogProducts: 10_000, paymentMedianMs: 5, paymentSigma: 0.2 },
  });
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

describe('peakday run drives every built-in profile', () => {
  it('finds the built-in profiles', () => {
    expect(profiles).toEqual(
      expect.arrayContaining(['black-friday', 'ci-smoke', 'flash-sale', 'prime-day', 'product-drop', 'soak']),
    );
  });

  it.each(profiles)('%s: plays its plan against the monolith with working journeys', async (profile) => {
    const out = join(mkdtempSync(join(tmpdir(), 'peakday-profiles-')), 'run');
    const r = await runCli([
      'run',
      profile,
      '--target',
      stack.url,
      '--duration',
      '3s',
      '--peak-rps',
      '40',
      '--no-stack-handshake',
      '--out',
      out,
    ]);
    expect(r.stderr).not.toMatch(/internal error|at .*\.ts:\d+/);
    expect(r.code).toBe(0);
    const run = readRun(out);
    const s = run.summary;
    expect(run.meta.endReason).toBe('completed');
    expect(run.meta.profile.name).toBe(profile);
    // Every planned arrival was started or counted as dropped, and none was dropped at this rate.
    expect(s?.iterations.started).toBe(s?.iterations.planned);
    expect(s?.iterations.dropped).toBe(0);
    expect(s?.iterations.completed).toBe(s?.iterations.started);
    // The journeys work against the real API: requests beyond the first step went out, and the
    // stack answered (almost) all of them as the checks expect.
    expect(s?.requests.total).toBeGreaterThan(s?.iterations.started ?? 0);
    expect((s?.requests.failed ?? 1) / (s?.requests.total ?? 1)).toBeLessThan(0.02);
    expect(s?.requests.errors.refused).toBe(0);
  });
});
