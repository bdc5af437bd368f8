/**
 * The public API's use cases, written once against the ports: the gateway/BFF of the headless
 * topology runs them with HTTP ports (each port call is a service-to-service hop), the monolith
 * with in-process ports. REST (rest.ts) and GraphQL (graphql.ts) both call these, so the two
 * transports return the same data. Shapes follow scenarios/contract/openapi.yaml exactly (no extra
 * fields: the contract forbids them).
 */
import type { Cart } from '../domain/cart.ts';
import type { ProductBase } from '../domain/catalog.ts';
import { DomainError, notFound } from '../domain/errors.ts';
import type { Order } from '../domain/orders.ts';
import type { CheckoutArgs, CheckoutResult, Ports } from '../domain/ports.ts';
import type { Price } from '../domain/pricing.ts';

/** A product summary as the contract shows it. */
export interface ProductSummary extends ProductBase {
  price: Price;
}

/** The public cart (no internal fields). */
export interface PublicCart {
  id: string;
  items: Cart['items'];
  total: number;
  currency: string;
}

/** The public order. */
export type PublicOrder = Omit<Order, 'cartId'>;

/** Default channel when a request names none. */
export const DEFAULT_CHANNEL = 'web';

/** The use cases. */
export type Api = ReturnType<typeof createApi>;

/** Strips a cart to its contract shape. */
export function publicCart(c: Cart): PublicCart {
  return { id: c.id, items: c.items, total: c.total, currency: c.currency };
}

/** Strips an order to its contract shape. */
export function publicOrder(o: Order): PublicOrder {
  const { cartId: _cartId, ...rest } = o;
  return rest;
}

/** Builds the use cases over a set of ports. */
export function createApi(ports: Ports) {
  const priced = async (items: ProductBase[], channel: string): Promise<ProductSummary[]> => {
    if (items.length === 0) return [];
    const prices = await ports.pricing.quote({ skus: items.map((i) => i.sku), channel });
    return items.flatMap((i) => {
      const price = prices[i.sku];
      return price
        ? [{ id: i.id, sku: i.sku, name: i.name, brand: i.brand, category: i.category, type: i.type, price }]
        : [];
    });
  };
  const cartOr404 = async (cartId: string): Promise<Cart> => {
    const c = await ports.cart.get({ cartId });
    if (!c) throw notFound('cart', cartId);
    return c;
  };

  return {
    async listCategories() {
      return ports.catalog.listCategories({});
    },
    async listProducts(a: { category?: string; page: number; limit: number; channel: string }) {
      const r = await ports.catalog.listProducts({ category: a.category, page: a.page, limit: a.limit });
      return { items: await priced(r.items, a.channel), page: a.page, limit: a.limit, total: r.total };
    },
    async getProduct(a: { id: string; channel: string }) {
      const p = await ports.catalog.getProduct({ id: a.id });
      if (!p) throw notFound('product', a.id);
      const [prices, stock] = await Promise.all([
        ports.pricing.quote({ skus: [p.sku], channel: a.channel }),
        ports.inventory.availability({ skus: [p.sku] }),
      ]);
      const price = prices[p.sku];
      if (!price) throw new DomainError(500, 'price-missing', `no price for ${p.sku}`);
      return { ...p, price, inventory: { available: Math.max(0, stock[p.sku] ?? 0) } };
    },
    async search(a: { q: string; category?: string; limit: number; channel: string }) {
      const r = await ports.search.search({ q: a.q, category: a.category, limit: a.limit });
      return { items: await priced(r.items, a.channel), total: r.total, facets: r.facets };
    },
    async listDeals() {
      return ports.pricing.listDeals({});
    },
    async createCart(a: { channel: string; customerId?: string }) {
      return publicCart(await ports.cart.create({ channel: a.channel, customerId: a.customerId ?? null }));
    },
    async getCart(a: { cartId: string }) {
      return publicCart(await cartOr404(a.cartId));
    },
    async addCartItem(a: { cartId: string; sku: string; quantity: number }) {
      const cart = await cartOr404(a.cartId);
      const [product] = await ports.catalog.resolveSkus({ skus: [a.sku] });
      if (!product) throw notFound('sku', a.sku);
      const stock = await ports.inventory.availability({ skus: [a.sku] });
      const available = Math.max(0, stock[a.sku] ?? 0);
      const inCart = cart.items.find((i) => i.sku === a.sku)?.quantity ?? 0;
      if (inCart + a.quantity > available) {
        throw new DomainError(409, 'insufficient-stock', `only ${available} of ${a.sku} available`, {
          sku: a.sku,
          available,
          requested: inCart + a.quantity,
        });
      }
      const prices = await ports.pricing.quote({ skus: [a.sku], channel: cart.channel });
      const unitPrice = prices[a.sku]?.amount;
      if (unitPrice === undefined) throw new DomainError(500, 'price-missing', `no price for ${a.sku}`);
      return publicCart(
        await ports.cart.addItem({
          cartId: a.cartId,
          sku: a.sku,
          productId: product.id,
          quantity: a.quantity,
          unitPrice,
        }),
      );
    },
    async removeCartItem(a: { cartId: string; sku: string }) {
      return publicCart(await ports.cart.removeItem(a));
    },
    async checkout(a: CheckoutArgs): Promise<CheckoutResult> {
      return ports.checkout.checkout(a);
    },
    async getOrder(a: { orderId: string }) {
      const o = await ports.orders.get({ orderId: a.orderId });
      if (!o) throw notFound('order', a.orderId);
      return publicOrder(o);
    },
    async listCustomerOrders(a: { customerId: string; limit: number }) {
      return ports.orders.listByCustomer(a);
    },
    async reorder(a: { orderId: string }) {
      const o = await ports.orders.get({ orderId: a.orderId });
      if (!o) throw notFound('order', a.orderId);
      let cart = await ports.cart.create({ channel: o.channel, customerId: o.customerId });
      const skus = o.items.map((i) => i.sku);
      const [stock, prices] = await Promise.all([
        ports.inventory.availability({ skus }),
        ports.pricing.quote({ skus, channel: o.channel }),
      ]);
      for (const it of o.items) {
        const available = Math.max(0, stock[it.sku] ?? 0);
        const quantity = Math.min(it.quantity, available);
        const unitPrice = prices[it.sku]?.amount;
        if (quantity > 0 && unitPrice !== undefined) {
          cart = await ports.cart.addItem({
            cartId: cart.id,
            sku: it.sku,
            productId: it.productId,
            quantity,
            unitPrice,
          });
        }
      }
      return publicCart(cart);
    },
    async listStores(a: { zip: string }) {
      return ports.inventory.findStores({ zip: a.zip });
    },
    async getStoreInventory(a: { storeId: string; sku: string }) {
      return ports.inventory.storeInventory(a);
    },
  };
}
