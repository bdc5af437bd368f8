import { describe, expect, it } from 'vitest';
import { findK6WriteFailure } from './write-failure.ts';

// As k6 v1.3.0 printed it when its JSON output reached a file-size limit (ulimit -f 64).
const REAL =
  'time="2026-12-02T16:13:18Z" level=error msg="Sample couldn\'t be marshalled to JSON" error="write /tmp/arch-k6/run1/k6-out.ndjson: file too large" filename=/tmp/arch-k6/run1/k6-out.ndjson output=json';

describe('findK6WriteFailure', () => {
  it("reads k6's own line for a write that hit a file-size limit", () => {
    expect(findK6WriteFailure(`running (01.0s)\n${REAL}\n`)).toEqual({
      file: '/tmp/arch-k6/run1/k6-out.ndjson',
      cause: 'file too large (a file-size limit was reached) (EFBIG)',
      code: 'EFBIG',
    });
  });

  it('names a full disk ENOSPC', () => {
    const line = REAL.replace('file too large', 'no space left on device');
    expect(findK6WriteFailure(line)?.cause).toBe('no space left on device (ENOSPC)');
  });

  it('ignores other errors, and files outside the run directory when one is given', () => {
    expect(findK6WriteFailure(REAL.replace('file too large', 'permission denied'))).toBeNull();
    expect(
      findK6WriteFailure('level=warn msg="Request Failed" error="dial tcp: connection refused"'),
    ).toBeNull();
    expect(findK6WriteFailure(REAL, '/elsewhere')).toBeNull();
    expect(findK6WriteFailure(REAL, '/tmp/arch-k6/run1')?.code).toBe('EFBIG');
  });
});
