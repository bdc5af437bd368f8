/**
 * The storefront's HTML: server-side templates written as template literals, every interpolated value
 * escaped (`esc`) so catalog text, ids and query values can never inject markup. Pure functions of the
 * BFF's data; pages.ts chooses the template and the caching headers.
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
 * JSON for an inline `<script type="application/json">` (the page's data for client scripts, as
 * server-rendered storefronts embed it): `<` is escaped so no `</script>` can close the element early.
 */
export function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A price as shoppers read it: the amount, and the list price struck through when discounted. */
export function money(p: Price): string {
  const amount = `${esc(p.currency)} ${p.amount.toFixed(2)}`;
  return p.amount < p.listPrice
    ? `<span class="price">${amount}</span> <s class="list-price">${esc(p.currency)} ${p.listPrice.toFixed(2)}</s>`
    : `<span class="price">${amount}</span>`;
}

/** The page frame: title, header with the home and cart links, main content. */
export function layout(title: string, main: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)} · peakday store</title></head>
<body>
<header><a href="/">peakday store</a> · <a href="/cart">Cart</a></header>
<main>
${main}
</main>
</body>
</html>
`;
}

/** The home page: categories and the lightning deals. */
export function homePage(
  categories: readonly { id: string; name: string; productCount: number }[],
  deals: readonly {
    id: string;
    productId: string;
    sku: string;
    discountPct: number;
    startsAt: number;
    endsAt: number;
  }[],
): string {
  const cats = categories
    .map((c) => `<li><a href="/c/${encodeURIComponent(c.id)}">${esc(c.name)}</a> (${c.productCount})</li>`)
    .join('\n');
  const ds = deals
    .map(
      (d) =>
        `<li><a href="/p/${encodeURIComponent(d.productId)}">${esc(d.sku)}</a> ${d.discountPct}% off</li>`,
    )
    .join('\n');
  return layout(
    'Home',
    `<h1>Shop by category</h1>\n<ul class="categories">\n${cats}\n</ul>\n<h2>Lightning deals</h2>\n<ul class="deals">\n${ds}\n</ul>`,
  );
}

/** A category page: one page of priced products with links to the previous and next pages. */
export function categoryPage(
  category: string,
  list: { items: readonly ProductSummary[]; page: number; limit: number; total: number },
): string {
  const items = list.items
    .map(
      (p) =>
        `<li class="product" data-sku="${esc(p.sku)}"><a href="/p/${encodeURIComponent(p.id)}">${esc(p.name)}</a> <span class="brand">${esc(p.brand)}</span> ${money(p.price)}</li>`,
    )
    .join('\n');
  const base = `/c/${encodeURIComponent(category)}`;
  const prev = list.page > 1 ? `<a rel="prev" href="${base}?page=${list.page - 1}">Previous</a>` : '';
  const next =
    list.page * list.limit < list.total ? `<a rel="next" href="${base}?page=${list.page + 1}">Next</a>` : '';
  return layout(
    category,
    `<h1>${esc(category)}</h1>\n<p>${list.total} products</p>\n<ul class="products">\n${items}\n</ul>\n<nav>${prev} ${next}</nav>`,
  );
}

/** A product as the product page shows it (the BFF's getProduct answer). */
export interface ProductView extends ProductSummary {
  description?: string;
  attributes?: Record<string, unknown>;
  inventory: { available: number };
}

/** A product page: details, price, stock and the add-to-cart form (its script posts to the cart API). */
export function productPage(p: ProductView): string {
  const attrs = Object.entries(p.attributes ?? {})
    .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(Array.isArray(v) ? v.join(', ') : v)}</dd>`)
    .join('');
  const stock = p.inventory.available > 0 ? `${p.inventory.available} in stock` : 'Sold out';
  return layout(
    p.name,
    `<article class="product" data-product-id="${esc(p.id)}" data-sku="${esc(p.sku)}">
<h1>${esc(p.name)}</h1>
<p class="brand">${esc(p.brand)} · <a href="/c/${encodeURIComponent(p.category)}">${esc(p.category)}</a></p>
<p>${money(p.price)}${p.price.dealId ? ` <span class="deal">${esc(p.price.dealId)}</span>` : ''}</p>
<p class="stock">${esc(stock)}</p>
<p>${esc(p.description ?? '')}</p>
<dl>${attrs}</dl>
<form class="add-to-cart" method="post" action="/api/carts" data-sku="${esc(p.sku)}"><button${p.inventory.available > 0 ? '' : ' disabled'}>Add to cart</button></form>
</article>
<script type="application/json" id="product-data">${inlineJson({ id: p.id, sku: p.sku, price: p.price })}</script>`,
  );
}

/** The cart page: the session's cart, or an empty cart when the session has none. */
export function cartPage(cart: PublicCart | null): string {
  if (!cart || cart.items.length === 0)
    return layout('Cart', '<h1>Your cart</h1>\n<p>Your cart is empty.</p>');
  const rows = cart.items
    .map(
      (i) =>
        `<tr><td><a href="/p/${encodeURIComponent(i.productId)}">${esc(i.sku)}</a></td><td>${i.quantity}</td><td>${esc(cart.currency)} ${i.unitPrice.toFixed(2)}</td></tr>`,
    )
    .join('\n');
  return layout(
    'Cart',
    `<h1>Your cart</h1>
<table class="cart" data-cart-id="${esc(cart.id)}">
<thead><tr><th>Item</th><th>Quantity</th><th>Price</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<p class="total">Total ${esc(cart.currency)} ${cart.total.toFixed(2)}</p>
<form method="post" action="/api/checkout"><button>Checkout</button></form>`,
  );
}

/** An error page (404, 503 when the shop is at capacity, 502 when the BFF failed). */
export function errorPage(status: number, message: string): string {
  const title = status === 404 ? 'Not found' : status === 503 ? 'Busy' : 'Something went wrong';
  return layout(title, `<h1>${esc(title)}</h1>\n<p>${esc(message)}</p>`);
}
