import { describe, expect, it } from 'vitest';
import { DEMAND_TABLE } from './capacity/demand-table.ts';
import {
  computeDemandTable,
  computeOperationRoute,
  DEFAULT_TASK_SIZES,
  isValidFargateSize,
  OPERATION_IDS,
  TOPOLOGIES,
} from './topology.ts';

describe('topologies', () => {
  it('every default task size is a valid Fargate size', () => {
    for (const [name, size] of Object.entries(DEFAULT_TASK_SIZES))
      expect([name, isValidFargateSize(size)]).toEqual([name, true]);
  });

  it.each([
    [{ vcpu: 0.25, memoryGb: 3 }, false],
    [{ vcpu: 3, memoryGb: 4 }, false],
    [{ vcpu: 8, memoryGb: 18 }, false],
    [{ vcpu: 8, memoryGb: 20 }, true],
  ])('rejects or accepts %o as a Fargate size', (size, ok) => {
    expect(isValidFargateSize(size)).toBe(ok);
  });

  it('the headless topology has eight services plus the bus; the monolith one deployable', () => {
    expect(Object.keys(TOPOLOGIES.headless.deployables).filter((s) => s !== 'bus')).toHaveLength(8);
    expect(Object.keys(TOPOLOGIES.monolith.deployables)).toEqual(['monolith']);
  });

  it('a monolith operation makes no hops and charges only the monolith', () => {
    for (const op of OPERATION_IDS) {
      const r = TOPOLOGIES.monolith.operations[op];
      expect(r.hops).toBe(0);
      expect(r.services).toEqual(['monolith']);
    }
  });

  it('a headless product page fans out to catalog, pricing and inventory in three hops', () => {
    const r = computeOperationRoute('headless', 'getProduct');
    expect(r.hops).toBe(3);
    expect(r.services).toEqual(['gateway', 'catalog', 'pricing', 'inventory']);
  });

  it('a headless checkout crosses six process boundaries', () => {
    expect(computeOperationRoute('headless', 'checkout').hops).toBe(6);
  });

  it('headless demand equals monolith demand plus the hop costs, with the same scale', () => {
    for (const op of OPERATION_IDS) {
      const m = computeOperationRoute('monolith', op);
      const h = computeOperationRoute('headless', op);
      const total = (d: Partial<Record<string, number>>) =>
        Object.values(d).reduce<number>((sum, x) => sum + (x ?? 0), 0);
      const hopCost =
        h.hops * (DEMAND_TABLE.hopClientCpuMs + DEMAND_TABLE.hopServerCpuMs) * DEMAND_TABLE.scale;
      expect(total(h.demandCpuMs)).toBeCloseTo(total(m.demandCpuMs) + hopCost, 1);
    }
  });

  it('the demand table scales linearly with the scale factor', () => {
    const a = computeDemandTable('headless', { ...DEMAND_TABLE, scale: 10 });
    const b = computeDemandTable('headless', { ...DEMAND_TABLE, scale: 20 });
    expect(b.getProduct?.catalog).toBeCloseTo(2 * (a.getProduct?.catalog ?? 0), 2);
  });
});
