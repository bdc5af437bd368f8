import { describe, expect, it } from 'vitest';
import { computeOperationRoute } from '../topology.ts';
import { DEMAND_TABLE, demandTableForRun, PAGE_CPU_MS_BEFORE_DOCUMENTS } from './demand-table.ts';

describe('the demand table a live run ran with', () => {
  it.each([
    ['a run before the page documents landed', '2026-12-02T19:48:14.184Z', 'before'],
    ['a run after', '2026-12-03T02:00:00.000Z', 'now'],
    ['a run without a start time', undefined, 'now'],
    ['a run with an unreadable start time', 'yesterday', 'now'],
  ])('gives %s the page costs of its day', (_, startedAt, which) => {
    const t = demandTableForRun(startedAt);
    expect(t.pageCpuMs).toEqual(
      which === 'before' ? PAGE_CPU_MS_BEFORE_DOCUMENTS.pageCpuMs : DEMAND_TABLE.pageCpuMs,
    );
    // Everything but the pages is today's table.
    expect({ ...t, pageCpuMs: null }).toEqual({ ...DEMAND_TABLE, pageCpuMs: null });
  });

  it("charges an older run's product page the stub's render, not the document's", () => {
    const before = computeOperationRoute(
      'monolith',
      'getProductPage',
      demandTableForRun('2026-12-01T00:00:00Z'),
    );
    const now = computeOperationRoute('monolith', 'getProductPage');
    const render =
      (DEMAND_TABLE.pageCpuMs.getProductPage - PAGE_CPU_MS_BEFORE_DOCUMENTS.pageCpuMs.getProductPage) *
      DEMAND_TABLE.scale;
    expect(now.demandCpuMs.monolith! - before.demandCpuMs.monolith!).toBeCloseTo(render, 2);
  });
});
