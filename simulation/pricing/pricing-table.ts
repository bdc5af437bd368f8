/**
 * The versioned pricing table the cost model reads. Every price carries its unit, where it came from
 * and when, and whether it is verified; unverified prices are shown as such wherever a cost rests on
 * them. Users override any price by key (`peakday.config.yaml` `pricing.overrides`, e.g.
 * `fargate.x86.vcpuHour: 0.04`); an overridden price says so and keeps its original for reference.
 *
 * Sources are the dated entries of docs/sources.md, "Prices" (secondary sources citing
 * AWS); the three prices collected later for the cost model name their pages below (also listed there).
 */
import { PeakdayError, type Problem } from '../../core/errors.ts';

/** Bumped whenever a price, unit or source changes; printed in every cost report. */
export const PRICING_TABLE_VERSION = '2026-12-03.1';

/** Every price the cost model uses, by stable key. */
export type PriceKey =
  | 'fargate.x86.vcpuHour'
  | 'fargate.x86.gbHour'
  | 'fargate.arm.vcpuHour'
  | 'fargate.arm.gbHour'
  | 'fargate.minimumSeconds'
  | 'alb.hour'
  | 'alb.lcuHour'
  | 'alb.freeRules'
  | 'dynamodb.wruMillion'
  | 'dynamodb.rruMillion'
  | 'eventbridge.eventsMillion'
  | 'cloudwatch.getMetricDataThousandMetrics'
  | 'cloudwatch.logIngestionGb'
  | 'cloudwatch.metricMonth'
  | 'secretsmanager.secretMonth'
  | 'transfer.crossAzGbEachWay'
  | 'nat.hour'
  | 'vpce.interfaceAzHour'
  | 'ipv4.publicHour'
  | 'cloudfront.https10k'
  | 'cloudfront.transferGb'
  | 'cloudfront.invalidationPath';

/** One price with its provenance. */
export interface Price {
  key: PriceKey;
  /** USD per `unit` (or a count for `fargate.minimumSeconds` and `alb.freeRules`). */
  value: number;
  unit: string;
  source: string;
  /** When the source stated it. */
  date: string;
  verified: boolean;
  /** Set when a user override replaced the table's value. */
  overridden?: { original: number; by: string };
}

/** A resolved table for one region. */
export interface PricingTable {
  version: string;
  region: string;
  prices: Record<PriceKey, Price>;
  /** Regions for which the table has prices; others are rejected with a hint to override. */
  notes: string[];
}

const SOURCES = 'docs/sources.md, Prices';

type BasePrice = Omit<Price, 'key' | 'overridden'>;

const US_EAST_1 = {
  'fargate.x86.vcpuHour': {
    value: 0.04048,
    unit: 'USD per vCPU-hour (billed per second, 1-min minimum)',
    source: `${SOURCES} (Fargate Linux/x86)`,
    date: '2026-03/04',
    verified: true,
  },
  'fargate.x86.gbHour': {
    value: 0.004445,
    unit: 'USD per GB-hour',
    source: `${SOURCES} (Fargate Linux/x86)`,
    date: '2026-03/04',
    verified: true,
  },
  'fargate.arm.vcpuHour': {
    value: 0.03238,
    unit: 'USD per vCPU-hour',
    source: `${SOURCES} (Fargate Linux/ARM)`,
    date: 'unverified date',
    verified: false,
  },
  'fargate.arm.gbHour': {
    value: 0.00356,
    unit: 'USD per GB-hour',
    source: `${SOURCES} (Fargate Linux/ARM)`,
    date: 'unverified date',
    verified: false,
  },
  'fargate.minimumSeconds': {
    value: 60,
    unit: 'seconds billed at least per task',
    source: `${SOURCES} (per second with 1-min minimum)`,
    date: '2026-03/04',
    verified: true,
  },
  'alb.hour': {
    value: 0.0225,
    unit: 'USD per load-balancer hour',
    source: `${SOURCES} (ALB)`,
    date: '2026-05',
    verified: true,
  },
  'alb.lcuHour': {
    value: 0.008,
    unit: 'USD per LCU-hour (LCU = max of 25 new conn/s, 3,000 active conn/min, 1 GB/h, 1,000 rule evals/s)',
    source: `${SOURCES} (ALB)`,
    date: '2026-05',
    verified: true,
  },
  'alb.freeRules': {
    value: 10,
    unit: 'rules evaluated free per request before rule evaluations count toward LCUs',
    source: 'AWS Elastic Load Balancing pricing page (as commonly cited; docs/sources.md, Prices)',
    date: 'undated',
    verified: false,
  },
  'dynamodb.wruMillion': {
    value: 0.625,
    unit: 'USD per million write request units (on-demand)',
    source: `${SOURCES} (DynamoDB on-demand, after the Nov 2024 cut)`,
    date: '2025',
    verified: true,
  },
  'dynamodb.rruMillion': {
    value: 0.125,
    unit: 'USD per million read request units (on-demand)',
    source: `${SOURCES} (DynamoDB on-demand, after the Nov 2024 cut)`,
    date: '2025',
    verified: true,
  },
  'eventbridge.eventsMillion': {
    value: 1.0,
    unit: 'USD per million custom events (64 KB chunks)',
    source: `${SOURCES} (EventBridge)`,
    date: '2026-03',
    verified: true,
  },
  'cloudwatch.getMetricDataThousandMetrics': {
    value: 0.01,
    unit: 'USD per 1,000 metrics requested (GetMetricData)',
    source: `${SOURCES} (CloudWatch GetMetricData)`,
    date: 'undated',
    verified: false,
  },
  'cloudwatch.logIngestionGb': {
    value: 0.5,
    unit: 'USD per GB ingested (standard log class; EMF metric records are log events)',
    source:
      'https://c3x.dev/blog/cloudwatch-logs-cost-optimization (us-east-1, June 2026) and https://hykell.com/knowledge-base/aws-cloudwatch-logs-pricing; secondary sources (docs/sources.md, Prices)',
    date: '2026-06',
    verified: false,
  },
  'cloudwatch.metricMonth': {
    value: 0.3,
    unit: 'USD per metric per month (first 10,000 metrics; prorated by the hour); what CloudFront additional metrics bill per metric',
    source:
      'https://aws.amazon.com/cloudwatch/pricing/ (metrics, first 10,000 per month), and CloudFront Developer Guide, "Estimate the cost for the additional CloudFront metrics" (up to 8 metrics per distribution, billed as CloudWatch metrics) (docs/sources.md, Prices)',
    date: 'undated',
    verified: false,
  },
  'secretsmanager.secretMonth': {
    value: 0.4,
    unit: 'USD per secret per month (prorated by the hour; plus $0.05 per 10,000 API calls)',
    source: 'https://aws.amazon.com/secrets-manager/pricing/ (docs/sources.md, Prices)',
    date: 'undated',
    verified: false,
  },
  'transfer.crossAzGbEachWay': {
    value: 0.01,
    unit: 'USD per GB in each direction between AZs of one region',
    source:
      'commonly cited figure (https://www.bitsand.cloud/posts/slashing-data-transfer-costs, https://finopsforge.com/reduce-aws-data-transfer-costs); Duckbill Group (2019) measured bills suggesting more — unverified against AWS (docs/sources.md, Prices)',
    date: 'undated',
    verified: false,
  },
  'nat.hour': {
    value: 0.045,
    unit: 'USD per NAT gateway hour (plus $0.045 per GB processed)',
    source: `${SOURCES} (NAT gateway)`,
    date: '2026-02',
    verified: true,
  },
  'vpce.interfaceAzHour': {
    value: 0.01,
    unit: 'USD per interface VPC endpoint per Availability Zone hour (plus per GB processed)',
    source: `${SOURCES} (VPC interface endpoints; AWS PrivateLink pricing page as commonly cited)`,
    date: 'undated',
    verified: false,
  },
  'ipv4.publicHour': {
    value: 0.005,
    unit: 'USD per public IPv4 address hour (an internet-facing ALB holds one per AZ)',
    source: `${SOURCES} (public IPv4 addresses; AWS announcement of July 2023, in force Feb 2024)`,
    date: '2024-02',
    verified: false,
  },
  'cloudfront.https10k': {
    value: 0.01,
    unit: 'USD per 10,000 HTTPS requests (United States)',
    source: `${SOURCES} (CloudFront; https://aws.amazon.com/cloudfront/pricing/)`,
    date: '2026-12',
    verified: false,
  },
  'cloudfront.transferGb': {
    value: 0.085,
    unit: 'USD per GB out to the internet (first 10 TB a month, United States; origin fetches from AWS free)',
    source: `${SOURCES} (CloudFront; https://aws.amazon.com/cloudfront/pricing/)`,
    date: '2026-12',
    verified: true,
  },
  'cloudfront.invalidationPath': {
    value: 0.005,
    unit: 'USD per invalidation path beyond the first 1,000 a month',
    source: `${SOURCES} (CloudFront; How AWS Pricing Works)`,
    date: '2026-12',
    verified: true,
  },
} satisfies Record<PriceKey, BasePrice>;

/** Per-region tables. Only us-east-1 is sourced; other regions must override what they use. */
export const REGION_TABLES = {
  'us-east-1': US_EAST_1,
} satisfies Record<string, Record<PriceKey, BasePrice>>;

/** The region used when none is configured. */
export const DEFAULT_REGION = 'us-east-1';

/** Every price key, in display order. */
export const PRICE_KEYS = Object.keys(US_EAST_1) as PriceKey[];

/** Options of {@link resolvePricing}. */
export interface PricingOptions {
  region?: string;
  /** Price overrides by key (from `pricing.overrides`). */
  overrides?: Record<string, number>;
  /** Where the overrides came from, for provenance (e.g. the config file path). */
  overrideSource?: string;
}

/**
 * Resolves the table for a region with the user's overrides applied. An unknown region falls back
 * to us-east-1 prices marked unverified (with a note), so a report still says what it rests on; an
 * unknown override key is an error (exit 2) listing the valid keys.
 */
export function resolvePricing(options: PricingOptions = {}): PricingTable {
  const region = options.region ?? DEFAULT_REGION;
  const notes: string[] = [];
  const known = (REGION_TABLES as Record<string, Record<PriceKey, BasePrice>>)[region];
  const base = known ?? US_EAST_1;
  if (!known)
    notes.push(
      `no sourced prices for region ${region}: us-east-1 prices are used and marked unverified; set pricing.overrides for ${region}`,
    );
  const prices = {} as Record<PriceKey, Price>;
  for (const key of PRICE_KEYS) {
    const b = base[key];
    prices[key] = { key, ...b, verified: b.verified && known !== undefined };
  }
  const problems: Problem[] = [];
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (!(PRICE_KEYS as string[]).includes(key)) {
      problems.push({
        ...(options.overrideSource ? { file: options.overrideSource } : {}),
        path: `pricing.overrides.${key}`,
        message: `unknown price key ${key}`,
        expected: `one of ${PRICE_KEYS.join(', ')}`,
      });
      continue;
    }
    if (!Number.isFinite(value) || value < 0) {
      problems.push({
        path: `pricing.overrides.${key}`,
        message: `price must be a number >= 0, got ${value}`,
      });
      continue;
    }
    const p = prices[key as PriceKey];
    prices[key as PriceKey] = {
      ...p,
      value,
      source: `user override (${options.overrideSource ?? 'pricing.overrides'})`,
      verified: true,
      overridden: { original: p.value, by: options.overrideSource ?? 'pricing.overrides' },
    };
  }
  if (problems.length > 0)
    throw new PeakdayError('pricing-invalid', `pricing overrides: ${problems.length} problem(s) found`, {
      problems,
      hint: 'fix pricing.overrides in peakday.config.yaml',
    });
  return { version: PRICING_TABLE_VERSION, region, prices, notes };
}
