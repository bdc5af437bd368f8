/**
 * Search: full-text (SQLite FTS5 over name, brand, category and description) with facets (category,
 * brand, type), ranked by text relevance and then popularity. Its own copy of the product data (in
 * the headless topology it is its own service with its own store). It consumes OrderPlaced (units
 * sold per SKU, a popularity signal) and InventoryReserved/Released (units held per SKU, the
 * availability facet) — each exactly once.
 */

import type { ProductBase } from './catalog.ts';
import {
  charge,
  consumeOnce,
  type DomainContext,
  type DomainEvent,
  migrateShared,
  seedOnce,
} from './context.ts';

/** A facet value and how many matches carry it. */
export interface FacetCount {
  value: string;
  count: number;
}

/** Search results before pricing. */
export interface SearchResult {
  items: ProductBase[];
  total: number;
  facets: { category: FacetCount[]; brand: FacetCount[]; type: FacetCount[] };
}

/** The search module's methods. */
export interface SearchModule {
  search(args: { q: string; category?: string; limit: number }): Promise<SearchResult>;
  /** Applies a delivered event (idempotent); false for a duplicate. */
  consume(event: DomainEvent): Promise<boolean>;
}

/** Creates the index and seeds it from the catalog generator (once per database). */
export function migrateSearch(ctx: DomainContext): void {
  migrateShared(ctx.db);
  ctx.db.exec(`
    CREATE TABLE IF NOT EXISTS search_docs (
      rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, sku TEXT NOT NULL, name TEXT NOT NULL,
      category TEXT NOT NULL, type TEXT NOT NULL, brand TEXT NOT NULL, popularity_rank INTEGER NOT NULL);
    CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(name, brand, category, description, content='');
    CREATE TABLE IF NOT EXISTS search_sold (sku TEXT PRIMARY KEY, units INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS search_held (sku TEXT PRIMARY KEY, units INTEGER NOT NULL);
  `);
  seedOnce(ctx.db, 'search', () => {
    const c = ctx.catalog();
    const doc = ctx.db.prepare(
      'INSERT INTO search_docs (rowid, id, sku, name, category, type, brand, popularity_rank) VALUES (?,?,?,?,?,?,?,?)',
    );
    const fts = ctx.db.prepare(
      'INSERT INTO search_fts (rowid, name, brand, category, description) VALUES (?,?,?,?,?)',
    );
    c.products.forEach((p, i) => {
      doc.run(i + 1, p.id, p.sku, p.name, p.category, p.type, p.brand, p.popularityRank);
      fts.run(i + 1, p.name, p.brand, p.category.replaceAll('-', ' '), p.description);
    });
  });
}

/** Turns user text into a safe FTS5 query: each word a quoted prefix term, all required. */
export function ftsQuery(q: string): string | null {
  const words = q
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 0)
    .slice(0, 8);
  if (words.length === 0) return null;
  return words.map((w) => `"${w}"*`).join(' ');
}

/** The search module over a context. */
export function createSearchModule(ctx: DomainContext): SearchModule {
  const db = ctx.db;
  const matchSql = `SELECT d.id, d.sku, d.name, d.category, d.type, d.brand FROM search_fts f JOIN search_docs d ON d.rowid = f.rowid
    WHERE search_fts MATCH ? AND (? IS NULL OR d.category = ?)`;
  const top = db.prepare(`${matchSql} ORDER BY f.rank, d.popularity_rank LIMIT ?`);
  const facetSql = (col: string) =>
    db.prepare(`SELECT d.${col} AS value, COUNT(*) AS count FROM search_fts f JOIN search_docs d ON d.rowid = f.rowid
      WHERE search_fts MATCH ? AND (? IS NULL OR d.category = ?) GROUP BY d.${col} ORDER BY count DESC, value LIMIT 20`);
  const facetCategory = facetSql('category');
  const facetBrand = facetSql('brand');
  const facetType = facetSql('type');
  const addSold = db.prepare(
    'INSERT INTO search_sold (sku, units) VALUES (?, ?) ON CONFLICT(sku) DO UPDATE SET units = units + excluded.units',
  );
  const addHeld = db.prepare(
    'INSERT INTO search_held (sku, units) VALUES (?, ?) ON CONFLICT(sku) DO UPDATE SET units = units + excluded.units',
  );
  return {
    async search({ q, category, limit }) {
      charge(ctx, 'search_index', `q:${q.toLowerCase()}`, 'read', 1 + Math.ceil(limit / 10));
      const fq = ftsQuery(q);
      if (!fq) return { items: [], total: 0, facets: { category: [], brand: [], type: [] } };
      const cat = category ?? null;
      const items = top.all(fq, cat, cat, limit) as ProductBase[];
      const category_ = facetCategory.all(fq, cat, cat) as FacetCount[];
      const total = category_.reduce((s, f) => s + f.count, 0);
      return {
        items,
        total,
        facets: {
          category: category_,
          brand: facetBrand.all(fq, cat, cat) as FacetCount[],
          type: facetType.all(fq, cat, cat) as FacetCount[],
        },
      };
    },
    async consume(event) {
      return consumeOnce(ctx, 'search', event, () => {
        const items = (event.payload.items ?? []) as { sku: string; quantity: number }[];
        const sign = event.type === 'InventoryReleased' ? -1 : 1;
        for (const it of items) {
          if (event.type === 'OrderPlaced') addSold.run(it.sku, it.quantity);
          else addHeld.run(it.sku, sign * it.quantity);
        }
      });
    },
  };
}
