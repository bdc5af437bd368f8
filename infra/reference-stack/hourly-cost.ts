/**
 * What the reference stack on AWS costs per hour, from the project's pricing table
 * (simulation/pricing/pricing-table.ts, every price with its source): shown by `stack deploy --aws`
 * before it asks to continue, and in docs/aws.md. Pure; no AWS SDK or CDK.
 *
 * Idle: every service at its scaling file's minimum capacity, the load balancer with no traffic, the
 * NAT gateway and interface endpoints that exist whether used or not. At a rehearsal: the task-hours
 * the rehearsal's peak needs (the caller passes the tasks per service). Per-use charges (DynamoDB
 * requests, EventBridge events, log ingestion, LCUs, data processed) are listed as such, not guessed.
 */
import type { ScalingConfig } from '../../reference-stack/autoscaling/scaling-file.ts';
import { type Arch, TOPOLOGIES, type Topology } from '../../reference-stack/topology.ts';
import type { PriceKey, PricingTable } from '../../simulation/pricing/pricing-table.ts';

/** One line of the estimate: what, how many, the price keys it rests on, USD per hour. */
export interface CostLine {
  item: string;
  quantity: string;
  usdPerHour: number;
  priceKeys: PriceKey[];
  /** False when any price it rests on is unverified (shown as such). */
  verified: boolean;
}

/** The estimate for one topology. */
export interface HourlyCost {
  arch: Arch;
  region: string;
  pricingVersion: string;
  lines: CostLine[];
  usdPerHour: number;
  /** Charges that scale with use and are not in `usdPerHour`. */
  perUse: string[];
  /** Caveats (Spot priced as on-demand, unverified prices, ...). */
  notes: string[];
}

/** What the estimate needs about the deployment. */
export interface CostInputs {
  arch: Arch;
  scaling: ScalingConfig;
  natGateways: 0 | 1;
  cpuArchitecture: 'arm64' | 'x86_64';
  spot: boolean;
  /** A CloudFront distribution in front of the ALB: no hourly charge, priced per use (default false). */
  edge?: boolean;
  /** Tasks per service to price (default: each service's minimum capacity: idle). */
  tasks?: Partial<Record<string, number>>;
}

/** Interface endpoints the stack creates per topology (infra/reference-stack/stack.ts). */
export function interfaceEndpointCount(arch: Arch): number {
  return TOPOLOGIES[arch].bus === 'http' ? 6 : 4;
}

/**
 * The metrics CloudFront's additional metrics add per distribution, each billed as a CloudWatch metric
 * (CloudFront Developer Guide, "Estimate the cost for the additional CloudFront metrics": up to 8).
 */
export const CLOUDFRONT_ADDITIONAL_METRICS = 8;

/** Hours in a month as AWS prorates monthly charges (730 = 8,760 / 12). */
const HOURS_PER_MONTH = 730;

/** Availability Zones the stack spans (infra/common/network.ts AZ_COUNT). */
const AZS = 2;

/** Computes the hourly cost of a deployment. Pure. */
export function computeHourlyCost(inputs: CostInputs, pricing: PricingTable): HourlyCost {
  const p = pricing.prices;
  const lines: CostLine[] = [];
  const line = (item: string, quantity: string, usdPerHour: number, priceKeys: PriceKey[]) =>
    lines.push({ item, quantity, usdPerHour, priceKeys, verified: priceKeys.every((k) => p[k].verified) });
  const topology: Topology = TOPOLOGIES[inputs.arch];
  const [vKey, mKey]: PriceKey[] =
    inputs.cpuArchitecture === 'arm64'
      ? ['fargate.arm.vcpuHour', 'fargate.arm.gbHour']
      : ['fargate.x86.vcpuHour', 'fargate.x86.gbHour'];
  for (const [name, spec] of Object.entries(topology.deployables)) {
    if (!spec || spec.standsInFor) continue;
    const n = inputs.tasks?.[name] ?? inputs.scaling.services[name]?.minCapacity ?? spec.minTasks;
    const { vcpu, memoryGb } = spec.taskSize;
    line(
      `Fargate ${name}`,
      `${n} × ${vcpu} vCPU / ${memoryGb} GB`,
      n * (vcpu * p[vKey!].value + memoryGb * p[mKey!].value),
      [vKey!, mKey!],
    );
  }
  if (inputs.edge) {
    line('CloudFront distribution', '1 (no idle charge)', 0, []);
    line(
      'CloudFront additional metrics',
      `${CLOUDFRONT_ADDITIONAL_METRICS} CloudWatch metrics`,
      (CLOUDFRONT_ADDITIONAL_METRICS * p['cloudwatch.metricMonth'].value) / HOURS_PER_MONTH,
      ['cloudwatch.metricMonth'],
    );
    line(
      'Secrets Manager secret',
      '1 (the secret origin header)',
      p['secretsmanager.secretMonth'].value / HOURS_PER_MONTH,
      ['secretsmanager.secretMonth'],
    );
  }
  line('Application Load Balancer', '1 (idle: no LCUs)', p['alb.hour'].value, ['alb.hour']);
  line('public IPv4 of the ALB', `${AZS} addresses`, AZS * p['ipv4.publicHour'].value, ['ipv4.publicHour']);
  if (inputs.natGateways > 0)
    line('NAT gateway', `${inputs.natGateways}`, inputs.natGateways * p['nat.hour'].value, ['nat.hour']);
  const endpoints = interfaceEndpointCount(inputs.arch);
  line(
    'VPC interface endpoints',
    `${endpoints} × ${AZS} AZs`,
    endpoints * AZS * p['vpce.interfaceAzHour'].value,
    ['vpce.interfaceAzHour'],
  );
  const usdPerHour = lines.reduce((a, l) => a + l.usdPerHour, 0);
  const notes: string[] = [...pricing.notes];
  if (inputs.spot)
    notes.push(
      'Fargate Spot is priced here as on-demand (an upper bound): Spot prices vary and are not in the table',
    );
  if (lines.some((l) => !l.verified))
    notes.push('lines marked * rest on unverified prices (docs/sources.md)');
  notes.push(
    'DynamoDB on demand, CloudWatch dashboards and alarms and S3 access logs have no meaningful hourly floor',
  );
  return {
    arch: inputs.arch,
    region: pricing.region,
    pricingVersion: pricing.version,
    lines,
    usdPerHour,
    perUse: [
      `DynamoDB: $${p['dynamodb.rruMillion'].value} per million reads, $${p['dynamodb.wruMillion'].value} per million writes`,
      ...(topology.bus === 'http'
        ? [`EventBridge: $${p['eventbridge.eventsMillion'].value} per million events`]
        : []),
      `ALB: $${p['alb.lcuHour'].value} per LCU-hour under load`,
      `CloudWatch Logs: $${p['cloudwatch.logIngestionGb'].value} per GB ingested`,
      ...(inputs.natGateways > 0 ? ['NAT gateway: $0.045 per GB processed'] : []),
      ...(inputs.edge
        ? [
            `CloudFront: $${p['cloudfront.https10k'].value} per 10,000 HTTPS requests${p['cloudfront.https10k'].verified ? '' : ' *'}, $${p['cloudfront.transferGb'].value} per GB out${p['cloudfront.transferGb'].verified ? '' : ' *'}, $${p['cloudfront.invalidationPath'].value} per invalidation path beyond 1,000 a month (the price-change purge: 2 paths per changed SKU, the product and its category's pages, fewer when a batch shares a category); CloudFront Functions (the viewer allow-list) per invocation, not in the pricing table`,
          ]
        : []),
    ],
    notes,
  };
}

/** Formats an estimate for the terminal (the prompt before deploying shows this). */
export function formatHourlyCost(c: HourlyCost): string {
  const out = [`Hourly cost of the ${c.arch} stack in ${c.region} (pricing table ${c.pricingVersion}):`];
  const width = Math.max(...c.lines.map((l) => l.item.length));
  for (const l of c.lines)
    out.push(
      `  ${l.item.padEnd(width)}  ${l.quantity.padEnd(22)}  $${l.usdPerHour.toFixed(4)}/h${l.verified ? '' : ' *'}`,
    );
  out.push(`  ${'total'.padEnd(width)}  ${''.padEnd(22)}  $${c.usdPerHour.toFixed(4)}/h`);
  out.push('  plus, per use:');
  for (const u of c.perUse) out.push(`    ${u}`);
  for (const n of c.notes) out.push(`  note: ${n}`);
  return out.join('\n');
}
