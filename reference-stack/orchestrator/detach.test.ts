import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { followSupervisorLog } from './detach.ts';

describe('followSupervisorLog', () => {
  it('passes on the lines appended after it started, without timestamps, a partial line once complete', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'peakday-log-')), 'supervisor.log');
    writeFileSync(file, '2026-11-25T08:06:10.961Z stack headless up at http://127.0.0.1:1\n');
    const lines: string[] = [];
    const stop = followSupervisorLog(file, (l) => lines.push(l), 20);
    appendFileSync(
      file,
      '2026-11-25T08:06:41.590Z scaling: service/peakday/catalog Successful\n2026-11-25T08:06:42',
    );
    await new Promise((r) => setTimeout(r, 80));
    expect(lines).toEqual(['scaling: service/peakday/catalog Successful']);
    appendFileSync(file, '.000Z stack stopped (rehearsal done)\n');
    stop();
    expect(lines).toEqual(['scaling: service/peakday/catalog Successful', 'stack stopped (rehearsal done)']);
  });
});
