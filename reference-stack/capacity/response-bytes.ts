/**
 * Bytes of each public answer's body as this stack serves it, MEASURED by `measure-demand-table.ts`
 * (the mean over its n=300 inputs: the same pages and requests it measures the CPU of) and committed,
 * like the demand table, so that what the edge sends out is a measured number in the simulator
 * (its CloudFront-named `BytesDownloaded`) and in compare's CloudFront bill. Headers and compression
 * are not counted: CloudFront bills the bytes it sends, and a compressed page is smaller (the local
 * edge does not compress; docs/sources.md "Edge").
 *
 * Re-measure with `node --import tsx reference-stack/capacity/measure-demand-table.ts` (`pageBytes`,
 * `apiBytes`); test/page-bytes.test.ts holds the served pages to these within 30%.
 */
import type { ApiOperationId, PageOperationId } from '../topology.ts';

/** Measured body bytes per page and per API operation, with when and how. */
export interface ResponseBytes {
  measuredAt: string;
  source: string;
  /** HTML bytes per page (a category page of 24 products, a product page, a cart of one line). */
  pages: Record<PageOperationId, number>;
  /** JSON bytes per API operation (a listing of 20, a cart of one or two lines, GraphQL's product view). */
  api: Record<ApiOperationId, number>;
}

/** The committed measurement (2026-12-03, the default catalog; identical in 4 passes). */
export const RESPONSE_BYTES: ResponseBytes = {
  measuredAt: '2026-12-03T00:30:00Z',
  source:
    'node --import tsx reference-stack/capacity/measure-demand-table.ts (Node v20.20.2, n=300, mean UTF-8 bytes of the body)',
  pages: { getHomePage: 44622, getCategoryPage: 55541, getProductPage: 17270, getCartPage: 9108 },
  api: {
    listCategories: 1432,
    listProducts: 4290,
    getProduct: 408,
    search: 4433,
    listDeals: 2178,
    createCart: 88,
    getCart: 166,
    addCartItem: 242,
    removeCartItem: 166,
    getOrder: 226,
    listCustomerOrders: 660,
    reorder: 166,
    listStores: 364,
    getStoreInventory: 57,
    getHealth: 53,
    checkout: 88,
    graphql: 129,
  },
};
