import { afterAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/stack-helper.ts';
import type { Arch } from '../topology.ts';
import { type Edge, startEdge } from './edge-server.ts';

describe.each<Arch>(['headless', 'monolith'])('a deal opening in the %s stack', (arch) => {
  let stack: TestStack | undefined;
  let edge: Edge | undefined;
  afterAll(async () => {
    await stack?.stop();
    await edge?.close();
  });

  it('purges the deal product’s cached page at the edge (PriceChanged from the pricing sweep)', async () => {
    let origins = { api: '', pages: '' };
    edge = await startEdge({
      host: '127.0.0.1',
      port: 0,
      origins: () => origins,
      now: () => Date.now() / 1000,
    });
    // Event time starts just before the second deal opens (deal-002 at 1800 s: reference-stack/domain/pricing.ts).
    stack = await startTestStack(arch, { edgeUrl: edge.url, eventStart: 1798, timeScale: 1 });
    origins = { api: stack.url, pages: stack.pagesUrl };
    const deals = (await (await fetch(`${edge.url}/api/deals`)).json()) as {
      items: { id: string; productId: string }[];
    };
    const deal = deals.items.find((d) => d.id === 'deal-002');
    expect(deal).toBeDefined();
    const page = `${edge.url}/p/${deal!.productId}`;
    await (await fetch(page)).text();
    expect((await fetch(page)).headers.get('x-cache')).toBe('Hit from peakday-edge');
    edge.takePeriodMetrics();
    // The sweep runs every second: the deal opens within ~3 s and its PriceChanged reaches the edge.
    const until = Date.now() + 10_000;
    let purged = 0;
    while (Date.now() < until && purged === 0) {
      await new Promise((r) => setTimeout(r, 200));
      await stack.settle(1000);
      purged += edge.takePeriodMetrics().purgedObjects;
    }
    expect(purged).toBe(1);
    const after = await fetch(page);
    expect(after.headers.get('x-cache')).toBe('Miss from peakday-edge');
    expect(await after.text()).toContain('deal-002');
  }, 40_000);
});
