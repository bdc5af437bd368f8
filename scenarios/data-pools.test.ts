import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../core/errors.ts';
import { createRng } from '../core/rng.ts';
import { BUILTIN_POOL_NAMES, createDataPools, createPicker, parseCsv } from './data-pools.ts';

const dir = mkdtempSync(join(tmpdir(), 'peakday-pools-'));

describe('data pools', () => {
  it.each([
    [
      'a header and rows',
      'id,name\n1,a\n2,b\n',
      [
        { id: '1', name: 'a' },
        { id: '2', name: 'b' },
      ],
    ],
    ['quoted commas and quotes', 'id,name\r\n1,"a, ""b"""\r\n', [{ id: '1', name: 'a, "b"' }]],
    ['blank lines and no trailing newline', 'id\n\n7', [{ id: '7' }]],
  ])('parses CSV with %s', (_what, text, rows) => {
    expect(parseCsv(text)).toEqual(rows);
  });

  it('builds the built-in pools from the seeded catalog so ids exist in the stack', () => {
    const pools = createDataPools([], { products: 500 });
    for (const name of BUILTIN_POOL_NAMES) expect(pools[name]?.length, name).toBeGreaterThan(0);
    expect(pools.productIds?.[0]).toMatch(/^p-\d{6}$/);
    expect(pools.skus?.[0]).toMatch(/^SKU-\d{6}$/);
    expect(pools.topSku).toEqual([pools.hotSkus?.[0]]);
  });

  it('reads CSV and JSON user pools and reports a missing one with its path', () => {
    const csv = join(dir, 'users.csv');
    const json = join(dir, 'codes.json');
    writeFileSync(csv, 'user,token\nalice,t1\nbob,t2\n');
    writeFileSync(json, '["A","B","C"]');
    const pools = createDataPools(
      [
        { name: 'users', file: csv, format: 'csv' },
        { name: 'codes', file: json, format: 'json' },
      ],
      { products: 100 },
    );
    expect(pools.users).toHaveLength(2);
    expect(pools.codes).toEqual(['A', 'B', 'C']);
    let err: unknown;
    try {
      createDataPools([{ name: 'gone', file: join(dir, 'gone.csv'), format: 'csv' }], { products: 100 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PeakdayError);
    expect((err as PeakdayError).problems[0]?.path).toBe('pools.gone');
  });

  it('picks sequentially or with a seeded random stream, reading a field of object rows', () => {
    const rows = [{ user: 'a' }, { user: 'b' }, { user: 'c' }];
    const seq = createPicker(rows, { pool: 'users', field: 'user', pick: 'sequential' }, createRng(1));
    expect([seq(), seq(), seq(), seq()]).toEqual(['a', 'b', 'c', 'a']);
    const r1 = createPicker(['x', 'y', 'z'], { pool: 'p' }, createRng(5));
    const r2 = createPicker(['x', 'y', 'z'], { pool: 'p' }, createRng(5));
    const a = Array.from({ length: 20 }, () => r1());
    expect(a).toEqual(Array.from({ length: 20 }, () => r2()));
    expect(new Set(a).size).toBeGreaterThan(1);
  });
});
