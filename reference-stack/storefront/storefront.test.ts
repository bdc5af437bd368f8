import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../../test/stack-helper.ts';
import type { Arch } from '../topology.ts';
import { esc, inlineJson } from './html.ts';
import { matchPage, PAGE_CACHE_CONTROL, readCookie } from './pages.ts';

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
    expect(r.text).toMatch(/<ul class="deals">[\s\S]*<a href="\/p\/p-\d{6}">/);
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
    expect(p.text).toMatch(/<span class="price">USD \d+\.\d\d<\/span>/);
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
    expect(page.text).toMatch(new RegExp(`${sku}</a></td><td>2</td>`));
    // Another session's cookie naming no cart is an empty cart, not an error.
    const other = await get(`${stack.pagesUrl}/cart`, { cookie: 'peakday_cart=c-unknown' });
    expect(other.text).toContain('Your cart is empty');
  });
});
