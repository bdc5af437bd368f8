/**
 * Data pools: the values a journey's `data:` bindings draw per iteration. Built-in pools come from
 * the seeded catalog (scenarios/catalog.ts), the same one the reference stack serves, so a product
 * id drawn here exists there. User pools are CSV (header row; rows become objects) or JSON (an array)
 * files named by the profile. Reading files is the I/O edge; picking is seeded and pure.
 */
import { readFileSync } from 'node:fs';
import { type Problem, validationError } from '../core/errors.ts';
import type { Rng } from '../core/rng.ts';
import { type Catalog, type CatalogOptions, createCatalog } from './catalog.ts';
import { parseCsv } from './csv.ts';
import type { DataBinding } from './journey.ts';
import type { UserPoolModel } from './profile-model.ts';

export { parseCsv };

/** A pool's values: strings, or objects (CSV rows, JSON objects) read through a binding's `field`. */
export type PoolValues = readonly unknown[];

/** Built-in pools and how each is taken from the catalog. */
export const builtinPools = {
  productIds: (c) => c.productIds,
  skus: (c) => c.skus,
  hotSkus: (c) => c.hotSkus,
  hotProductIds: (c) => c.hotSkus.map((s) => c.bySku.get(s)?.id ?? s),
  /** The single most popular SKU and its product (a product drop targets one SKU). */
  topSku: (c) => c.hotSkus.slice(0, 1),
  topProductId: (c) => c.hotSkus.slice(0, 1).map((s) => c.bySku.get(s)?.id ?? s),
  categories: (c) => c.categories.map((x) => x.id),
  storeIds: (c) => c.storeIds,
  storeZips: (c) => c.stores.map((s) => s.zip),
  searchTerms: (c) => c.searchTerms,
  customerIds: (c) => c.customerIds,
} satisfies Record<string, (c: Catalog) => PoolValues>;

/** Names of the built-in pools, for validation and hints. */
export const BUILTIN_POOL_NAMES = Object.keys(builtinPools) as (keyof typeof builtinPools)[];

/** Reads a user pool file; problems (missing file, bad content, empty) are reported located. */
export function readUserPool(pool: UserPoolModel): { values?: PoolValues; problem?: Omit<Problem, 'file'> } {
  let text: string;
  try {
    text = readFileSync(pool.file, 'utf8');
  } catch {
    return {
      problem: {
        message: `data file ${pool.file} cannot be read`,
        expected: 'an existing CSV or JSON file',
        hint: 'paths are relative to the profile file',
      },
    };
  }
  if (pool.format === 'csv') {
    const values = parseCsv(text);
    if (values.length === 0) {
      // Say where in the CSV the rows should have started: after the header, or at its top.
      const headerOnly = text.trim() !== '';
      const lines = text.replace(/\r?\n+$/, '').split(/\r?\n/).length;
      return {
        problem: {
          message: headerOnly
            ? `data file ${pool.file}:${lines + 1}:1: has a header but no rows`
            : `data file ${pool.file}:1:1: is empty`,
          expected: 'a header row and at least one row',
          hint: 'a journey draws one row per iteration: add rows below the header',
        },
      };
    }
    return { values };
  }
  try {
    const data = JSON.parse(text) as unknown;
    if (!Array.isArray(data) || data.length === 0)
      return {
        problem: {
          message: `data file ${pool.file} is not a non-empty JSON array`,
          expected: 'a JSON array',
        },
      };
    return { values: data };
  } catch (e) {
    return {
      problem: {
        message: `data file ${pool.file} is not valid JSON (${(e as Error).message})`,
        expected: 'a JSON array',
      },
    };
  }
}

/**
 * The columns a pool's rows have (CSV header names, or the keys every JSON object shares), so the
 * parser can check a binding's `field` before any load is sent; null when the values are not objects.
 */
export function poolColumns(values: PoolValues): string[] | null {
  let cols: Set<string> | null = null;
  for (const v of values) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
    const keys = Object.keys(v);
    if (cols === null) cols = new Set(keys);
    else for (const k of cols) if (!keys.includes(k)) cols.delete(k);
  }
  return cols === null ? null : [...cols];
}

/** Every pool a plan's journeys can draw from: built-ins from the catalog plus the profile's user pools. */
export function createDataPools(
  userPools: readonly UserPoolModel[],
  catalogOptions: CatalogOptions = {},
): Record<string, PoolValues> {
  const catalog = createCatalog(catalogOptions);
  const out: Record<string, PoolValues> = {};
  for (const name of BUILTIN_POOL_NAMES) out[name] = builtinPools[name](catalog);
  const problems: Problem[] = [];
  for (const p of userPools) {
    const r = readUserPool(p);
    if (r.problem) problems.push({ ...r.problem, path: `pools.${p.name}` });
    else out[p.name] = r.values as PoolValues;
  }
  if (problems.length > 0) throw validationError('data-pool-invalid', 'data pools', problems);
  return out;
}

/**
 * A segment's share of a sequential pool: it takes values offset, offset + step, offset + 2·step, ...
 * (segment i of N: offset i − 1, step N), so N segments together take the pool in order once, the
 * way a single generator would, instead of each replaying it from the start.
 */
export interface PickStride {
  offset: number;
  step: number;
}

/** A picker that draws a value per iteration for one binding: seeded random or sequential (strided for a segment). */
export function createPicker(
  values: PoolValues,
  binding: DataBinding,
  rng: Rng,
  stride: PickStride = { offset: 0, step: 1 },
): () => string {
  let next = stride.offset;
  const take = (v: unknown): string => {
    const x =
      binding.field !== undefined && v !== null && typeof v === 'object'
        ? (v as Record<string, unknown>)[binding.field]
        : v;
    return typeof x === 'string' ? x : JSON.stringify(x);
  };
  if (binding.pick === 'sequential') {
    return () => {
      const v = values[next % values.length];
      next += stride.step;
      return take(v);
    };
  }
  return () => take(values[rng.int(values.length)]);
}
