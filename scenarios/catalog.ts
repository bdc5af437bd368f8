/**
 * The seeded catalog: the products, categories, stores and customers that both the reference stack
 * serves and the profiles' data pools draw from. Both sides call `createCatalog({seed, products})`
 * with the same arguments and get the same catalog, so a journey that picks `SKU-000123` from a pool
 * finds it in the stack without any shared database or fixture file.
 *
 * Pure and deterministic for a seed (randomness from core/rng.ts only). Ids are zero-padded:
 * products `p-000123`, SKUs `SKU-000123`, stores `store-001`, customers `c-00001`.
 *
 * Popularity is Zipf-like (weight 1/rank^s, s = 1 by default): a few products take most views, as
 * in real storefronts. The exponent is an assumption (overridable via `zipfExponent`); hot SKUs are
 * the top `hotCount` by popularity, the products lightning deals and drops concentrate on.
 */
import { createRng, type Rng } from '../core/rng.ts';

/** The product types; each has its own attribute set (an apparel size makes no sense on a TV). */
export type ProductType =
  | 'apparel'
  | 'electronics'
  | 'grocery'
  | 'home'
  | 'toys'
  | 'beauty'
  | 'sports'
  | 'books';

/** Attribute values: strings, numbers, booleans or lists of strings. */
export type AttributeValue = string | number | boolean | string[];

/** A product as the catalog knows it (the stack derives its API shapes from this). */
export interface CatalogProduct {
  id: string;
  sku: string;
  name: string;
  brand: string;
  category: string;
  type: ProductType;
  description: string;
  /** Base price in `currency` units, two decimals. */
  price: number;
  currency: 'USD';
  /** Units in stock at the start of the event (warehouse). */
  stock: number;
  /** Zipf weight (unnormalised); higher means more views. */
  popularity: number;
  /** 1 = the most popular product. */
  popularityRank: number;
  attributes: Record<string, AttributeValue>;
}

/** A category: a slug id, a display name, its product type and how many products it holds. */
export interface CatalogCategory {
  id: string;
  name: string;
  type: ProductType;
  productCount: number;
}

/** A physical store (for the POS channel's store lookup and store inventory). */
export interface CatalogStore {
  id: string;
  name: string;
  zip: string;
  city: string;
}

/** A known customer (for order history and reorder journeys). */
export interface CatalogCustomer {
  id: string;
  name: string;
  email: string;
  zip: string;
  homeStoreId: string;
}

/** The whole catalog plus the flat pools the profiles' data bindings draw from. */
export interface Catalog {
  seed: number;
  products: CatalogProduct[];
  categories: CatalogCategory[];
  skus: string[];
  productIds: string[];
  /** The `hotCount` most popular SKUs, most popular first. */
  hotSkus: string[];
  stores: CatalogStore[];
  storeIds: string[];
  /** Lower-case terms that match products (brands, nouns, categories); deduplicated, sorted. */
  searchTerms: string[];
  customers: CatalogCustomer[];
  customerIds: string[];
  /** Cumulative normalised popularity in product order (last = 1), for `pickByPopularity`. */
  cumulativePopularity: Float64Array;
  bySku: ReadonlyMap<string, CatalogProduct>;
  byId: ReadonlyMap<string, CatalogProduct>;
}

/** Options of `createCatalog`; every field has a default so the stack and profiles agree by default. */
export interface CatalogOptions {
  /** Default 1. */
  seed?: number;
  /** Number of products; default 10,000. */
  products?: number;
  /** Number of stores; default 50. */
  stores?: number;
  /** Number of customers; default 2,000. */
  customers?: number;
  /** Number of hot SKUs; default 20. */
  hotCount?: number;
  /** Zipf exponent of popularity; default 1 (an assumption, see the module doc). */
  zipfExponent?: number;
}

/** The defaults both the stack and the profiles use when nothing is configured. */
export const CATALOG_DEFAULTS = {
  seed: 1,
  products: 10_000,
  stores: 50,
  customers: 2_000,
  hotCount: 20,
  zipfExponent: 1,
} as const satisfies Required<CatalogOptions>;

interface TypeSpec {
  /** Category slugs and display names. */
  categories: [string, string][];
  /** Share of all products (the shares sum to 1). */
  share: number;
  brands: string[];
  adjectives: string[];
  nouns: string[];
  /** Price range in USD. */
  price: [number, number];
  attributes: (rng: Rng) => Record<string, AttributeValue>;
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)] as T;
/** Picks between min and max distinct items, in their listed order (selection sampling, one allocation). */
const pickSome = (rng: Rng, items: readonly string[], min: number, max: number): string[] => {
  let want = min + rng.int(max - min + 1);
  const out: string[] = [];
  for (let i = 0; i < items.length && want > 0; i++) {
    if (rng.next() * (items.length - i) < want) {
      out.push(items[i] as string);
      want--;
    }
  }
  return out;
};

const COLOURS = ['black', 'white', 'navy', 'red', 'green', 'grey', 'beige', 'blue', 'pink', 'olive'];

/** One entry per product type: categories, naming vocabulary, price range and attribute generator. */
const TYPE_SPECS = {
  apparel: {
    categories: [
      ['apparel-tops', 'Tops'],
      ['apparel-jeans', 'Jeans'],
      ['apparel-outerwear', 'Outerwear'],
      ['apparel-shoes', 'Shoes'],
    ],
    share: 0.18,
    brands: ['Northwind', 'Lumen', 'Fieldhouse', 'Cotton & Co', 'Urbanite', 'Ridgeline'],
    adjectives: ['Classic', 'Slim', 'Relaxed', 'Organic', 'Everyday', 'Premium', 'Vintage'],
    nouns: ['T-Shirt', 'Hoodie', 'Jeans', 'Jacket', 'Sneakers', 'Sweater', 'Parka', 'Chinos'],
    price: [9, 180],
    attributes: (rng) => ({
      size: pickSome(rng, ['XS', 'S', 'M', 'L', 'XL', 'XXL'], 3, 6),
      colour: pick(rng, COLOURS),
      material: pick(rng, ['cotton', 'wool', 'polyester', 'denim', 'linen']),
      gender: pick(rng, ['women', 'men', 'unisex']),
    }),
  },
  electronics: {
    categories: [
      ['electronics-headphones', 'Headphones'],
      ['electronics-laptops', 'Laptops'],
      ['electronics-phones', 'Phones'],
      ['electronics-tv', 'TVs'],
      ['electronics-smart-home', 'Smart Home'],
    ],
    share: 0.2,
    brands: ['Voltix', 'Sonora', 'Pixelcraft', 'Nimbus', 'Arcway', 'Helio'],
    adjectives: ['Wireless', 'Smart', 'Ultra', 'Pro', 'Mini', 'Max', 'Noise-Cancelling'],
    nouns: ['Headphones', 'Speaker', 'Laptop', 'Phone', 'TV', 'Tablet', 'Camera', 'Charger', 'Doorbell'],
    price: [15, 2400],
    attributes: (rng) => ({
      voltage: pick(rng, ['5V', '12V', '110-240V']),
      compatibility: pickSome(rng, ['iOS', 'Android', 'Windows', 'macOS', 'Alexa', 'Google Home'], 1, 4),
      warrantyMonths: pick(rng, [12, 24, 36]),
      wireless: rng.next() < 0.6,
    }),
  },
  grocery: {
    categories: [
      ['grocery-pantry', 'Pantry'],
      ['grocery-snacks', 'Snacks'],
      ['grocery-beverages', 'Beverages'],
    ],
    share: 0.15,
    brands: ['Green Valley', 'Harvest Table', 'Sunny Acres', 'Blue Ridge', 'Pantry Co'],
    adjectives: ['Organic', 'Roasted', 'Whole', 'Sparkling', 'Gluten-Free', 'Family-Size'],
    nouns: ['Coffee', 'Almonds', 'Pasta', 'Olive Oil', 'Granola', 'Tea', 'Water', 'Crackers'],
    price: [2, 45],
    attributes: (rng) => ({
      weightGrams: pick(rng, [100, 250, 500, 750, 1000, 2000]),
      organic: rng.next() < 0.4,
      dietary: pickSome(rng, ['vegan', 'gluten-free', 'kosher', 'halal', 'nut-free'], 0, 3),
      shelfLifeDays: 30 + rng.int(700),
    }),
  },
  home: {
    categories: [
      ['home-kitchen', 'Kitchen'],
      ['home-furniture', 'Furniture'],
      ['home-bedding', 'Bedding'],
    ],
    share: 0.15,
    brands: ['Hearth', 'Oakline', 'Casa Nova', 'Kitchenly', 'Dwell & Co'],
    adjectives: ['Nonstick', 'Cast-Iron', 'Modern', 'Stackable', 'Cordless', 'Queen'],
    nouns: ['Skillet', 'Blender', 'Vacuum', 'Chair', 'Lamp', 'Duvet', 'Knife Set', 'Air Fryer'],
    price: [8, 900],
    attributes: (rng) => ({
      material: pick(rng, ['steel', 'oak', 'cotton', 'ceramic', 'glass', 'plastic']),
      colour: pick(rng, COLOURS),
      dimensionsCm: `${20 + rng.int(180)}x${20 + rng.int(120)}x${5 + rng.int(100)}`,
      assemblyRequired: rng.next() < 0.3,
    }),
  },
  toys: {
    categories: [
      ['toys-building', 'Building Sets'],
      ['toys-games', 'Games & Puzzles'],
    ],
    share: 0.1,
    brands: ['Brickworks', 'Playfield', 'Tiny Titans', 'Puzzlebox'],
    adjectives: ['Deluxe', 'Junior', 'Classic', 'Interactive', 'Collector'],
    nouns: ['Building Set', 'Puzzle', 'Board Game', 'Plush', 'RC Car', 'Doll House'],
    price: [5, 250],
    attributes: (rng) => ({
      ageRange: pick(rng, ['0-2', '3-5', '6-8', '9-12', '12+']),
      pieces: pick(rng, [1, 24, 100, 500, 1000, 2500]),
      batteriesRequired: rng.next() < 0.25,
    }),
  },
  beauty: {
    categories: [
      ['beauty-skincare', 'Skincare'],
      ['beauty-fragrance', 'Fragrance'],
    ],
    share: 0.08,
    brands: ['Lune', 'Petal & Stone', 'Aurelia', 'Dermalab'],
    adjectives: ['Hydrating', 'Gentle', 'Radiant', 'Unscented', 'Travel-Size'],
    nouns: ['Serum', 'Moisturizer', 'Cleanser', 'Perfume', 'Sunscreen', 'Lip Balm'],
    price: [4, 160],
    attributes: (rng) => ({
      volumeMl: pick(rng, [15, 30, 50, 100, 200]),
      skinType: pickSome(rng, ['dry', 'oily', 'combination', 'sensitive', 'normal'], 1, 3),
      crueltyFree: rng.next() < 0.7,
    }),
  },
  sports: {
    categories: [
      ['sports-fitness', 'Fitness'],
      ['sports-outdoor', 'Outdoor'],
    ],
    share: 0.08,
    brands: ['Peakform', 'Trailhead', 'Ironclad', 'Swiftline'],
    adjectives: ['Adjustable', 'Lightweight', 'Waterproof', 'Foldable', 'Insulated'],
    nouns: ['Dumbbells', 'Yoga Mat', 'Tent', 'Backpack', 'Bike Helmet', 'Water Bottle'],
    price: [6, 700],
    attributes: (rng) => ({
      weightKg: Math.round((0.1 + rng.next() * 25) * 10) / 10,
      colour: pick(rng, COLOURS),
      sport: pick(rng, ['running', 'cycling', 'camping', 'yoga', 'strength']),
    }),
  },
  books: {
    categories: [
      ['books-fiction', 'Fiction'],
      ['books-nonfiction', 'Non-fiction'],
    ],
    share: 0.06,
    brands: ['Meridian Press', 'Lantern Books', 'Quarto House'],
    adjectives: ['Illustrated', 'Collected', 'Complete', 'Pocket', 'Annotated'],
    nouns: ['Novel', 'Cookbook', 'Atlas', 'Biography', 'Field Guide', 'Anthology'],
    price: [5, 60],
    attributes: (rng) => ({
      format: pick(rng, ['hardcover', 'paperback', 'ebook', 'audiobook']),
      pages: 80 + rng.int(900),
      language: pick(rng, ['en', 'en', 'en', 'es', 'fr', 'de']),
    }),
  },
} satisfies Record<ProductType, TypeSpec>;

/** The product types in a stable order. */
export const PRODUCT_TYPES = Object.keys(TYPE_SPECS) as ProductType[];

const CITIES = [
  ['Seattle', '98'],
  ['Portland', '97'],
  ['San Francisco', '94'],
  ['Los Angeles', '90'],
  ['Phoenix', '85'],
  ['Denver', '80'],
  ['Dallas', '75'],
  ['Chicago', '60'],
  ['Atlanta', '30'],
  ['Miami', '33'],
  ['New York', '10'],
  ['Boston', '02'],
] as const;
const FIRST = ['Ava', 'Liam', 'Mia', 'Noah', 'Zoe', 'Ethan', 'Ivy', 'Lucas', 'Nora', 'Omar', 'Priya', 'Kai'];
const LAST = ['Smith', 'Garcia', 'Chen', 'Okafor', 'Novak', 'Patel', 'Kim', 'Silva', 'Berg', 'Rossi'];

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Product id for a 1-based index: `p-000123`. */
export const productIdOf = (n: number): string => `p-${pad(n, 6)}`;
/** SKU for a 1-based index: `SKU-000123`. */
export const skuOf = (n: number): string => `SKU-${pad(n, 6)}`;
/** Store id for a 1-based index: `store-001`. */
export const storeIdOf = (n: number): string => `store-${pad(n, 3)}`;
/** Customer id for a 1-based index: `c-00001`. */
export const customerIdOf = (n: number): string => `c-${pad(n, 5)}`;

/**
 * Builds the catalog for a seed. Pure: the same options give the same catalog, byte for byte.
 * Products are assigned to types by their shares (largest remainder, so counts are exact), to a
 * category within the type round-robin, and get a type-specific attribute set. Each part draws from
 * its own stream forked from the seed by a label, so the parts do not disturb each other's draws.
 */
export function createCatalog(options: CatalogOptions = {}): Catalog {
  const o = { ...CATALOG_DEFAULTS, ...options };
  if (!Number.isInteger(o.products) || o.products < 1)
    throw new RangeError('products must be a positive integer');
  const root = createRng(o.seed);
  const typeOf = productTypes(o.products, root.fork('types'));
  const ranks = popularityRanks(o.products, root.fork('popularity'));
  const { products, categoryCounts } = generateProducts(o, typeOf, ranks, root.fork('products'));
  const stores = generateStores(o.stores, root.fork('stores'));
  const customers = generateCustomers(o.customers, stores, root.fork('customers'));
  const { skus, productIds, bySku, byId } = indexProducts(products);
  return {
    seed: o.seed,
    products,
    categories: catalogCategories(categoryCounts),
    skus,
    productIds,
    hotSkus: hotSkusOf(products, o.hotCount),
    stores,
    storeIds: stores.map((s) => s.id),
    searchTerms: searchTermsOf(),
    customers,
    customerIds: customers.map((c) => c.id),
    cumulativePopularity: cumulativePopularityOf(products),
    bySku,
    byId,
  };
}

/**
 * Each product's type, in product order: exact counts per type by its share (largest remainder),
 * then a seeded interleaving so ids are not grouped by type.
 */
function productTypes(productCount: number, rng: Rng): ProductType[] {
  const counts = PRODUCT_TYPES.map((t) => Math.floor(TYPE_SPECS[t].share * productCount));
  let missing = productCount - counts.reduce((a, b) => a + b, 0);
  const byRemainder = PRODUCT_TYPES.map((t, i) => ({
    i,
    r: TYPE_SPECS[t].share * productCount - (counts[i] ?? 0),
  })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (missing <= 0) break;
    counts[i] = (counts[i] ?? 0) + 1;
    missing--;
  }
  const typeOf: ProductType[] = [];
  PRODUCT_TYPES.forEach((t, i) => {
    for (let k = 0; k < (counts[i] ?? 0); k++) typeOf.push(t);
  });
  shuffle(typeOf, rng);
  return typeOf;
}

/** Popularity ranks in product order: a seeded permutation of 1..n. */
function popularityRanks(productCount: number, rng: Rng): number[] {
  const ranks = Array.from({ length: productCount }, (_, i) => i + 1);
  shuffle(ranks, rng);
  return ranks;
}

/**
 * The products, each named, priced (log-uniform in its type's range), stocked and given its type's
 * attributes from one stream in product order; and how many products each category got (a product's
 * category is its type's next one, round-robin).
 */
function generateProducts(
  o: Required<CatalogOptions>,
  typeOf: readonly ProductType[],
  ranks: readonly number[],
  rngProducts: Rng,
): { products: CatalogProduct[]; categoryCounts: Map<string, number> } {
  const categoryCounts = new Map<string, number>();
  const perType = new Map<ProductType, number>();
  const products: CatalogProduct[] = new Array(o.products);
  for (let i = 0; i < o.products; i++) {
    const n = i + 1;
    const type = typeOf[i] as ProductType;
    const spec: TypeSpec = TYPE_SPECS[type];
    const k = perType.get(type) ?? 0;
    perType.set(type, k + 1);
    const [categoryId] = spec.categories[k % spec.categories.length] as [string, string];
    categoryCounts.set(categoryId, (categoryCounts.get(categoryId) ?? 0) + 1);
    const brand = pick(rngProducts, spec.brands);
    const adjective = pick(rngProducts, spec.adjectives);
    const noun = pick(rngProducts, spec.nouns);
    const [lo, hi] = spec.price;
    // Log-uniform prices: cheap items are more common than expensive ones.
    const raw = lo * (hi / lo) ** rngProducts.next();
    const price = Math.max(0.99, Math.floor(raw) + 0.99);
    const rank = ranks[i] as number;
    const popularity = 1 / rank ** o.zipfExponent;
    const stock = rank <= o.hotCount ? 100 + rngProducts.int(400) : 20 + rngProducts.int(980);
    const name = `${brand} ${adjective} ${noun}`;
    products[i] = {
      id: productIdOf(n),
      sku: skuOf(n),
      name,
      brand,
      category: categoryId,
      type,
      description: `${name}: ${adjective.toLowerCase()} ${noun.toLowerCase()} by ${brand}.`,
      price,
      currency: 'USD',
      stock,
      popularity,
      popularityRank: rank,
      attributes: spec.attributes(rngProducts),
    };
  }
  return { products, categoryCounts };
}

/** Every category of every type, in type order, with the number of products it got. */
function catalogCategories(categoryCounts: ReadonlyMap<string, number>): CatalogCategory[] {
  return PRODUCT_TYPES.flatMap((t) =>
    (TYPE_SPECS[t] as TypeSpec).categories.map(([id, name]) => ({
      id,
      name,
      type: t,
      productCount: categoryCounts.get(id) ?? 0,
    })),
  );
}

/** Cumulative normalised popularity in product order, the last exactly 1 (for `pickByPopularity`). */
function cumulativePopularityOf(products: readonly CatalogProduct[]): Float64Array {
  const total = products.reduce((a, p) => a + p.popularity, 0);
  const cumulativePopularity = new Float64Array(products.length);
  let acc = 0;
  products.forEach((p, i) => {
    acc += p.popularity / total;
    cumulativePopularity[i] = acc;
  });
  cumulativePopularity[products.length - 1] = 1;
  return cumulativePopularity;
}

/**
 * The `hotCount` most popular SKUs, most popular first. Ranks are a permutation of 1..n, so the hot
 * SKUs can be placed by rank without sorting.
 */
function hotSkusOf(products: readonly CatalogProduct[], hotCount: number): string[] {
  const hotSkus: string[] = new Array(Math.min(hotCount, products.length));
  for (const p of products) if (p.popularityRank <= hotSkus.length) hotSkus[p.popularityRank - 1] = p.sku;
  return hotSkus;
}

/** The stores, spread over the cities in turn, each with a zip in its city's prefix. */
function generateStores(count: number, rngStores: Rng): CatalogStore[] {
  return Array.from({ length: count }, (_, i) => {
    const [city, prefix] = CITIES[i % CITIES.length] as readonly [string, string];
    return {
      id: storeIdOf(i + 1),
      name: `${city} #${Math.floor(i / CITIES.length) + 1}`,
      zip: `${prefix}${pad(rngStores.int(1000), 3)}`,
      city,
    };
  });
}

/** The known customers, each with a home store and a zip near it (none when there are no stores). */
function generateCustomers(
  count: number,
  stores: readonly CatalogStore[],
  rngCustomers: Rng,
): CatalogCustomer[] {
  return Array.from({ length: count }, (_, i) => {
    const first = pick(rngCustomers, FIRST);
    const last = pick(rngCustomers, LAST);
    const store = stores.length > 0 ? (stores[rngCustomers.int(stores.length)] as CatalogStore) : undefined;
    const id = customerIdOf(i + 1);
    return {
      id,
      name: `${first} ${last}`,
      email: `${first.toLowerCase()}.${last.toLowerCase()}.${id}@example.com`,
      zip: store ? `${store.zip.slice(0, 3)}${pad(rngCustomers.int(100), 2)}` : '00000',
      homeStoreId: store?.id ?? '',
    };
  });
}

/** The lower-case terms that match products (types, brands, nouns, category names): deduplicated, sorted. */
function searchTermsOf(): string[] {
  const terms = new Set<string>();
  for (const t of PRODUCT_TYPES) {
    const spec: TypeSpec = TYPE_SPECS[t];
    terms.add(t);
    for (const b of spec.brands) terms.add(b.toLowerCase());
    for (const nn of spec.nouns) terms.add(nn.toLowerCase());
    for (const [, name] of spec.categories) terms.add(name.toLowerCase());
  }
  return [...terms].sort();
}

/** The flat SKU and id pools in product order, and the lookups by SKU and by id. */
function indexProducts(products: readonly CatalogProduct[]): {
  skus: string[];
  productIds: string[];
  bySku: Map<string, CatalogProduct>;
  byId: Map<string, CatalogProduct>;
} {
  const bySku = new Map<string, CatalogProduct>();
  const byId = new Map<string, CatalogProduct>();
  const skus: string[] = new Array(products.length);
  const productIds: string[] = new Array(products.length);
  products.forEach((p, i) => {
    bySku.set(p.sku, p);
    byId.set(p.id, p);
    skus[i] = p.sku;
    productIds[i] = p.id;
  });
  return { skus, productIds, bySku, byId };
}

/**
 * Picks a product with probability proportional to its popularity, from a uniform `u` in [0, 1)
 * (the caller owns the randomness, so picks stay seeded). Binary search over the cumulative weights.
 */
export function pickByPopularity(catalog: Catalog, u: number): CatalogProduct {
  const cum = catalog.cumulativePopularity;
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cum[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return catalog.products[lo] as CatalogProduct;
}

/**
 * Approximate distance in km between two US zip codes, for store lookup. Zips sharing more leading
 * digits are closer; an assumption good enough to order stores, not a geocoder.
 */
export function zipDistanceKm(a: string, b: string): number {
  if (a === b) return 0;
  let shared = 0;
  while (shared < Math.min(a.length, b.length) && a[shared] === b[shared]) shared++;
  const scale = [2500, 600, 120, 25, 5][shared] ?? 1;
  const diff = Math.abs(Number(a.slice(shared, shared + 2)) - Number(b.slice(shared, shared + 2))) || 1;
  return Math.round(Math.min(scale, (scale / 100) * diff + scale / 10) * 10) / 10;
}

function shuffle<T>(items: T[], rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
}
