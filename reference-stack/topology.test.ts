import { describe, expect, it } from 'vitest';
import { DEMAND_TABLE } from './capacity/demand-table.ts';
import {
  API_OPERATION_IDS,
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

  it('the headless topology has nine services (seven modules, the gateway, the storefront) plus the bus; the monolith one deployable', () => {
    expect(Object.keys(TOPOLOGIES.headless.deployables).filter((s) => s !== 'bus')).toHaveLength(9);
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
    for (const op of API_OPERATION_IDS) {
      const m = computeOperationRoute('monolith', op);
      const h = computeOperationRoute('headless', op);
      const total = (d: Partial<Record<string, number>>) =>
        Object.values(d).reduce<number>((sum, x) => sum + (x ?? 0), 0);
      const hopCost =
        h.hops * (DEMAND_TABLE.hopClientCpuMs + DEMAND_TABLE.hopServerCpuMs) * DEMAND_TABLE.scale;
      expect(total(h.demandCpuMs)).toBeCloseTo(total(m.demandCpuMs) + hopCost, 1);
    }
  });

  it('a headless product page is rendered by the storefront, which calls the gateway once (its client side of the hop)', () => {
    const page = computeOperationRoute('headless', 'getProductPage');
    const api = computeOperationRoute('headless', 'getProduct');
    expect(page.services[0]).toBe('storefront');
    expect(page.hops).toBe(api.hops + 1);
    expect(page.demandCpuMs.storefront).toBeCloseTo(
      (DEMAND_TABLE.pageCpuMs.getProductPage + DEMAND_TABLE.hopClientCpuMs) * DEMAND_TABLE.scale,
      2,
    );
    // The gateway charges the storefront's call as it charges any public getProduct.
    expect(page.demandCpuMs.gateway).toBe(api.demandCpuMs.gateway);
    expect(page.demandCpuMs.pricing).toBe(api.demandCpuMs.pricing);
  });

  it('a monolith page costs its render plus the in-process use cases it calls', () => {
    const page = computeOperationRoute('monolith', 'getHomePage');
    const calls =
      (computeOperationRoute('monolith', 'listCategories').demandCpuMs.monolith ?? 0) +
      (computeOperationRoute('monolith', 'listDeals').demandCpuMs.monolith ?? 0);
    expect(page.hops).toBe(0);
    expect(page.demandCpuMs.monolith).toBeCloseTo(
      DEMAND_TABLE.pageCpuMs.getHomePage * DEMAND_TABLE.scale + calls,
      2,
    );
  });

  it('the demand table scales linearly with the scale factor', () => {
    const a = computeDemandTable('headless', { ...DEMAND_TABLE, scale: 10 });
    const b = computeDemandTable('headless', { ...DEMAND_TABLE, scale: 20 });
    expect(b.getProduct?.catalog).toBeCloseTo(2 * (a.getProduct?.catalog ?? 0), 2);
  });
});
