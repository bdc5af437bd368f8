/**
 * The storefront's HTML: server-side templates written as template literals, every interpolated value
 * escaped (`esc`, `attr`, `href`) so catalog text, ids and query values can never inject markup. Pure
 * functions of the BFF's data; pages.ts chooses the template and the caching headers.
 *
 * The documents are what a server-rendered commerce storefront sends: a head with the title, the
 * description, the canonical URL, OpenGraph and Twitter cards and schema.org JSON-LD (Product with
 * its Offer, ItemList, BreadcrumbList, Organization); a header whose navigation is the category tree;
 * the page body (category pages of product tiles with responsive images, prices, badges and an
 * add-to-cart form each; a product page with its gallery, variants, price, stock, quantity, add to
 * cart, description and specifications); the footer; and the serialised state the client's scripts
 * hydrate from (`<script type="application/json" id="__STATE__">`). Everything shown comes from a
 * field of the BFF's answers; image URLs follow the image service's convention (`imageUrl`), which
 * this stack does not serve (the load generator fetches documents, not their subresources).
 */

import type { Price } from '../domain/pricing.ts';
import type { ProductSummary, PublicCart } from '../gateway/api.ts';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * JSON for an inline `<script type="application/json">` or `application/ld+json` (the page's data for
 * client scripts and crawlers, as server-rendered storefronts embed it): `<` is escaped so no
 * `</script>` can close the element early, and the line separators JavaScript parsers reject.
 */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** The shop's name, in titles, the header, the OpenGraph site name and the Organization schema. */
export const SHOP_NAME = 'peakday store';

/**
 * The shop's public origin for canonical URLs, OpenGraph and JSON-LD (absolute URLs are required
 * there). An assumption: the stack is reached on loopback, so this is the name a deployment would use.
 */
export const SHOP_ORIGIN = 'https://shop.peakday.example';

/** The image service's origin (an image CDN in production; not part of this stack). */
export const IMAGE_ORIGIN = 'https://images.peakday.example';

/** Widths the image service renders (px): the `srcset` candidates of every product image. */
export const IMAGE_WIDTHS = [160, 320, 480, 640, 960] as const;

/** Views (photos) per product in the image service's convention (assumption: front, back, side, detail). */
export const PRODUCT_VIEWS = ['front', 'back', 'side', 'detail'] as const;

/** Product images per category-page row width: the `sizes` a tile's image is laid out at. */
const TILE_SIZES = '(min-width: 1200px) 280px, (min-width: 768px) 33vw, 50vw';
const GALLERY_SIZES = '(min-width: 1024px) 600px, 100vw';

/** The image service's URL of one product view at one width, in one format. */
export function imageUrl(productId: string, view: string, width: number, format: 'avif' | 'webp'): string {
  return `${IMAGE_ORIGIN}/p/${encodeURIComponent(productId)}/${view}-${width}.${format}`;
}

const srcset = (productId: string, view: string, format: 'avif' | 'webp'): string =>
  IMAGE_WIDTHS.map((w) => `${imageUrl(productId, view, w, format)} ${w}w`).join(', ');

/** A responsive product image: AVIF and WebP sources, every width, lazily loaded unless above the fold. */
function picture(productId: string, view: string, alt: string, sizes: string, eager: boolean): string {
  return `<picture><source type="image/avif" srcset="${esc(srcset(productId, view, 'avif'))}" sizes="${sizes}"><img src="${esc(imageUrl(productId, view, 480, 'webp'))}" srcset="${esc(srcset(productId, view, 'webp'))}" sizes="${sizes}" width="480" height="480" alt="${esc(alt)}"${eager ? ' fetchpriority="high"' : ' loading="lazy"'} decoding="async"></picture>`;
}

/** A site path to a category page (`page` > 1 adds the query). */
export function categoryPath(category: string, page = 1): string {
  return `/c/${encodeURIComponent(category)}${page > 1 ? `?page=${page}` : ''}`;
}

/** A site path to a product page. */
export function productPath(productId: string): string {
  return `/p/${encodeURIComponent(productId)}`;
}

const amount = (n: number) => n.toFixed(2);

/** The discount of a price against its list price, whole percent (0 when not discounted). */
export function discountPct(p: Price): number {
  return p.amount < p.listPrice && p.listPrice > 0 ? Math.round((1 - p.amount / p.listPrice) * 100) : 0;
}

/** A price as shoppers read it: the amount, and the list price struck through with the saving when discounted. */
export function money(p: Price): string {
  const now = `<span class="price" data-amount="${amount(p.amount)}">${esc(p.currency)} ${amount(p.amount)}</span>`;
  const off = discountPct(p);
  return off > 0
    ? `${now} <s class="list-price"><span class="visually-hidden">Was </span>${esc(p.currency)} ${amount(p.listPrice)}</s> <span class="saving">Save ${off}%</span>`
    : now;
}

/** The badges of a priced product: its lightning deal and its discount. */
function badges(p: Price): string {
  const out: string[] = [];
  if (p.dealId)
    out.push(`<span class="badge badge-deal" data-deal-id="${esc(p.dealId)}">Lightning deal</span>`);
  const off = discountPct(p);
  if (off > 0) out.push(`<span class="badge badge-discount">-${off}%</span>`);
  return out.length > 0 ? `<div class="badges">${out.join('')}</div>` : '';
}

/** A category as the navigation shows it (the BFF's listCategories item). */
export interface NavCategory {
  id: string;
  name: string;
  productCount: number;
}

/** The department of a category: its id's first segment (`apparel-tops` is in `apparel`). */
export function departmentOf(categoryId: string): string {
  const dash = categoryId.indexOf('-');
  return dash > 0 ? categoryId.slice(0, dash) : categoryId;
}

const titleCase = (s: string) => s.charAt(0).toUpperCase() + s.slice(1).replace(/-/g, ' ');

/** Categories grouped by department, in the order the BFF lists them. */
function departments(categories: readonly NavCategory[]): [string, NavCategory[]][] {
  const groups = new Map<string, NavCategory[]>();
  for (const c of categories) {
    const d = departmentOf(c.id);
    const list = groups.get(d);
    if (list) list.push(c);
    else groups.set(d, [c]);
  }
  return [...groups];
}

/** The header's navigation: the category tree, one menu per department. */
function navigation(categories: readonly NavCategory[]): string {
  const menus = departments(categories)
    .map(
      ([d, cs]) =>
        `<li class="nav-department"><button class="nav-toggle" type="button" aria-expanded="false" aria-controls="nav-${esc(d)}">${esc(titleCase(d))}</button>
<ul class="nav-menu" id="nav-${esc(d)}">
${cs.map((c) => `<li><a href="${esc(categoryPath(c.id))}" data-category="${esc(c.id)}">${esc(c.name)} <span class="count">(${c.productCount})</span></a></li>`).join('\n')}
</ul></li>`,
    )
    .join('\n');
  return `<nav class="site-nav" aria-label="Departments"><ul class="nav-departments">
${menus}
</ul></nav>`;
}

/** The footer: the departments' categories again (as shops' footers list them) and the legal line. */
function footer(categories: readonly NavCategory[]): string {
  const cols = departments(categories)
    .map(
      ([d, cs]) =>
        `<section class="footer-col"><h2>${esc(titleCase(d))}</h2><ul>${cs.map((c) => `<li><a href="${esc(categoryPath(c.id))}">${esc(c.name)}</a></li>`).join('')}</ul></section>`,
    )
    .join('\n');
  return `<footer class="site-footer">
<div class="footer-cols">
${cols}
</div>
<p class="legal">Prices include applicable discounts at the time the page was served; the cart shows the price you pay. © ${esc(SHOP_NAME)}</p>
</footer>`;
}

/** One breadcrumb trail: its links and its BreadcrumbList schema. */
export interface Crumb {
  name: string;
  path: string;
}

function breadcrumbs(crumbs: readonly Crumb[]): string {
  const items = crumbs
    .map((c, i) =>
      i === crumbs.length - 1
        ? `<li aria-current="page">${esc(c.name)}</li>`
        : `<li><a href="${esc(c.path)}">${esc(c.name)}</a></li>`,
    )
    .join('');
  return `<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>${items}</ol></nav>`;
}

function breadcrumbSchema(crumbs: readonly Crumb[]): Record<string, unknown> {
  return {
    '@context': 'https://schema.org',
    '@type': 'BreadcrumbList',
    itemListElement: crumbs.map((c, i) => ({
      '@type': 'ListItem',
      position: i + 1,
      name: c.name,
      item: `${SHOP_ORIGIN}${c.path}`,
    })),
  };
}

/** What a document's head and frame need beside its main content. */
export interface DocumentParts {
  title: string;
  description: string;
  /** Site path of the canonical URL (also og:url). */
  path: string;
  /** The navigation's categories (the header's tree and the footer). */
  categories: readonly NavCategory[];
  /** OpenGraph type (`website`, `product`, `product.group`). */
  ogType: string;
  /** Image for the cards (absolute URL). */
  image?: string;
  /** Extra `<meta>` properties (OpenGraph product price and availability). */
  meta?: readonly [string, string][];
  /** schema.org objects for `application/ld+json`. */
  schema: readonly Record<string, unknown>[];
  /** Pagination links of the head (`prev`, `next`). */
  links?: readonly [string, string][];
  /** The state the client's scripts hydrate from. */
  state: unknown;
  /** The page's `data-page` (the client's router picks its script by it). */
  page: string;
  /** The header's cart count, only on pages that depend on the session (the cart). */
  cartCount?: number;
  /** Whether robots may index the page. */
  index?: boolean;
}

/** The whole document: head (meta, cards, JSON-LD), header with navigation, main, footer, state. */
export function layout(d: DocumentParts, main: string): string {
  const url = `${SHOP_ORIGIN}${d.path}`;
  const meta = [
    ['og:site_name', SHOP_NAME],
    ['og:type', d.ogType],
    ['og:title', d.title],
    ['og:description', d.description],
    ['og:url', url],
    ['og:locale', 'en_US'],
    ...(d.image ? [['og:image', d.image] as [string, string]] : []),
    ...(d.meta ?? []),
  ]
    .map(([k, v]) => `<meta property="${esc(k)}" content="${esc(v)}">`)
    .join('\n');
  const schema = d.schema
    .map((s) => `<script type="application/ld+json">${inlineJson(s)}</script>`)
    .join('\n');
  const links = (d.links ?? [])
    .map(([rel, p]) => `<link rel="${rel}" href="${esc(`${SHOP_ORIGIN}${p}`)}">`)
    .join('\n');
  const cart =
    d.cartCount === undefined
      ? '<span class="cart-count" data-cart-count hidden></span>'
      : `<span class="cart-count" data-cart-count>${d.cartCount}</span>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(d.title)} · ${esc(SHOP_NAME)}</title>
<meta name="description" content="${esc(d.description)}">
<meta name="robots" content="${d.index === false ? 'noindex, nofollow' : 'index, follow'}">
<link rel="canonical" href="${esc(url)}">
${links}
<link rel="preconnect" href="${IMAGE_ORIGIN}" crossorigin>
<link rel="stylesheet" href="/assets/storefront.css">
<link rel="modulepreload" href="/assets/storefront.js">
${meta}
<meta name="twitter:card" content="summary_large_image">
<meta name="twitter:title" content="${esc(d.title)}">
<meta name="twitter:description" content="${esc(d.description)}">
${d.image ? `<meta name="twitter:image" content="${esc(d.image)}">\n` : ''}${schema}
</head>
<body data-page="${esc(d.page)}">
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<a class="logo" href="/" aria-label="${esc(SHOP_NAME)} home">${esc(SHOP_NAME)}</a>
${navigation(d.categories)}
<a class="cart-link" href="/cart" aria-label="Cart">Cart ${cart}</a>
</header>
<main id="main">
${main}
</main>
${footer(d.categories)}
<script type="application/json" id="__STATE__">${inlineJson(d.state)}</script>
<script type="module" src="/assets/storefront.js"></script>
</body>
</html>
`;
}

const ORGANIZATION = {
  '@context': 'https://schema.org',
  '@type': 'Organization',
  name: SHOP_NAME,
  url: SHOP_ORIGIN,
};

/** A lightning deal as the home page shows it (the BFF's listDeals item). */
export interface DealView {
  id: string;
  productId: string;
  sku: string;
  discountPct: number;
  startsAt: number;
  endsAt: number;
}

/** The home page: the department tiles with their categories, and the lightning deals. */
export function homePage(categories: readonly NavCategory[], deals: readonly DealView[]): string {
  const depts = departments(categories)
    .map(
      ([d, cs]) =>
        `<section class="department" aria-labelledby="dept-${esc(d)}">
<h2 id="dept-${esc(d)}">${esc(titleCase(d))}</h2>
<ul class="categories">
${cs.map((c) => `<li class="category-tile"><a href="${esc(categoryPath(c.id))}"><img src="${esc(`${IMAGE_ORIGIN}/c/${encodeURIComponent(c.id)}-320.webp`)}" width="320" height="200" alt="" loading="lazy" decoding="async"><span class="category-name">${esc(c.name)}</span> <span class="count">${c.productCount} products</span></a></li>`).join('\n')}
</ul>
</section>`,
    )
    .join('\n');
  const ds = deals
    .map(
      (d, i) =>
        `<li class="deal-tile" data-deal-id="${esc(d.id)}" data-sku="${esc(d.sku)}" data-starts-at="${d.startsAt}" data-ends-at="${d.endsAt}">
<a href="${esc(productPath(d.productId))}">${picture(d.productId, 'front', d.sku, TILE_SIZES, i < 4)}<span class="deal-sku">${esc(d.sku)}</span></a>
<span class="badge badge-deal">-${d.discountPct}%</span>
<p class="deal-countdown" aria-live="off">Limited time</p>
</li>`,
    )
    .join('\n');
  const description = `Shop ${categories.length} categories and ${deals.length} lightning deals at ${SHOP_NAME}.`;
  return layout(
    {
      title: 'Home',
      description,
      path: '/',
      categories,
      ogType: 'website',
      image: deals[0] ? imageUrl(deals[0].productId, 'front', 960, 'webp') : undefined,
      schema: [
        ORGANIZATION,
        { '@context': 'https://schema.org', '@type': 'WebSite', name: SHOP_NAME, url: SHOP_ORIGIN },
      ],
      state: { page: 'home', categories, deals },
      page: 'home',
    },
    `<h1 class="visually-hidden">${esc(SHOP_NAME)}</h1>
<section class="deals" aria-labelledby="deals-title">
<h2 id="deals-title">Lightning deals</h2>
<ul class="deal-tiles">
${ds}
</ul>
</section>
<section class="departments" aria-label="Shop by category">
${depts}
</section>`,
  );
}

/** One product tile of a category page. */
function productTile(p: ProductSummary, i: number): string {
  const path = productPath(p.id);
  return `<li class="tile" data-product-id="${esc(p.id)}" data-sku="${esc(p.sku)}">
<article class="product-tile">
<a class="tile-link" href="${esc(path)}">${picture(p.id, 'front', p.name, TILE_SIZES, i < 4)}
<h2 class="tile-name">${esc(p.name)}</h2></a>
<p class="tile-brand">${esc(p.brand)}</p>
${badges(p.price)}
<p class="tile-price">${money(p.price)}</p>
<form class="add-to-cart" method="post" action="/api/carts" data-sku="${esc(p.sku)}"><input type="hidden" name="sku" value="${esc(p.sku)}"><input type="hidden" name="quantity" value="1"><button type="submit" aria-label="Add ${esc(p.name)} to cart">Add to cart</button></form>
</article>
</li>`;
}

/** The pagination of a category: previous, a window of page numbers, next. */
function pagination(category: string, page: number, pages: number): string {
  if (pages <= 1) return '';
  const from = Math.max(1, page - 2);
  const to = Math.min(pages, page + 2);
  const nums: string[] = [];
  for (let n = from; n <= to; n++)
    nums.push(
      n === page
        ? `<li><span aria-current="page">${n}</span></li>`
        : `<li><a href="${esc(categoryPath(category, n))}">${n}</a></li>`,
    );
  const prev = page > 1 ? `<a rel="prev" href="${esc(categoryPath(category, page - 1))}">Previous</a>` : '';
  const next = page < pages ? `<a rel="next" href="${esc(categoryPath(category, page + 1))}">Next</a>` : '';
  return `<nav class="pagination" aria-label="Pages">${prev}<ol>${nums.join('')}</ol>${next}</nav>`;
}

/** A category page: one page of product tiles, its pagination, its ItemList and breadcrumb schema. */
export function categoryPage(
  category: string,
  list: { items: readonly ProductSummary[]; page: number; limit: number; total: number },
  categories: readonly NavCategory[],
): string {
  const name = categories.find((c) => c.id === category)?.name ?? category;
  const crumbs: Crumb[] = [
    { name: 'Home', path: '/' },
    { name, path: categoryPath(category) },
  ];
  if (list.page > 1) crumbs.push({ name: `Page ${list.page}`, path: categoryPath(category, list.page) });
  const pages = Math.max(1, Math.ceil(list.total / list.limit));
  const first = (list.page - 1) * list.limit + 1;
  const last = first + list.items.length - 1;
  const path = categoryPath(category, list.page);
  const links: [string, string][] = [];
  if (list.page > 1) links.push(['prev', categoryPath(category, list.page - 1)]);
  if (list.page < pages) links.push(['next', categoryPath(category, list.page + 1)]);
  const itemList = {
    '@context': 'https://schema.org',
    '@type': 'ItemList',
    name,
    numberOfItems: list.total,
    itemListElement: list.items.map((p, i) => ({
      '@type': 'ListItem',
      position: first + i,
      url: `${SHOP_ORIGIN}${productPath(p.id)}`,
      name: p.name,
    })),
  };
  return layout(
    {
      title: list.page > 1 ? `${name} – page ${list.page}` : name,
      description: `${list.total} products in ${name}: ${list.items
        .slice(0, 3)
        .map((p) => p.name)
        .join(', ')} and more.`,
      path,
      categories,
      ogType: 'product.group',
      image: list.items[0] ? imageUrl(list.items[0].id, 'front', 960, 'webp') : undefined,
      schema: [itemList, breadcrumbSchema(crumbs)],
      links,
      state: {
        page: 'category',
        category,
        pagination: { page: list.page, limit: list.limit, total: list.total },
        items: list.items,
      },
      page: 'category',
    },
    `${breadcrumbs(crumbs)}
<header class="listing-header">
<h1>${esc(name)}</h1>
<p class="result-count">Showing ${list.items.length > 0 ? `${first}–${last}` : '0'} of ${list.total} products</p>
</header>
<ul class="product-grid" data-category="${esc(category)}">
${list.items.map(productTile).join('\n')}
</ul>
${pagination(category, list.page, pages)}`,
  );
}

/** A product as the product page shows it (the BFF's getProduct answer). */
export interface ProductView extends ProductSummary {
  description?: string;
  attributes?: Record<string, unknown>;
  inventory: { available: number };
}

/** The stock as shoppers read it and as schema.org names it. */
function stockOf(available: number): { text: string; schema: string; og: string } {
  if (available <= 0)
    return { text: 'Sold out', schema: 'https://schema.org/OutOfStock', og: 'out of stock' };
  if (available < 10)
    return {
      text: `Only ${available} left`,
      schema: 'https://schema.org/LimitedAvailability',
      og: 'in stock',
    };
  return { text: 'In stock', schema: 'https://schema.org/InStock', og: 'in stock' };
}

const label = (key: string) => titleCase(key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase());

/** A product page: breadcrumbs, gallery, title, price, stock, variants, quantity, add to cart, details. */
export function productPage(p: ProductView, categories: readonly NavCategory[]): string {
  const attrs = Object.entries(p.attributes ?? {});
  // Variants: the attributes a shopper chooses among (lists: sizes, compatibility); the rest are specs.
  const variants = attrs.filter(([, v]) => Array.isArray(v) && v.length > 1) as [string, unknown[]][];
  const specs = attrs.filter(([, v]) => !(Array.isArray(v) && v.length > 1));
  const stock = stockOf(p.inventory.available);
  const category = categories.find((c) => c.id === p.category);
  const crumbs: Crumb[] = [
    { name: 'Home', path: '/' },
    { name: category?.name ?? p.category, path: categoryPath(p.category) },
    { name: p.name, path: productPath(p.id) },
  ];
  const gallery = PRODUCT_VIEWS.map(
    (v, i) =>
      `<li class="gallery-item${i === 0 ? ' is-active' : ''}">${picture(p.id, v, `${p.name}, ${v} view`, GALLERY_SIZES, i === 0)}</li>`,
  ).join('\n');
  const thumbs = PRODUCT_VIEWS.map(
    (v, i) =>
      `<li><button type="button" class="thumb" data-view="${i}" aria-label="Show the ${v} view"><img src="${esc(imageUrl(p.id, v, 160, 'webp'))}" width="80" height="80" alt="" loading="lazy" decoding="async"></button></li>`,
  ).join('');
  const variantFields = variants
    .map(
      ([k, vs]) =>
        `<fieldset class="variant" data-attribute="${esc(k)}"><legend>${esc(label(k))}</legend>${vs
          .map(
            (v, i) =>
              `<label class="variant-option"><input type="radio" name="${esc(k)}" value="${esc(v)}"${i === 0 ? ' checked' : ''}><span>${esc(v)}</span></label>`,
          )
          .join('')}</fieldset>`,
    )
    .join('\n');
  const maxQty = Math.min(10, p.inventory.available);
  const qty = Array.from(
    { length: Math.max(1, maxQty) },
    (_, i) => `<option value="${i + 1}">${i + 1}</option>`,
  ).join('');
  const specRows = specs
    .map(
      ([k, v]) =>
        `<tr><th scope="row">${esc(label(k))}</th><td>${esc(Array.isArray(v) ? v.join(', ') : v)}</td></tr>`,
    )
    .join('\n');
  const images = PRODUCT_VIEWS.map((v) => imageUrl(p.id, v, 960, 'webp'));
  const url = `${SHOP_ORIGIN}${productPath(p.id)}`;
  const schema = {
    '@context': 'https://schema.org',
    '@type': 'Product',
    '@id': `${url}#product`,
    name: p.name,
    sku: p.sku,
    productID: p.id,
    description: p.description ?? '',
    category: category?.name ?? p.category,
    brand: { '@type': 'Brand', name: p.brand },
    image: images,
    additionalProperty: attrs.map(([k, v]) => ({
      '@type': 'PropertyValue',
      name: label(k),
      value: Array.isArray(v) ? v.join(', ') : v,
    })),
    offers: {
      '@type': 'Offer',
      url,
      sku: p.sku,
      price: amount(p.price.amount),
      priceCurrency: p.price.currency,
      availability: stock.schema,
      itemCondition: 'https://schema.org/NewCondition',
      seller: { '@type': 'Organization', name: SHOP_NAME },
      ...(p.price.amount < p.price.listPrice
        ? {
            priceSpecification: {
              '@type': 'UnitPriceSpecification',
              priceType: 'https://schema.org/ListPrice',
              price: amount(p.price.listPrice),
              priceCurrency: p.price.currency,
            },
          }
        : {}),
    },
  };
  const soldOut = p.inventory.available <= 0;
  return layout(
    {
      title: `${p.name} – ${p.brand}`,
      description: p.description || `${p.name} by ${p.brand}.`,
      path: productPath(p.id),
      categories,
      ogType: 'product',
      image: images[0],
      meta: [
        ['product:brand', p.brand],
        ['product:price:amount', amount(p.price.amount)],
        ['product:price:currency', p.price.currency],
        ['product:availability', stock.og],
        ['product:retailer_item_id', p.sku],
        ['product:category', category?.name ?? p.category],
      ],
      schema: [schema, breadcrumbSchema(crumbs)],
      state: { page: 'product', product: p },
      page: 'product',
    },
    `${breadcrumbs(crumbs)}
<article class="product" data-product-id="${esc(p.id)}" data-sku="${esc(p.sku)}">
<section class="gallery" aria-label="Photos">
<ul class="gallery-main">
${gallery}
</ul>
<ul class="gallery-thumbs">${thumbs}</ul>
</section>
<section class="buy-box">
<p class="product-brand">${esc(p.brand)}</p>
<h1 class="product-name">${esc(p.name)}</h1>
<p class="product-sku">SKU <span>${esc(p.sku)}</span></p>
${badges(p.price)}
<p class="product-price">${money(p.price)}</p>
${p.price.dealId ? `<p class="deal-note">Lightning deal <span class="deal">${esc(p.price.dealId)}</span>: the price holds while the deal runs and stock lasts.</p>\n` : ''}<p class="stock ${soldOut ? 'stock-out' : 'stock-in'}" data-available="${p.inventory.available}">${esc(stock.text)}</p>
<form class="add-to-cart" method="post" action="/api/carts" data-sku="${esc(p.sku)}" data-product-id="${esc(p.id)}">
<input type="hidden" name="sku" value="${esc(p.sku)}">
${variantFields}
<label class="quantity">Quantity <select name="quantity"${soldOut ? ' disabled' : ''}>${qty}</select></label>
<button type="submit"${soldOut ? ' disabled' : ''}>${soldOut ? 'Sold out' : 'Add to cart'}</button>
</form>
</section>
<section class="details">
<h2>Description</h2>
<p>${esc(p.description ?? '')}</p>
<h2>Specifications</h2>
<table class="specs">
<tbody>
<tr><th scope="row">Brand</th><td>${esc(p.brand)}</td></tr>
<tr><th scope="row">Category</th><td><a href="${esc(categoryPath(p.category))}">${esc(category?.name ?? p.category)}</a></td></tr>
${specRows}
</tbody>
</table>
<p class="more"><a href="${esc(categoryPath(p.category))}">More in ${esc(category?.name ?? p.category)}</a></p>
</section>
</article>`,
  );
}

/** The cart page: the session's cart (its lines, totals, checkout), or an empty cart when the session has none. */
export function cartPage(cart: PublicCart | null, categories: readonly NavCategory[]): string {
  const count = cart ? cart.items.reduce((s, i) => s + i.quantity, 0) : 0;
  const parts = {
    title: 'Cart',
    description: 'Your shopping cart.',
    path: '/cart',
    categories,
    ogType: 'website',
    schema: [ORGANIZATION],
    page: 'cart',
    cartCount: count,
    index: false,
  };
  if (!cart || cart.items.length === 0)
    return layout(
      { ...parts, state: { page: 'cart', cart: null } },
      '<h1>Your cart</h1>\n<p class="cart-empty">Your cart is empty.</p>\n<p><a href="/">Continue shopping</a></p>',
    );
  const rows = cart.items
    .map(
      (i) =>
        `<tr class="cart-line" data-sku="${esc(i.sku)}" data-product-id="${esc(i.productId)}">
<td class="line-image"><img src="${esc(imageUrl(i.productId, 'front', 160, 'webp'))}" width="80" height="80" alt="" loading="lazy" decoding="async"></td>
<td class="line-item"><a href="${esc(productPath(i.productId))}">${esc(i.sku)}</a></td>
<td class="line-qty">${i.quantity}</td>
<td class="line-unit">${esc(cart.currency)} ${amount(i.unitPrice)}</td>
<td class="line-total">${esc(cart.currency)} ${amount(i.unitPrice * i.quantity)}</td>
<td class="line-remove"><button type="button" class="remove" data-sku="${esc(i.sku)}" aria-label="Remove ${esc(i.sku)}">Remove</button></td>
</tr>`,
    )
    .join('\n');
  return layout(
    { ...parts, state: { page: 'cart', cart } },
    `<h1>Your cart</h1>
<table class="cart" data-cart-id="${esc(cart.id)}">
<thead><tr><th scope="col"><span class="visually-hidden">Image</span></th><th scope="col">Item</th><th scope="col">Quantity</th><th scope="col">Price</th><th scope="col">Total</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<section class="cart-summary">
<p class="item-count">${count} item${count === 1 ? '' : 's'}</p>
<p class="total">Total ${esc(cart.currency)} ${amount(cart.total)}</p>
<form method="post" action="/api/checkout"><input type="hidden" name="cartId" value="${esc(cart.id)}"><button type="submit">Checkout</button></form>
</section>`,
  );
}

/** An error page (404, 503 when the shop is at capacity, 502 when the BFF failed): small, no navigation. */
export function errorPage(status: number, message: string): string {
  const title = status === 404 ? 'Not found' : status === 503 ? 'Busy' : 'Something went wrong';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${esc(title)} · ${esc(SHOP_NAME)}</title><link rel="stylesheet" href="/assets/storefront.css"></head>
<body data-page="error">
<header class="site-header"><a class="logo" href="/">${esc(SHOP_NAME)}</a> <a class="cart-link" href="/cart">Cart</a></header>
<main id="main">
<h1>${esc(title)}</h1>
<p>${esc(message)}</p>
<p><a href="/">Back to the home page</a></p>
</main>
</body>
</html>
`;
}
