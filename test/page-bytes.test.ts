import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGE_BYTES } from '../simulation/sizing/compare-edge.ts';
import { startTestStack, type TestStack } from './stack-helper.ts';

/** The page sizes compare's CloudFront bill assumes are the storefront's, served over real HTTP. */
describe("the storefront's pages as compare's CloudFront bill counts them", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack('monolith');
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  });
  const get = async (path: string) => (await (await request(`${stack.pagesUrl}${path}`)).body.text()).length;

  it('serves pages within 30% of PAGE_BYTES (a template change that moves them fails here)', async () => {
    const categories = (await (await request(`${stack.url}/api/categories`)).body.json()) as {
      items: { id: string }[];
    };
    const products = (await (await request(`${stack.url}/api/products?limit=5`)).body.json()) as {
      items: { id: string }[];
    };
    const bytes = {
      getHomePage: await get('/'),
      getProductPage: await get(`/p/${products.items[0]!.id}`),
      getCartPage: await get('/cart'),
    };
    for (const [page, n] of Object.entries(bytes)) {
      const assumed = PAGE_BYTES[page as keyof typeof PAGE_BYTES];
      expect([page, Math.abs(n - assumed) / assumed < 0.3]).toEqual([page, true]);
    }
    // A category page holds up to 20 products: the assumed size is a full page's.
    const category = await get(`/c/${categories.items[0]!.id}`);
    expect(category).toBeLessThan(PAGE_BYTES.getCategoryPage * 1.3);
    expect(category).toBeGreaterThan(PAGE_BYTES.getCategoryPage * 0.5);
  });
});
