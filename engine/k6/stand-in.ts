/**
 * Test support for the k6 driver: so the driver's tests run on any machine (a real k6 is optional and
 * named by `K6_BIN`), they run a stand-in `k6` executable that replays real k6 outputs
 * (test/fixtures/k6/, k6 v0.48) into the files the driver asked for. Not used by the CLI.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the real k6 outputs live (test/fixtures/k6/, each file's origin in its README). */
export const K6_FIXTURES = join(import.meta.dirname, '../../test/fixtures/k6');
const FIXTURES = K6_FIXTURES;

/**
 * A count from k6's own end-of-test summary of a fixture run (`<fixture>.summary.json`), so tests
 * compare peakday's numbers with what k6 itself reported instead of a number copied from output.
 */
export function k6SummaryCount(fixture: 'channels' | 'dropped', metric: string): number {
  const summary = JSON.parse(readFileSync(join(FIXTURES, `${fixture}.summary.json`), 'utf8')) as {
    metrics: Record<string, { count?: number }>;
  };
  const count = summary.metrics[metric]?.count;
  if (typeof count !== 'number') throw new Error(`${fixture}.summary.json has no count for ${metric}`);
  return count;
}

/**
 * A stand-in `k6` executable: records its arguments, then replays a real k6 run's outputs (from
 * test/fixtures/k6/) into the files it was asked to write, shifted to "now", prints the run's
 * console when the fixture has one (plus `STANDIN_CONSOLE`, for log lines a test needs), and exits
 * with `STANDIN_EXIT`, after `STANDIN_LINGER_MS` milliseconds (default 0).
 */
export function standInK6(dir: string): string {
  const file = join(dir, 'k6');
  writeFileSync(
    file,
    `#!/usr/bin/env node
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.writeFileSync(process.env.STANDIN_ARGS, JSON.stringify(args));
const fixture = process.env.STANDIN_FIXTURE;
const dir = ${JSON.stringify(FIXTURES)};
const out = args.find((a) => a.startsWith('json='));
const summary = args[args.indexOf('--summary-export') + 1];
if (!out || !summary || !fs.existsSync(args[args.length - 1])) { console.error('bad args'); process.exit(107); }
const lines = fs.readFileSync(dir + '/' + fixture + '.out.ndjson', 'utf8').split('\\n').filter(Boolean);
let first;
for (const l of lines) { const p = JSON.parse(l); if (p.type === 'Point') { first = Math.floor(Date.parse(p.data.time) / 1000) * 1000; break; } }
const shift = Date.now() - first;
const shifted = lines.map((l) => { const p = JSON.parse(l); if (p.type === 'Point') p.data.time = new Date(Date.parse(p.data.time) + shift).toISOString(); return JSON.stringify(p); });
fs.writeFileSync(out.slice(5), shifted.join('\\n') + '\\n');
fs.copyFileSync(dir + '/' + fixture + '.summary.json', summary);
// What k6 printed, when the fixture has it (channels does), then any extra lines the test asks for.
if (fs.existsSync(dir + '/' + fixture + '.console.txt')) process.stdout.write(fs.readFileSync(dir + '/' + fixture + '.console.txt', 'utf8'));
if (process.env.STANDIN_CONSOLE) process.stderr.write(process.env.STANDIN_CONSOLE);
// A real k6 run lasts at least its plan; STANDIN_LINGER_MS keeps the stand-in alive as long as a test needs.
setTimeout(() => process.exit(Number(process.env.STANDIN_EXIT || 0)), Number(process.env.STANDIN_LINGER_MS || 0));
`,
  );
  chmodSync(file, 0o755);
  return file;
}
