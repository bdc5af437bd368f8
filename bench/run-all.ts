/**
 * `npm run bench`: runs every `bench/*.bench.ts` in turn, each in its own process (so one
 * benchmark's heap and sockets do not disturb the next), and stops at the first failure.
 * Pass names to run a subset: `npm run bench -- engine compile`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const f of files) {
  process.stdout.write(`\n=== ${f} ===\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${f}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`${f} failed with exit code ${r.status}\n`);
    process.exit(r.status ?? 1);
  }
}
