/**
 * The storefront: the pages the web and social channels request (home, category, product, cart),
 * rendered server-side from the BFF's data. The same code runs in its own deployable in the headless
 * topology (the data comes from the gateway over HTTP, bff-client.ts) and inside the monolith (the
 * data comes from the in-process use cases, gateway/api.ts).
 *
 * Session state: the session cookie `peakday_cart` holds the session's cart id (set by the page's
 * script after it created the cart through the cart API, as headless storefronts keep a cart token in
 * a cookie); the cart page reads that cart. No page but the cart depends on the session, so the
 * others are cacheable at the edge: each answer carries the `Cache-Control` the edge honours
 * (`PAGE_CACHE_CONTROL`) and a `Cache-Tag` naming the SKUs whose price it shows, so a price change
 * can purge exactly the pages that show it (reference-stack/edge/).
 *
 * Navigation: every page's header shows the category tree. The storefront keeps the categories in a
 * per-process cache (`createStorefront`), refreshed from the BFF's listCategories at most once per
 * `NAV_REFRESH_MS` and whenever the home page fetched them anyway, as storefronts cache their
 * navigation; so a page's BFF calls stay `PAGE_CALLS` (topology.ts), plus one listCategories a minute
 * per task.
 */
import { DomainError, isDomainError } from '../domain/errors.ts';
import type { Api, PublicCart } from '../gateway/api.ts';
import type { PageOperationId } from '../topology.ts';
import {
  cartPage,
  categoryPage,
  errorPage,
  homePage,
  type NavCategory,
  type ProductView,
  productPage,
} from './html.ts';

/** The BFF use cases a page needs (the in-process Api in the monolith, HTTP calls in headless). */
export type StorefrontData = Pick<
  Api,
  'listCategories' | 'listDeals' | 'listProducts' | 'getProduct' | 'getCart'
>;

/** The session cookie: the session's cart id. */
export const SESSION_COOKIE = 'peakday_cart';

/**
 * Cache-Control per page. `s-maxage` is for shared caches (the edge), `max-age=0` keeps browsers
 * revalidating. The seconds are assumptions a user overrides at the edge (its behaviours' TTL bounds):
 * listings and the home page change slowly (30 s), a product page shows price and stock (10 s, and
 * purged on a price change); the cart is per session and never cached.
 */
export const PAGE_CACHE_CONTROL: Record<PageOperationId, string> = {
  getHomePage: 'public, max-age=0, s-maxage=30',
  getCategoryPage: 'public, max-age=0, s-maxage=30',
  getProductPage: 'public, max-age=0, s-maxage=10',
  getCartPage: 'private, no-store',
};

/** Products per category page (the BFF's listing limit): 24 tiles, a common grid of 4 or 6 columns. */
export const CATEGORY_PAGE_SIZE = 24;

/** How long (wall ms) the navigation's categories are served before a background refresh. */
export const NAV_REFRESH_MS = 60_000;

/** The channel whose prices pages show: web and social pay list price (domain/pricing.ts). */
const PAGE_CHANNEL = 'web';

const CATEGORY = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const PRODUCT_ID = /^p-[0-9]{6,}$/;
const CART_ID = /^[A-Za-z0-9_-]{1,100}$/;

/** A request matched to a page. */
export interface PageMatch {
  page: PageOperationId;
  params: Record<string, string>;
}

/** A rendered page. */
export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/** Matches a GET request path to a page, or null when the path is not a page (the API's, say). */
export function matchPage(method: string, path: string): PageMatch | null {
  if (method !== 'GET' && method !== 'HEAD') return null;
  if (path === '/') return { page: 'getHomePage', params: {} };
  if (path === '/cart') return { page: 'getCartPage', params: {} };
  const c = /^\/c\/([^/]+)$/.exec(path);
  if (c) return { page: 'getCategoryPage', params: { category: safeDecode(c[1] as string) } };
  const p = /^\/p\/([^/]+)$/.exec(path);
  if (p) return { page: 'getProductPage', params: { productId: safeDecode(p[1] as string) } };
  return null;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return '';
  }
}

/** Reads one cookie from a Cookie header (RFC 6265 `name=value; name2=value2`). */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  const all = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const part of all.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const html = (status: number, text: string, headers: Record<string, string>): PageResponse => ({
  status,
  text,
  headers: { 'content-type': 'text/html; charset=utf-8', ...headers },
});

const notFoundPage = (message: string): PageResponse =>
  html(404, errorPage(404, message), { 'cache-control': 'no-store' });

/** A storefront: renders matched pages; holds the navigation cache. */
export interface Storefront {
  render(
    match: PageMatch,
    request: { query: URLSearchParams; headers: Record<string, string | string[] | undefined> },
  ): Promise<PageResponse>;
}

/**
 * The navigation's categories, cached per process: the first page waits for them once (concurrent
 * pages share the fetch); later pages get the cached list at once and, when it is older than
 * `refreshMs`, start one refresh in the background. A failed fetch leaves the last list (an empty
 * navigation if there never was one: the page still renders its own content).
 */
function createNavigation(data: StorefrontData, now: () => number, refreshMs: number) {
  let items: readonly NavCategory[] | null = null;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<readonly NavCategory[]> | null = null;
  const refresh = (): Promise<readonly NavCategory[]> => {
    inFlight ??= data
      .listCategories()
      .then(
        (r) => {
          items = r.items;
          fetchedAt = now();
          return r.items;
        },
        () => items ?? [],
      )
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
  return {
    /** The categories to show; waits only when none were ever fetched. */
    get: async (): Promise<readonly NavCategory[]> => {
      if (items === null) return refresh();
      if (now() - fetchedAt >= refreshMs) void refresh();
      return items;
    },
    /** Categories the page fetched anyway (the home page) refresh the cache. */
    put: (fresh: readonly NavCategory[]) => {
      items = fresh;
      fetchedAt = now();
    },
  };
}

/** Creates a storefront over the BFF's data (`now` is the wall clock of the navigation cache). */
export function createStorefront(
  data: StorefrontData,
  options: { now?: () => number; navRefreshMs?: number } = {},
): Storefront {
  const nav = createNavigation(data, options.now ?? Date.now, options.navRefreshMs ?? NAV_REFRESH_MS);
  return { render: (match, request) => renderPage(data, nav, match, request) };
}

/** Renders a matched page; a BFF failure becomes an error page with the BFF's status. */
async function renderPage(
  data: StorefrontData,
  nav: ReturnType<typeof createNavigation>,
  match: PageMatch,
  request: { query: URLSearchParams; headers: Record<string, string | string[] | undefined> },
): Promise<PageResponse> {
  const cacheControl = PAGE_CACHE_CONTROL[match.page];
  try {
    switch (match.page) {
      case 'getHomePage': {
        const [categories, deals] = await Promise.all([data.listCategories(), data.listDeals()]);
        nav.put(categories.items);
        return html(200, homePage(categories.items, deals.items), { 'cache-control': cacheControl });
      }
      case 'getCategoryPage': {
        const category = match.params.category ?? '';
        const rawPage = request.query.get('page') ?? '1';
        const page = /^[0-9]{1,5}$/.test(rawPage) ? Number(rawPage) : 0;
        if (!CATEGORY.test(category) || page < 1) return notFoundPage(`no category page ${category}`);
        // The navigation is cached (no BFF call but once a minute): it does not wait for the listing.
        const categories = nav.get();
        const list = await data.listProducts({
          category,
          page,
          limit: CATEGORY_PAGE_SIZE,
          channel: PAGE_CHANNEL,
        });
        if (list.total === 0) return notFoundPage(`no category ${category}`);
        if (list.items.length === 0) return notFoundPage(`no page ${page} of ${category}`);
        return html(200, categoryPage(category, list, await categories), {
          'cache-control': cacheControl,
          'cache-tag': list.items.map((p) => `sku:${p.sku}`).join(','),
        });
      }
      case 'getProductPage': {
        const id = match.params.productId ?? '';
        if (!PRODUCT_ID.test(id)) return notFoundPage(`no product ${id}`);
        const categories = nav.get();
        const p = (await data.getProduct({ id, channel: PAGE_CHANNEL })) as ProductView;
        return html(200, productPage(p, await categories), {
          'cache-control': cacheControl,
          'cache-tag': `sku:${p.sku}`,
        });
      }
      case 'getCartPage': {
        const cartId = readCookie(request.headers.cookie, SESSION_COOKIE);
        let cart: PublicCart | null = null;
        const categories = nav.get();
        if (cartId && CART_ID.test(cartId)) {
          try {
            cart = await data.getCart({ cartId });
          } catch (e) {
            // A cart that no longer exists is an empty cart, not an error.
            if (!(isDomainError(e) && e.status === 404)) throw e;
          }
        }
        return html(200, cartPage(cart, await categories), { 'cache-control': cacheControl });
      }
    }
  } catch (e) {
    if (!isDomainError(e)) throw e;
    if (e.status === 404) return notFoundPage(e.message);
    const status = e.status >= 500 ? e.status : 502;
    return html(
      status,
      errorPage(status, e.status === 503 ? 'We are busy, try again in a moment.' : e.message),
      {
        'cache-control': 'no-store',
        ...(e.retryAfter !== undefined ? { 'retry-after': String(e.retryAfter) } : {}),
      },
    );
  }
  throw new DomainError(404, 'not-found', `no page ${match.page}`);
}
