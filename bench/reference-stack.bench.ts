/**
 * Reference stack benchmarks (not timed tests):
 * 1. Gateway overhead at low load: p50 of a product page through the headless gateway minus the p50 of
 *    the same three module calls made directly to the services (target: under 2 ms).
 * 2. Host CPU while the in-process headless stack serves a product-page load with the capacity model
 *    on: the share of the host's cores this process uses at each rate, and the largest rate at which it
 *    stays under 70% (the model, not the host, must set capacity).
 *
 *   npm run bench -- reference-stack
 */
import { cpus } from 'node:os';
import { request } from 'undici';
import { createCatalog } from '../scenarios/catalog.ts';
import { startTestStack } from '../test/stack-helper.ts';

const catalog = createCatalog({ products: 500 });

async function timed(url: string, init?: { method: 'POST'; body: string }): Promise<number> {
  const t = performance.now();
  const res = await request(
    url,
    init ? { ...init, headers: { 'content-type': 'application/json' } } : undefined,
  );
  await res.body.text();
  return performance.now() - t;
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function gatewayOverhead(): Promise<void> {
  const stack = await startTestStack('headless');
  try {
    const via: number[] = [];
    const direct: number[] = [];
    const s = stack.services;
    for (let i = 0; i < 400; i++) {
      const p = catalog.products[i % catalog.products.length]!;
      via.push(await timed(`${stack.url}/api/products/${p.id}`));
      const t = performance.now();
      await timed(`${s.catalog!.url}/rpc/catalog.getProduct`, {
        method: 'POST',
        body: JSON.stringify({ id: p.id }),
      });
      await Promise.all([
        timed(`${s.pricing!.url}/rpc/pricing.quote`, {
          method: 'POST',
          body: JSON.stringify({ skus: [p.sku], channel: 'web' }),
        }),
        timed(`${s.inventory!.url}/rpc/inventory.availability`, {
          method: 'POST',
          body: JSON.stringify({ skus: [p.sku] }),
        }),
      ]);
      direct.push(performance.now() - t);
    }
    const overhead = p50(via.slice(100)) - p50(direct.slice(100));
    process.stdout.write(
      `gateway overhead (product page, capacity off): p50 via gateway ${p50(via.slice(100)).toFixed(2)} ms, direct ${p50(direct.slice(100)).toFixed(2)} ms, overhead ${overhead.toFixed(2)} ms (target < 2 ms) ${overhead < 2 ? 'OK' : 'OVER'}\n`,
    );
  } finally {
    await stack.stop();
  }
}

async function hostCpu(): Promise<void> {
  const cores = cpus().length;
  let largestOk = 0;
  for (const rate of [10, 20, 40, 80]) {
    const stack = await startTestStack('headless', { capacity: {} });
    try {
      const seconds = 5;
      const inflight: Promise<unknown>[] = [];
      let n = 0;
      let errors = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (performance.now() - t0 >= seconds * 1000) {
            clearInterval(timer);
            resolve();
            return;
          }
          const p = catalog.products[n++ % catalog.products.length]!;
          inflight.push(
            request(`${stack.url}/api/products/${p.id}`).then(
              async (r) => {
                if (r.statusCode !== 200) errors++;
                await r.body.dump();
              },
              () => errors++,
            ),
          );
        }, 1000 / rate);
      });
      await Promise.all(inflight);
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const hostPct = ((c.user + c.system) / 1e6 / wall / cores) * 100;
      const gw = stack.services.gateway!.takeStats();
      process.stdout.write(
        `${rate} req/s: host CPU ${hostPct.toFixed(0)}% of ${cores} cores (this process: all 9 services + the load), gateway emulated CPU ${gw.cpuUtilization.toFixed(0)}% of ${gw.vcpu} vCPU, errors ${errors}/${n}\n`,
      );
      if (hostPct < 70) largestOk = rate;
    } finally {
      await stack.stop();
    }
  }
  process.stdout.write(
    `largest rate with host CPU under 70%: ${largestOk} req/s (one replica per service, in one process)\n`,
  );
}

await gatewayOverhead();
await hostCpu();
