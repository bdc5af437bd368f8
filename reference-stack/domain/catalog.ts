/**
 * Catalog: products and categories from the seeded catalog generator (scenarios/catalog.ts), so the
 * stack and the profiles' data pools agree on every id without a shared fixture. Read-only at run
 * time; attributes differ by product type (apparel has size and colour, electronics voltage...).
 */
import type { AttributeValue } from '../../scenarios/catalog.ts';
import { charge, type DomainContext, migrateShared, seedOnce, shardedKey } from './context.ts';

/** The catalog part of a product summary (pricing adds the price). */
export interface ProductBase {
  id: string;
  sku: string;
  name: string;
  category: string;
  type: string;
  brand: string;
}

/** A product page's catalog data. */
export interface ProductDetail extends ProductBase {
  description: string;
  attributes: Record<string, AttributeValue>;
}

/** The catalog module's methods (`catalog.*` in topology.ts). */
export interface CatalogModule {
  listCategories(args: Record<string, never>): Promise<{
    items: { id: string; name: string; productCount: number }[];
  }>;
  listProducts(args: { category?: string; page: number; limit: number }): Promise<{
    items: ProductBase[];
    total: number;
  }>;
  getProduct(args: { id: string }): Promise<ProductDetail | null>;
  resolveSkus(args: { skus: string[] }): Promise<ProductBase[]>;
}

const BASE_COLUMNS = 'id, sku, name, category, type, brand';

/** Creates the tables and seeds them from the catalog generator (once per database). */
export function migrateCatalog(ctx: DomainContext): void {
  migrateShared(ctx.db);
  ctx.db.exec(`
    CREATE TABLE IF NOT EXISTS products (
      id TEXT PRIMARY KEY, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL, brand TEXT NOT NULL,
      category TEXT NOT NULL, type TEXT NOT NULL, description TEXT NOT NULL, attributes TEXT NOT NULL,
      popularity_rank INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS products_category ON products(category, popularity_rank);
    CREATE INDEX IF NOT EXISTS products_rank ON products(popularity_rank);
    CREATE TABLE IF NOT EXISTS categories (id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, product_count INTEGER NOT NULL);
  `);
  seedOnce(ctx.db, 'catalog', () => {
    const c = ctx.catalog();
    const ins = ctx.db.prepare(
      'INSERT INTO products (id, sku, name, brand, category, type, description, attributes, popularity_rank) VALUES (?,?,?,?,?,?,?,?,?)',
    );
    for (const p of c.products) {
      ins.run(
        p.id,
        p.sku,
        p.name,
        p.brand,
        p.category,
        p.type,
        p.description,
        JSON.stringify(p.attributes),
        p.popularityRank,
      );
    }
    const cat = ctx.db.prepare('INSERT INTO categories (id, name, type, product_count) VALUES (?,?,?,?)');
    for (const k of c.categories) cat.run(k.id, k.name, k.type, k.productCount);
  });
}

/** The catalog module over a context. */
export function createCatalogModule(ctx: DomainContext): CatalogModule {
  const db = ctx.db;
  const cats = db.prepare('SELECT id, name, product_count AS productCount FROM categories ORDER BY id');
  const listAll = db.prepare(
    `SELECT ${BASE_COLUMNS} FROM products ORDER BY popularity_rank LIMIT ? OFFSET ?`,
  );
  const listCat = db.prepare(
    `SELECT ${BASE_COLUMNS} FROM products WHERE category = ? ORDER BY popularity_rank LIMIT ? OFFSET ?`,
  );
  const countAll = db.prepare('SELECT COUNT(*) AS n FROM products');
  const countCat = db.prepare('SELECT COUNT(*) AS n FROM products WHERE category = ?');
  const byId = db.prepare(`SELECT ${BASE_COLUMNS}, description, attributes FROM products WHERE id = ?`);
  const bySku = db.prepare(`SELECT ${BASE_COLUMNS} FROM products WHERE sku = ?`);
  return {
    async listCategories() {
      charge(ctx, 'categories', shardedKey('all'), 'read');
      return { items: cats.all() as { id: string; name: string; productCount: number }[] };
    },
    async listProducts({ category, page, limit }) {
      charge(ctx, 'products', `${category ?? 'all'}#${page}`, 'read', Math.max(1, Math.ceil(limit / 10)));
      const offset = (page - 1) * limit;
      const items = (
        category ? listCat.all(category, limit, offset) : listAll.all(limit, offset)
      ) as ProductBase[];
      const total = ((category ? countCat.get(category) : countAll.get()) as { n: number }).n;
      return { items, total };
    },
    async getProduct({ id }) {
      charge(ctx, 'products', id, 'read');
      const row = byId.get(id) as (ProductBase & { description: string; attributes: string }) | undefined;
      if (!row) return null;
      return { ...row, attributes: JSON.parse(row.attributes) as Record<string, AttributeValue> };
    },
    async resolveSkus({ skus }) {
      const out: ProductBase[] = [];
      for (const sku of skus) {
        charge(ctx, 'products', sku, 'read');
        const row = bySku.get(sku) as ProductBase | undefined;
        if (row) out.push(row);
      }
      return out;
    },
  };
}
