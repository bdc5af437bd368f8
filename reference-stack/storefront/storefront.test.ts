import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/stack-helper.ts';
import type { Arch } from '../topology.ts';
import { cartPage, categoryPage, esc, inlineJson, type NavCategory, productPage } from './html.ts';
import {
  CATEGORY_PAGE_SIZE,
  createStorefront,
  matchPage,
  PAGE_CACHE_CONTROL,
  readCookie,
  type StorefrontData,
} from './pages.ts';

const EVIL = `</script><script>alert("x")</script><img src=x onerror='y'>&amp;`;
const NAV: NavCategory[] = [
  { id: 'apparel-tops', name: 'Tops', productCount: 3 },
  { id: 'apparel-shoes', name: `Shoes ${EVIL}`, productCount: 1 },
  { id: 'books-fiction', name: 'Fiction', productCount: 2 },
];
const PRICE = { amount: 80, currency: 'USD', listPrice: 100, dealId: 'deal-001' };

/** Every `<script ...>` start tag of a document: the page's own, and only those. */
const scriptTags = (html: string) => html.match(/<script[^>]*>/g) ?? [];
/** The JSON of every `<script type=...json>` element, parsed (throws if one was broken out of). */
const jsonScripts = (html: string) =>
  [...html.matchAll(/<script type="application\/(?:ld\+)?json"[^>]*>([\s\S]*?)<\/script>/g)].map((m) =>
    JSON.parse(m[1] as string),
  );

describe('storefront templates', () => {
  it('escapes markup in text and attributes', () => {
    expect(esc(`<script>alert("x")</script> & 'y'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;',
    );
  });

  it('keeps inline JSON from closing its script element', () => {
    expect(inlineJson({ name: '</script><b>' })).toBe('{"name":"\\u003c/script>\\u003cb>"}');
  });

  it.each([
    ['GET', '/', 'getHomePage'],
    ['GET', '/c/toys', 'getCategoryPage'],
    ['GET', '/p/p-000001', 'getProductPage'],
    ['GET', '/cart', 'getCartPage'],
    ['POST', '/cart', null],
    ['GET', '/api/products', null],
  ])('matches %s %s to %s', (method, path, page) => {
    expect(matchPage(method, path)?.page ?? null).toBe(page);
  });

  it('escapes every field of the BFF in markup, attributes, JSON-LD and the hydration state', () => {
    const p = {
      id: 'p-000001',
      sku: `SKU-${EVIL}`,
      name: `Name ${EVIL}`,
      brand: `Brand ${EVIL}`,
      category: 'apparel-shoes',
      type: 'apparel',
      description: `Desc ${EVIL}`,
      attributes: { size: ['S', `M${EVIL}`], colour: EVIL },
      price: PRICE,
      inventory: { available: 3 },
    };
    const docs = [
      productPage(p, NAV),
      categoryPage('apparel-shoes', { items: [p], page: 1, limit: 24, total: 1 }, NAV),
      cartPage(
        {
          id: 'c-1',
          items: [{ sku: p.sku, productId: p.id, quantity: 1, unitPrice: 80 }],
          total: 80,
          currency: 'USD',
        },
        NAV,
      ),
    ];
    for (const html of docs) {
      // No script or handler from the data: the page's own script tags only (JSON-LD, state, module).
      expect(
        scriptTags(html).every((t) =>
          /^<script type="(application\/ld\+json|application\/json|module)"/.test(t),
        ),
      ).toBe(true);
      expect(html).not.toContain('<img src=x');
      // No tag gained an attribute from the data: with the quoted values removed, no handler is left.
      const attrs = (html.match(/<[a-z][^>]*>/gi) ?? []).map((t) => t.replace(/"[^"]*"/g, '""'));
      expect(attrs.filter((t) => /\son[a-z]+=/i.test(t))).toEqual([]);
      // The inline JSON still parses and holds the original text.
      const json = jsonScripts(html);
      expect(json.length).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(json)).toContain(JSON.stringify(EVIL).slice(1, -1));
    }
    const product = jsonScripts(docs[0]!);
    expect(product.find((j) => j['@type'] === 'Product')).toMatchObject({
      name: p.name,
      sku: p.sku,
      offers: {
        price: '80.00',
        priceCurrency: 'USD',
        availability: 'https://schema.org/LimitedAvailability',
      },
    });
    expect(product.find((j) => j.page === 'product')?.product).toEqual(p);
  });

  it('renders a product page: gallery, variants from list attributes, stock, quantity, specs', () => {
    const html = productPage(
      {
        id: 'p-000002',
        sku: 'SKU-000002',
        name: 'Relaxed Hoodie',
        brand: 'Lumen',
        category: 'apparel-tops',
        type: 'apparel',
        description: 'A hoodie.',
        attributes: { size: ['S', 'M', 'L'], colour: 'navy', warrantyMonths: 12 },
        price: { ...PRICE, amount: 100, dealId: null },
        inventory: { available: 0 },
      },
      NAV,
    );
    expect(html.match(/<li class="gallery-item/g)).toHaveLength(4);
    expect(html.match(/<input type="radio" name="size"/g)).toHaveLength(3);
    expect(html).toContain('<tr><th scope="row">Colour</th><td>navy</td></tr>');
    expect(html).toContain('<tr><th scope="row">Warranty months</th><td>12</td></tr>');
    expect(html).toMatch(/<button type="submit" disabled>Sold out<\/button>/);
    expect(html).not.toContain('list-price');
    expect(html).toContain(
      '<nav class="breadcrumbs" aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li><li><a href="/c/apparel-tops">Tops</a></li>',
    );
  });

  it('caches the navigation: one listCategories for many pages, refreshed after NAV_REFRESH_MS, kept when a refresh fails', async () => {
    // A constructed BFF: the cart page needs only the categories (no cookie, no cart call), and the
    // categories fail on demand, which a running stack cannot be made to do for one call.
    let calls = 0;
    let fail = false;
    let now = 0;
    const data = {
      listCategories: async () => {
        calls++;
        if (fail) throw new Error('BFF down');
        return { items: [{ id: `dept-c${calls}`, name: `Category ${calls}`, productCount: 1 }] };
      },
    } as unknown as StorefrontData;
    const sf = createStorefront(data, { now: () => now, navRefreshMs: 1000 });
    const cart = async () =>
      (await sf.render({ page: 'getCartPage', params: {} }, { query: new URLSearchParams(), headers: {} }))
        .text;
    expect(await cart()).toContain('href="/c/dept-c1"');
    await Promise.all([cart(), cart(), cart()]);
    expect(calls).toBe(1);
    now = 1500; // stale: served at once, refreshed behind
    expect(await cart()).toContain('dept-c1');
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(2);
    expect(await cart()).toContain('dept-c2');
    fail = true;
    now = 3000;
    await cart();
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(3);
    expect(await cart()).toContain('dept-c2');
  });

  it('reads the session cookie among others', () => {
    expect(readCookie('a=1; peakday_cart=c-42 ; b=2', 'peakday_cart')).toBe('c-42');
    expect(readCookie(undefined, 'peakday_cart')).toBeUndefined();
  });
});

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await request(url, { headers });
  return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
}

describe.each<Arch>(['headless', 'monolith'])('the storefront of the %s topology, over real HTTP', (arch) => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack(arch);
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('renders the home page with the categories and deals, cacheable at the edge', async () => {
    const r = await get(`${stack.pagesUrl}/`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/html/);
    expect(r.headers['cache-control']).toBe(PAGE_CACHE_CONTROL.getHomePage);
    expect(r.text).toMatch(/<ul class="categories">[\s\S]*<a href="\/c\/[a-z0-9-]+">/);
    expect(r.text).toMatch(/<ul class="deal-tiles">[\s\S]*<a href="\/p\/p-\d{6}">/);
  });

  it('renders a category page and a product page with prices, tagged with their SKUs', async () => {
    const categories = (await (await request(`${stack.url}/api/categories`)).body.json()) as {
      items: { id: string }[];
    };
    const category = categories.items.find((c) => c.id)!.id;
    const c = await get(`${stack.pagesUrl}/c/${category}`);
    expect(c.status).toBe(200);
    expect(c.headers['cache-tag']).toMatch(/^sku:SKU-\d{6}(,sku:SKU-\d{6})*$/);
    const productId = /href="\/p\/(p-\d{6})"/.exec(c.text)?.[1];
    expect(productId).toBeDefined();
    const p = await get(`${stack.pagesUrl}/p/${productId}`);
    expect(p.status).toBe(200);
    expect(p.headers['cache-control']).toBe(PAGE_CACHE_CONTROL.getProductPage);
    const sku = /data-sku="(SKU-\d{6})"/.exec(p.text)?.[1];
    expect(p.headers['cache-tag']).toBe(`sku:${sku}`);
    expect(p.text).toMatch(/<span class="price" data-amount="\d+\.\d\d">USD \d+\.\d\d<\/span>/);
    // A category page: a page of tiles (24, or the whole category when smaller), as many as the cache
    // tag names SKUs, its state and its ItemList.
    const state = jsonScripts(c.text).find((j) => j.page === 'category');
    const n = Math.min(CATEGORY_PAGE_SIZE, state.pagination.total);
    expect(n).toBeGreaterThan(0);
    expect(c.text.match(/<li class="tile" /g) ?? []).toHaveLength(n);
    expect(c.headers['cache-tag']?.toString().split(',')).toHaveLength(n);
    expect(state.items).toHaveLength(n);
    expect(jsonScripts(c.text).find((j) => j['@type'] === 'ItemList').itemListElement).toHaveLength(n);
  });

  it('answers 404 pages for unknown products and categories, never cached', async () => {
    for (const path of ['/p/p-999999999', '/c/no-such-category', '/p/not-an-id']) {
      const r = await get(`${stack.pagesUrl}${path}`);
      expect([path, r.status, r.headers['cache-control']]).toEqual([path, 404, 'no-store']);
    }
  });

  it("shows the session's cart: the cart made through the API, found by the session cookie", async () => {
    const empty = await get(`${stack.pagesUrl}/cart`);
    expect(empty.status).toBe(200);
    expect(empty.headers['cache-control']).toBe('private, no-store');
    expect(empty.text).toContain('Your cart is empty');
    const cart = (await (
      await request(`${stack.url}/api/carts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'web' }),
      })
    ).body.json()) as { id: string };
    const products = (await (await request(`${stack.url}/api/products?limit=5`)).body.json()) as {
      items: { sku: string }[];
    };
    const sku = products.items[0]!.sku;
    const add = await request(`${stack.url}/api/carts/${cart.id}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku, quantity: 2 }),
    });
    expect(add.statusCode).toBe(200);
    await add.body.dump();
    const page = await get(`${stack.pagesUrl}/cart`, { cookie: `theme=dark; peakday_cart=${cart.id}` });
    expect(page.status).toBe(200);
    expect(page.text).toContain(`data-cart-id="${cart.id}"`);
    expect(page.text).toMatch(new RegExp(`${sku}</a></td>\n<td class="line-qty">2</td>`));
    expect(page.text).toContain('<span class="cart-count" data-cart-count>2</span>');
    // Another session's cookie naming no cart is an empty cart, not an error.
    const other = await get(`${stack.pagesUrl}/cart`, { cookie: 'peakday_cart=c-unknown' });
    expect(other.text).toContain('Your cart is empty');
  });

  it('links only to pages and API routes that answer: every site link of the home, a category and a product page', async () => {
    const home = await get(`${stack.pagesUrl}/`);
    const category = /href="(\/c\/[a-z0-9-]+)"/.exec(home.text)![1]!;
    const c = await get(`${stack.pagesUrl}${category}`);
    const product = /href="(\/p\/p-\d{6})"/.exec(c.text)![1]!;
    const p = await get(`${stack.pagesUrl}${product}`);
    const links = new Set<string>();
    for (const doc of [home.text, c.text, p.text])
      for (const m of doc.matchAll(/<a [^>]*href="([^"]+)"/g))
        links.add((m[1] as string).replace(/&amp;/g, '&'));
    expect(links.size).toBeGreaterThan(20);
    const broken: string[] = [];
    for (const href of links) {
      if (href.startsWith('#')) continue; // the skip link to #main
      const r = href.startsWith('/') ? await get(`${stack.pagesUrl}${href}`) : { status: 'not a site path' };
      if (r.status !== 200) broken.push(`${href} ${r.status}`);
    }
    expect(broken).toEqual([]);
    // Forms post to the API's routes.
    expect([...p.text.matchAll(/<form [^>]*action="([^"]+)"/g)].map((m) => m[1])).toEqual(['/api/carts']);
  }, 60_000);

  it('keeps the session out of every cacheable page: the same bytes with or without the cart cookie', async () => {
    const products = (await (await request(`${stack.url}/api/products?limit=1`)).body.json()) as {
      items: { id: string; category: string }[];
    };
    for (const path of ['/', `/c/${products.items[0]!.category}`, `/p/${products.items[0]!.id}`]) {
      const anon = await get(`${stack.pagesUrl}${path}`);
      const session = await get(`${stack.pagesUrl}${path}`, { cookie: 'peakday_cart=c-session-xyz' });
      expect([path, session.text === anon.text, session.text.includes('c-session-xyz')]).toEqual([
        path,
        true,
        false,
      ]);
    }
  });
});
