import { describe, expect, it } from 'vitest';
import {
  CATALOG_DEFAULTS,
  createCatalog,
  PRODUCT_TYPES,
  pickByPopularity,
  zipDistanceKm,
} from './catalog.ts';

const catalog = createCatalog();

describe('the seeded catalog', () => {
  it('is identical for the same seed and different for another seed', () => {
    const again = createCatalog({ seed: 1 });
    expect(JSON.stringify(again.products)).toBe(JSON.stringify(catalog.products));
    expect(again.hotSkus).toEqual(catalog.hotSkus);
    expect(again.stores).toEqual(catalog.stores);
    const other = createCatalog({ seed: 2 });
    expect(other.hotSkus).not.toEqual(catalog.hotSkus);
    expect(
      other.products[0]?.name === catalog.products[0]?.name &&
        other.products[1]?.name === catalog.products[1]?.name &&
        other.products[2]?.name === catalog.products[2]?.name,
    ).toBe(false);
  });

  it('has 10,000 products by default with ids and SKUs in the documented form', () => {
    expect(catalog.products).toHaveLength(CATALOG_DEFAULTS.products);
    expect(catalog.productIds[0]).toBe('p-000001');
    expect(catalog.skus[122]).toBe('SKU-000123');
    expect(catalog.storeIds[0]).toBe('store-001');
    expect(catalog.customerIds[0]).toBe('c-00001');
    expect(new Set(catalog.skus).size).toBe(catalog.products.length);
    expect(catalog.bySku.get('SKU-000123')?.id).toBe('p-000123');
  });

  it('honours a custom product count', () => {
    const small = createCatalog({ products: 37 });
    expect(small.products).toHaveLength(37);
    expect(small.categories.reduce((a, c) => a + c.productCount, 0)).toBe(37);
  });

  it.each([
    ['apparel', ['size', 'colour']],
    ['electronics', ['voltage', 'compatibility']],
    ['grocery', ['weightGrams', 'organic']],
    ['home', ['material', 'dimensionsCm']],
    ['toys', ['ageRange', 'pieces']],
    ['beauty', ['volumeMl', 'skinType']],
    ['sports', ['weightKg', 'sport']],
    ['books', ['format', 'pages']],
  ])('gives %s products their own attributes %j', (type, keys) => {
    const ofType = catalog.products.filter((p) => p.type === type);
    expect(ofType.length).toBeGreaterThan(100);
    for (const p of ofType) for (const k of keys) expect(p.attributes).toHaveProperty(k);
    const others = catalog.products.filter((p) => p.type !== type);
    const unique = keys.filter((k) => !others.some((p) => k in p.attributes));
    // At least one attribute of each type is specific to it (e.g. size for apparel, voltage for electronics).
    expect(unique.length).toBeGreaterThan(0);
  });

  it('covers every product type and counts products per category exactly', () => {
    expect(new Set(catalog.products.map((p) => p.type))).toEqual(new Set(PRODUCT_TYPES));
    for (const c of catalog.categories) {
      expect(c.productCount).toBe(catalog.products.filter((p) => p.category === c.id).length);
      expect(c.productCount).toBeGreaterThan(0);
    }
    expect(catalog.categories.reduce((a, c) => a + c.productCount, 0)).toBe(catalog.products.length);
  });

  it('has positive prices with cents and stock for every product', () => {
    for (const p of catalog.products) {
      expect(p.price).toBeGreaterThan(0);
      expect(Math.abs(p.price * 100 - Math.round(p.price * 100))).toBeLessThan(1e-6);
      expect(p.stock).toBeGreaterThanOrEqual(20);
    }
  });

  it('ranks popularity Zipf-like with the hot SKUs as the top ranks', () => {
    expect(catalog.hotSkus).toHaveLength(CATALOG_DEFAULTS.hotCount);
    const ranks = catalog.hotSkus.map((s) => catalog.bySku.get(s)?.popularityRank);
    expect(ranks).toEqual(Array.from({ length: CATALOG_DEFAULTS.hotCount }, (_, i) => i + 1));
    const top = catalog.bySku.get(catalog.hotSkus[0] as string);
    const tenth = catalog.bySku.get(catalog.hotSkus[9] as string);
    expect((top?.popularity ?? 0) / (tenth?.popularity ?? 1)).toBeCloseTo(10, 6);
    // Hot products are not simply the first ids.
    expect(catalog.hotSkus.slice(0, 5)).not.toEqual(catalog.skus.slice(0, 5));
  });

  it('picks products in proportion to popularity', () => {
    const counts = new Map<string, number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const p = pickByPopularity(catalog, (i + 0.5) / n);
      counts.set(p.sku, (counts.get(p.sku) ?? 0) + 1);
    }
    const first = counts.get(catalog.hotSkus[0] as string) ?? 0;
    const second = counts.get(catalog.hotSkus[1] as string) ?? 0;
    // Harmonic number H(10000) ≈ 9.79: the top product takes ~10.2% of picks, the second half of that.
    expect(first / n).toBeCloseTo(1 / 9.7876, 2);
    expect(first / second).toBeCloseTo(2, 1);
    expect(pickByPopularity(catalog, 0.999999999).sku).toBeDefined();
  });

  it('derives search terms that match product names or brands', () => {
    expect(catalog.searchTerms.length).toBeGreaterThan(50);
    for (const term of catalog.searchTerms) {
      const hit = catalog.products.some(
        (p) =>
          p.name.toLowerCase().includes(term) ||
          p.type === term ||
          p.category.includes(term.split(' ')[0] ?? term) ||
          p.brand.toLowerCase() === term,
      );
      const isCategoryName = catalog.categories.some((c) => c.name.toLowerCase() === term);
      expect(hit || isCategoryName).toBe(true);
    }
  });

  it('gives stores five-digit zips and customers a home store that exists', () => {
    expect(catalog.stores).toHaveLength(CATALOG_DEFAULTS.stores);
    for (const s of catalog.stores) expect(s.zip).toMatch(/^\d{5}$/);
    const ids = new Set(catalog.storeIds);
    for (const c of catalog.customers) {
      expect(ids.has(c.homeStoreId)).toBe(true);
      expect(c.zip).toMatch(/^\d{5}$/);
    }
  });

  it.each([
    ['the same zip', '98101', '98101', 0, 0],
    ['zips in the same area', '98101', '98109', 0.1, 30],
    ['zips across the country', '98101', '10001', 300, 2500],
  ])('measures %s as near or far', (_name, a, b, lo, hi) => {
    const d = zipDistanceKm(a, b);
    expect(d).toBeGreaterThanOrEqual(lo);
    expect(d).toBeLessThanOrEqual(hi);
  });
});
