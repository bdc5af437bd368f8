/** The worker's AWS configuration from the variables the CDK stack passes its tasks. */
import { describe, expect, it } from 'vitest';
import { withAwsEnv } from './aws-env.ts';
import type { WorkerConfig } from './worker-protocol.ts';

const base: WorkerConfig = {
  arch: 'headless',
  service: 'cart',
  port: 8080,
  host: '0.0.0.0',
  dataDir: '/tmp/peakday',
  peers: {},
  taskSize: { vcpu: 0.25, memoryGb: 0.5 },
  timeScale: 1,
  eventStart: 0,
};

describe('withAwsEnv', () => {
  it('leaves a worker without table, bus or queue variables on SQLite and the local bus', () => {
    expect(withAwsEnv(base, { AWS_REGION: 'eu-west-1', HOME: '/root' })).toEqual(base);
  });

  it('turns PEAKDAY_TABLE_<NAME> and AWS_REGION into the DynamoDB store, only the tables given', () => {
    const c = withAwsEnv(base, {
      AWS_REGION: 'eu-west-1',
      PEAKDAY_TABLE_CARTS: 'PeakdayHeadless-CartsTable1A2B',
      PEAKDAY_TABLE_EVENTS: 'PeakdayHeadless-EventsTable3C4D',
    });
    expect(c.dynamodb).toEqual({
      region: 'eu-west-1',
      tables: { carts: 'PeakdayHeadless-CartsTable1A2B', events: 'PeakdayHeadless-EventsTable3C4D' },
      seedCatalog: true,
    });
    expect(c.dynamodb?.endpoint).toBeUndefined();
    expect(c.eventBus).toBeUndefined();
    expect(c.eventQueue).toBeUndefined();
  });

  it('takes the bus and the queue, AWS_DEFAULT_REGION when AWS_REGION is absent, and the endpoint override for all three', () => {
    const c = withAwsEnv(base, {
      AWS_DEFAULT_REGION: 'us-west-2',
      PEAKDAY_TABLE_CARTS: 'carts-t',
      PEAKDAY_EVENT_BUS: 'peakday-headless',
      PEAKDAY_EVENT_QUEUE_URL: 'https://sqs.us-west-2.amazonaws.com/123456789012/CartEvents',
      PEAKDAY_AWS_ENDPOINT: 'http://127.0.0.1:4566',
    });
    expect(c.dynamodb).toMatchObject({ region: 'us-west-2', endpoint: 'http://127.0.0.1:4566' });
    expect(c.eventBus).toEqual({
      name: 'peakday-headless',
      region: 'us-west-2',
      endpoint: 'http://127.0.0.1:4566',
    });
    expect(c.eventQueue).toEqual({
      url: 'https://sqs.us-west-2.amazonaws.com/123456789012/CartEvents',
      region: 'us-west-2',
      endpoint: 'http://127.0.0.1:4566',
    });
  });

  it('turns PEAKDAY_DISTRIBUTION_ID into the CloudFront purge (no region of its own), and refuses it without a region', () => {
    const c = withAwsEnv(base, {
      AWS_REGION: 'eu-west-1',
      PEAKDAY_DISTRIBUTION_ID: 'E2QWRUHAPOMQZL',
      PEAKDAY_AWS_ENDPOINT: 'http://127.0.0.1:4566',
    });
    expect(c.cloudFront).toEqual({ distributionId: 'E2QWRUHAPOMQZL', endpoint: 'http://127.0.0.1:4566' });
    expect(c.dynamodb).toBeUndefined();
    expect(() => withAwsEnv(base, { PEAKDAY_DISTRIBUTION_ID: 'E1' })).toThrow(/PEAKDAY_DISTRIBUTION_ID/);
  });

  it('refuses tables, a bus or a queue without a region, naming the variables', () => {
    expect(() => withAwsEnv(base, { PEAKDAY_TABLE_STOCK: 'stock-t', PEAKDAY_EVENT_BUS: 'b' })).toThrow(
      /PEAKDAY_TABLE_STOCK, PEAKDAY_EVENT_BUS are set but AWS_REGION is not/,
    );
  });

  it('ignores empty variables', () => {
    expect(withAwsEnv(base, { PEAKDAY_TABLE_CARTS: ' ', PEAKDAY_EVENT_BUS: '' })).toEqual(base);
  });
});
