/**
 * The worker's AWS configuration from its environment. On ECS the CDK stack
 * (infra/reference-stack/stack.ts) passes a task only names: `PEAKDAY_TABLE_<NAME>` for each table
 * its modules use, `PEAKDAY_EVENT_BUS` when it publishes events, `PEAKDAY_EVENT_QUEUE_URL` when it
 * consumes them, and Fargate sets `AWS_REGION`. This turns those names into the worker's store, bus
 * and queue configuration, so the tasks share their state through DynamoDB and their events
 * through EventBridge and SQS. Without any of them the worker keeps SQLite and the local HTTP bus.
 *
 * `PEAKDAY_AWS_ENDPOINT` points every AWS client at one local endpoint (dynalite, the project's
 * test AWS server); never set on AWS. Pure: the environment is passed in.
 */
import { TABLE_NAMES, type TableName, tableEnvVar } from './store/dynamodb-tables.ts';
import type { WorkerConfig } from './worker-protocol.ts';

/** The environment variables read here (names, for docs and tests). */
export const AWS_ENV = {
  bus: 'PEAKDAY_EVENT_BUS',
  queueUrl: 'PEAKDAY_EVENT_QUEUE_URL',
  endpoint: 'PEAKDAY_AWS_ENDPOINT',
  distribution: 'PEAKDAY_DISTRIBUTION_ID',
} as const;

/**
 * The worker configuration with its AWS parts filled from `env`: `dynamodb` when any
 * `PEAKDAY_TABLE_<NAME>` is set, `eventBus` with `PEAKDAY_EVENT_BUS`, `eventQueue` with
 * `PEAKDAY_EVENT_QUEUE_URL`, `cloudFront` with `PEAKDAY_DISTRIBUTION_ID`. The region is `AWS_REGION`, else `AWS_DEFAULT_REGION`; a table, bus or
 * queue without a region is refused with a message naming what is missing (the worker exits with it
 * before it listens, so ECS's deployment circuit breaker sees a failing task, not a wrong one).
 */
export function withAwsEnv(config: WorkerConfig, env: Record<string, string | undefined>): WorkerConfig {
  const tables: Partial<Record<TableName, string>> = {};
  for (const t of TABLE_NAMES) {
    const v = env[tableEnvVar(t)]?.trim();
    if (v) tables[t] = v;
  }
  const bus = env[AWS_ENV.bus]?.trim();
  const queueUrl = env[AWS_ENV.queueUrl]?.trim();
  const hasTables = Object.keys(tables).length > 0;
  const distributionId = env[AWS_ENV.distribution]?.trim();
  if (!hasTables && !bus && !queueUrl && !distributionId) return config;
  const region = (env.AWS_REGION ?? env.AWS_DEFAULT_REGION)?.trim();
  if (!region) {
    const named = [
      ...Object.keys(tables).map((t) => tableEnvVar(t as TableName)),
      ...(bus ? [AWS_ENV.bus] : []),
      ...(queueUrl ? [AWS_ENV.queueUrl] : []),
      ...(distributionId ? [AWS_ENV.distribution] : []),
    ];
    throw new Error(
      `${named.join(', ')} ${named.length > 1 ? 'are' : 'is'} set but AWS_REGION is not: set AWS_REGION (Fargate sets it in every task)`,
    );
  }
  const endpoint = env[AWS_ENV.endpoint]?.trim() || undefined;
  const at = endpoint ? { endpoint } : {};
  return {
    ...config,
    ...(hasTables ? { dynamodb: { region, tables, seedCatalog: true, ...at } } : {}),
    ...(bus ? { eventBus: { name: bus, region, ...at } } : {}),
    ...(queueUrl ? { eventQueue: { url: queueUrl, region, ...at } } : {}),
    // CloudFront's API is global (signed for us-east-1 by the purger), so no region of its own.
    ...(distributionId ? { cloudFront: { distributionId, ...at } } : {}),
  };
}
