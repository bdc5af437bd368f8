import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  computeDemandTable,
  OPERATION_CALLS,
  OPERATION_IDS,
  type ServiceName,
} from '../reference-stack/topology.ts';
import {
  type CallPath,
  computeCallPath,
  PARALLEL_CALLS,
  PARALLEL_PAGE_CALLS,
  pathDemand,
} from './call-path.ts';

/** A compact picture of a path: visits by deployable, `[a|b]` for parallel legs. */
function shape(p: CallPath): string {
  if (p.kind === 'visit') return p.service;
  if (p.kind === 'external') return 'external';
  const parts = p.parts.map(shape);
  return p.kind === 'series' ? parts.join(' > ') : `[${parts.join(' | ')}]`;
}

describe('a request path through the deployables', () => {
  it.each(['headless', 'monolith'] as const)(
    'charges each deployable of %s exactly the demand table, over every operation',
    (arch) => {
      const table = computeDemandTable(arch);
      for (const op of OPERATION_IDS) {
        const got = pathDemand(computeCallPath(arch, op));
        const want = table[op];
        expect(Object.keys(got).sort(), op).toEqual(Object.keys(want).sort());
        for (const [s, ms] of Object.entries(want))
          expect(got[s as ServiceName], `${arch} ${op} ${s}`).toBeCloseTo(ms as number, 2);
      }
    },
  );

  it('asks pricing and inventory at once for a product, in headless; in one hold in the monolith', () => {
    expect(shape(computeCallPath('headless', 'getProduct'))).toBe(
      'gateway > catalog > [pricing | inventory]',
    );
    expect(shape(computeCallPath('monolith', 'getProduct'))).toBe('monolith');
  });

  it('asks for the categories and the deals at once on the home page, each through the gateway', () => {
    expect(shape(computeCallPath('headless', 'getHomePage'))).toBe(
      'storefront > [gateway > catalog | gateway > pricing]',
    );
    expect(shape(computeCallPath('headless', 'getProductPage'))).toBe(
      'storefront > gateway > catalog > [pricing | inventory]',
    );
  });

  it('visits a deployable once per call: add-to-cart reaches the cart twice, checkout inventory twice and waits for the card', () => {
    expect(shape(computeCallPath('headless', 'addCartItem'))).toBe(
      'gateway > cart > catalog > inventory > pricing > cart',
    );
    expect(
      shape(
        computeCallPath('headless', 'checkout', { external: { 'checkout.checkout': { shift: 1, tail: 1 } } }),
      ),
    ).toBe('gateway > checkout > cart > pricing > inventory > inventory > orders > external');
    expect(
      shape(
        computeCallPath('monolith', 'checkout', { external: { 'checkout.checkout': { shift: 1, tail: 1 } } }),
      ),
    ).toBe('monolith > external');
  });

  it("lists exactly the gateway's and the storefront's Promise.all groups (read from their source)", () => {
    // Each `Promise.all([ ports.<module>.<method>(...), ... ])` in a use case of api.ts.
    const api = readFileSync(new URL('../reference-stack/gateway/api.ts', import.meta.url), 'utf8');
    const found: string[] = [];
    const useCase = /async (\w+)\(/g;
    const starts = [...api.matchAll(useCase)].map((m) => ({ name: m[1] as string, at: m.index ?? 0 }));
    for (const m of api.matchAll(/Promise\.all\(\[([\s\S]*?)\]\)/g)) {
      const owner = starts.filter((s) => s.at < (m.index ?? 0)).at(-1)?.name ?? '?';
      const calls = [...(m[1] ?? '').matchAll(/ports\.(\w+)\.(\w+)\(/g)].map((c) => `${c[1]}.${c[2]}`);
      found.push(`${owner}: ${calls.sort().join(', ')}`);
    }
    const listed = Object.entries(PARALLEL_CALLS)
      .filter(([op]) => op !== 'graphql')
      .flatMap(([op, groups]) => (groups ?? []).map((g) => `${op}: ${[...g].sort().join(', ')}`));
    expect(found.sort()).toEqual(listed.sort());
    // GraphQL's product field runs getProduct: the same calls at once.
    expect(PARALLEL_CALLS.graphql).toEqual(PARALLEL_CALLS.getProduct);
    expect(OPERATION_CALLS.graphql).toEqual(OPERATION_CALLS.getProduct);

    const pages = readFileSync(new URL('../reference-stack/storefront/pages.ts', import.meta.url), 'utf8');
    const pageGroups = [...pages.matchAll(/Promise\.all\(\[([^\]]*)\]\)/g)].map((m) =>
      [...(m[1] ?? '').matchAll(/data\.(\w+)\(/g)]
        .map((c) => c[1])
        .sort()
        .join(', '),
    );
    expect(pageGroups).toEqual(
      Object.values(PARALLEL_PAGE_CALLS).flatMap((g) => (g ?? []).map((x) => [...x].sort().join(', '))),
    );
  });
});
