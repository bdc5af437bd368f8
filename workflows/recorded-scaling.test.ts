import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REHEARSAL_SCALING_FILE, recordedScaling } from './rehearse.ts';

describe('recordedScaling', () => {
  const root = mkdtempSync(join(tmpdir(), 'pd-recorded-scaling-'));
  const rehearsal = (name: string, json: object | string) => {
    const dir = join(root, name);
    mkdirSync(join(dir, 'live'), { recursive: true });
    writeFileSync(join(dir, 'rehearsal.json'), typeof json === 'string' ? json : JSON.stringify(json));
    return dir;
  };

  it("finds the rehearsal's copy from the rehearsal or its live run, relative to where the rehearsal is now", () => {
    const dir = rehearsal('pinned', {
      scalingFile: REHEARSAL_SCALING_FILE,
      scalingSource: '/elsewhere/x.yaml',
    });
    expect(recordedScaling(dir)).toBe(join(dir, 'scaling.yaml'));
    expect(recordedScaling(join(dir, 'live'))).toBe(join(dir, 'scaling.yaml'));
  });

  it('is null for the default scaling, a bare run, a sibling of live/, or an unreadable rehearsal.json', () => {
    const plain = rehearsal('default', { arch: 'headless' });
    expect(recordedScaling(plain)).toBeNull();
    expect(recordedScaling(join(plain, 'live'))).toBeNull();
    const pinned = rehearsal('pinned2', { scalingFile: 'scaling.yaml' });
    mkdirSync(join(pinned, 'replay'));
    expect(recordedScaling(join(pinned, 'replay'))).toBeNull();
    const bare = join(root, 'bare-run');
    mkdirSync(bare);
    expect(recordedScaling(bare)).toBeNull();
    expect(recordedScaling(rehearsal('torn', '{"scalingFile": '))).toBeNull();
  });
});
