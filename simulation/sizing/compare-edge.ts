/**
 * CloudFront's part of a compared configuration's bill: the distribution takes the stack's public
 * port, so it serves every request — the storefront's pages (home, category, product, cart; cached,
 * hit or miss) and the API and GraphQL calls it forwards to the origin uncached — and charges each one
 * (CloudFront bills the requests it serves), the bytes it sends out and the invalidation paths the
 * deals' price changes cost (docs/reports.md "Comparing topologies"). The same edge stands in front of
 * both topologies and the same requests are made, so the bill is the same in both for one plan; it is
 * in the comparison so that its cost per configuration is the whole bill the topology choice sits in,
 * and an architect sees how big the edge is beside the compute. Pure.
 */
import { RESPONSE_BYTES } from '../../reference-stack/capacity/response-bytes.ts';
import { isPageOperation, type PageOperationId } from '../../reference-stack/topology.ts';
import type { Plan } from '../../scenarios/plan.ts';
import { computeScenarioDemands } from '../demand.ts';
import { computeEdgeCost, DEAL_PRICE_CHANGES_PER_SECOND, type EdgeUsage } from '../edge-cache.ts';
import type { PricingTable } from '../pricing/pricing-table.ts';
import type { SimulationResult } from '../simulate.ts';

/**
 * Bytes of each page's HTML body as the storefront serves it: measured with the demand table
 * (reference-stack/capacity/response-bytes.ts; docs/sources.md "Edge"). Headers are not counted.
 * test/page-bytes.test.ts holds the served pages to these within 30%, so a template change that moves
 * them fails there.
 */
export const PAGE_BYTES: Record<PageOperationId, number> = RESPONSE_BYTES.pages;

/**
 * Invalidation paths one price change costs on CloudFront (assumption): the product page of the SKU
 * and the category page that lists it, the pages the local edge purges by the storefront's
 * `Cache-Tag` (CloudFront invalidates by path, not by tag).
 */
export const INVALIDATION_PATHS_PER_PRICE_CHANGE = 2;

/** CloudFront's bill for one configuration's event: usage and dollars, by part. */
export interface EdgeBill extends EdgeUsage {
  /** Page requests by page. */
  pages: Partial<Record<PageOperationId, number>>;
  /** API and GraphQL requests (forwarded to the origin uncached; in `requests` too). */
  apiRequests: number;
  /** Their bytes out (in `bytesOut` too). */
  apiBytesOut: number;
  requestsUsd: number;
  transferUsd: number;
  invalidationUsd: number;
  usd: number;
}

/**
 * The edge's usage over a simulated event: every step's requests from the run's series (every request
 * the edge served: a page's hits and misses, an API or GraphQL call it forwarded), each at its measured
 * body size (`StepDemand.responseBytes`: {@link PAGE_BYTES} for a page, the API operation's or
 * GraphQL's answer otherwise), and the price changes of the deals over the event
 * (`DEAL_PRICE_CHANGES_PER_SECOND`) at {@link INVALIDATION_PATHS_PER_PRICE_CHANGE} paths each; priced
 * by `computeEdgeCost`. Pure.
 */
export function computeEdgeBill(
  plan: Plan,
  r: Pick<SimulationResult, 'series'>,
  pricing: PricingTable,
): EdgeBill {
  // Each (channel, journey, step): its page, if a page, and its answer's bytes (the same in both topologies).
  const stepOf = new Map<string, { page: PageOperationId | null; bytes: number }>();
  for (const sc of computeScenarioDemands(plan, 'headless'))
    for (const st of sc.steps)
      stepOf.set(`${st.channel}\u0000${st.journey}\u0000${st.step}`, {
        page: isPageOperation(st.operation) ? st.operation : null,
        bytes: st.responseBytes ?? 0,
      });
  const pages: Partial<Record<PageOperationId, number>> = {};
  let requests = 0;
  let bytesOut = 0;
  let pageRequests = 0;
  let apiRequests = 0;
  let apiBytesOut = 0;
  for (const rec of r.series) {
    if (rec.step === null) continue;
    const step = stepOf.get(`${rec.channel}\u0000${rec.journey}\u0000${rec.step}`);
    if (!step) continue;
    const n = rec.requests ?? 0;
    requests += n;
    bytesOut += n * step.bytes;
    if (step.page) {
      pages[step.page] = (pages[step.page] ?? 0) + n;
      pageRequests += n;
    } else {
      apiRequests += n;
      apiBytesOut += n * step.bytes;
    }
  }
  const invalidationPaths =
    pageRequests > 0
      ? Math.round(DEAL_PRICE_CHANGES_PER_SECOND * (plan.eventEnd - plan.eventStart)) *
        INVALIDATION_PATHS_PER_PRICE_CHANGE
      : 0;
  const cost = computeEdgeCost(
    { requests, bytesOut, invalidationPaths },
    {
      https10k: pricing.prices['cloudfront.https10k'].value,
      transferGb: pricing.prices['cloudfront.transferGb'].value,
      invalidationPath: pricing.prices['cloudfront.invalidationPath'].value,
    },
  );
  return { requests, bytesOut, invalidationPaths, pages, apiRequests, apiBytesOut, ...cost };
}
