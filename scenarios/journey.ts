/**
 * Journeys: what one iteration of a shopper does, as ordered HTTP steps. These are the resolved,
 * validated shapes the engine executes, the k6 exporter translates and the contract test checks.
 * The YAML form and its parser live in `scenarios/profile-parser.ts`; docs/profiles.md documents both.
 *
 * Templates: strings may contain `{{name}}` placeholders, resolved per iteration from (in order)
 * values extracted by earlier steps, data-pool picks bound by the journey (`data`), and built-ins
 * (`{{iteration}}`, `{{uuid}}`, `{{channel}}`, `{{vu}}`). Secrets never appear in templates: they
 * come from `auth` (environment variable or file), are added at send time and never written out.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Think time after a step, in event seconds (scaled to wall time by the run's time scale). */
export type ThinkTime =
  | { dist: 'constant'; seconds: number }
  | { dist: 'uniform'; min: number; max: number }
  | { dist: 'exponential'; mean: number; max?: number }
  | { dist: 'normal'; mean: number; sd: number; min?: number; max?: number };

/** A check on a response; a failed check counts as a failed request of kind `check`. */
export interface StepCheck {
  /** Accepted status codes. */
  status?: number[];
  /** JSON paths that must exist in the body (e.g. `$.items[0].id`). */
  exists?: string[];
  /** JSON path → expected value (compared with ===). */
  equals?: Record<string, string | number | boolean | null>;
}

/** A GraphQL request; sent as POST `path` with `{query, variables}`. */
export interface GraphqlRequest {
  query: string;
  /** Variables; string values are templates. */
  variables?: Record<string, unknown>;
  operationName?: string;
}

export interface JourneyStep {
  /** Unique within the journey; the `step` tag. */
  name: string;
  method: HttpMethod;
  /** Path template, e.g. `/api/products/{{productId}}`; query strings allowed. */
  path: string;
  headers?: Record<string, string>;
  /** JSON body template (string leaves are templates). Mutually exclusive with `graphql`. */
  body?: unknown;
  graphql?: GraphqlRequest;
  /** Variable name → JSON path into the response body (`$.items[0].id`). */
  extract?: Record<string, string>;
  check?: StepCheck;
  think?: ThinkTime;
  /** Extra tags on this step's metrics. */
  tags?: Record<string, string>;
  /** Contract operation id this step exercises (checked against the API contract). */
  operation?: string;
}

/** Binds a template variable to a data pool; a value is drawn per iteration. */
export interface DataBinding {
  /** Pool name: built-in (`productIds`, `skus`, `hotSkus`, `categories`, `storeIds`, `searchTerms`) or a user pool. */
  pool: string;
  /** For object pools (CSV rows, JSON objects): the field to take. */
  field?: string;
  /** `random` (default, seeded) or `sequential`. */
  pick?: 'random' | 'sequential';
}

/** Where an auth header's secret comes from. Never logged, never written to a run directory. */
export interface AuthSpec {
  header: string;
  /** Prefix before the secret, e.g. `Bearer `. */
  prefix?: string;
  fromEnv?: string;
  fromFile?: string;
}

export interface Journey {
  name: string;
  steps: JourneyStep[];
  data?: Record<string, DataBinding>;
  auth?: AuthSpec;
  /** Number of HTTP requests one iteration makes (= steps.length). */
  requestsPerIteration: number;
}
