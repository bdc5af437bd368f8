/**
 * Custom metrics mapped in peakday.config.yaml (`metrics:`), through the CLI against the local AWS
 * endpoint: a service's requests, latency and queue depth read from the user's own CloudWatch
 * namespace and dimensions, in place of the discovered metric; a bad mapping is exit 2 at
 * file:line:column before anything is read.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../core/run-format.ts';
import { startFakeAws } from '../telemetry/test-aws-server.ts';
import { localAwsEnv, runCli } from './cli-helper.ts';

const TG = 'targetgroup/cart/73e2d6bc24d8a067';

describe('custom metrics from peakday.config.yaml', () => {
  it('reads a service’s requests, latency and queue depth from the user’s namespace and dimensions', async () => {
    const aws = await startFakeAws({
      cluster: 'shop',
      services: [
        // cart sits behind a target group; its mapped request metric replaces the ALB's.
        {
          name: 'cart',
          taskDefinition: 'cart:3',
          targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:1:${TG}`,
        },
        { name: 'worker', taskDefinition: 'worker:1' },
      ],
      loadBalancers: { [TG]: 'app/shop/50dc6c495c0c9188' },
      metric: (key, ts) => {
        const d = key.dimensions ?? {};
        const minute = Math.floor(ts / 60) % 1000;
        if (key.name === 'RunningTaskCount' || key.name === 'DesiredTaskCount') return 2;
        if (key.name === 'CPUUtilization') return 40;
        if (key.namespace === 'AWS/ApplicationELB' && key.name === 'RequestCount') return 999_999;
        if (
          key.namespace === 'Shop/Cart' &&
          key.name === 'CartRequests' &&
          d.Service === 'cart' &&
          d.Env === 'prod'
        )
          return 600 + minute;
        if (
          key.namespace === 'Shop/Cart' &&
          key.name === 'CartLatency' &&
          d.Service === 'cart' &&
          key.stat === 'p95'
        )
          return 0.25;
        if (
          key.namespace === 'AWS/SQS' &&
          key.name === 'ApproximateNumberOfMessagesVisible' &&
          d.QueueName === 'jobs' &&
          key.stat === 'Maximum'
        )
          return 17;
        return undefined;
      },
      activities: [],
    });
    const env = localAwsEnv(aws.url);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'peakday-custom-metrics-'));
      writeFileSync(
        join(dir, 'peakday.config.yaml'),
        [
          'metrics:',
          '  cart:',
          '    requests: { namespace: Shop/Cart, name: CartRequests, dimensions: { Service: cart, Env: prod } }',
          '    latency: { namespace: Shop/Cart, name: CartLatency, dimensions: { Service: cart }, stat: p95, unit: s }',
          '  worker:',
          '    queueDepth: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: jobs } }',
          '  ghost:',
          '    requests: { namespace: Shop, name: GhostRequests }',
          '',
        ].join('\n'),
      );
      const out = join(dir, 'window');
      const c = await runCli(
        [
          'collect',
          '--source',
          'cloudwatch',
          '--cluster',
          'shop',
          '--from',
          '-30m',
          '--to',
          '-20m',
          '--out',
          out,
          '--json',
        ],
        { cwd: dir, env },
      );
      expect(c.code, c.stderr).toBe(0);
      const info = JSON.parse(c.stdout) as { notes: string[] };
      const tl = readFileSync(join(out, 'timeline.ndjson'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as TimelineRecord);
      const cart = tl.filter((r) => r.service === 'cart' && !r.noData);
      expect(cart.length).toBeGreaterThanOrEqual(10);
      for (const r of cart) {
        const minute =
          Math.floor(
            (Date.parse(JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')).startedAt) / 1000 + r.t) /
              60,
          ) % 1000;
        expect(r.requests).toBe(600 + minute);
        expect(r.requestsFrom).toBe('custom-metric');
        expect(r.responseTimeP95Ms).toBe(250);
      }
      expect(tl.filter((r) => r.service === 'worker' && !r.noData).every((r) => r.queueDepth === 17)).toBe(
        true,
      );
      // The ALB's RequestCount was not asked for cart: its field is the user's metric.
      const asked = aws.requests
        .filter((r) => r.operation.endsWith('GetMetricData'))
        .flatMap(
          (r) =>
            r.body.MetricDataQueries as {
              MetricStat?: { Metric: { Namespace: string; MetricName: string } };
            }[],
        )
        .map((q) => `${q.MetricStat?.Metric.Namespace}/${q.MetricStat?.Metric.MetricName}`);
      expect(asked).not.toContain('AWS/ApplicationELB/RequestCount');
      expect(asked).toContain('Shop/Cart/CartRequests');
      expect(info.notes.join('\n')).toMatch(/metrics: ghost is not a service collected from cluster shop/);
      // worker's queue depth is not a request metric: it still has none, and the note says so.
      expect(info.notes.join('\n')).toMatch(
        /worker: neither a load balancer target group nor Service Connect/,
      );

      // A bad mapping: every problem at its line and column, exit 2, nothing read.
      writeFileSync(
        join(dir, 'peakday.config.yaml'),
        [
          'metrics:',
          '  cart:',
          '    requests: { namespace: Shop/Cart, stat: Total }',
          '    depth: {}',
          '',
        ].join('\n'),
      );
      const before = aws.requests.length;
      const bad = await runCli(
        [
          'collect',
          '--source',
          'cloudwatch',
          '--cluster',
          'shop',
          '--from',
          '-30m',
          '--out',
          join(dir, 'w2'),
        ],
        { cwd: dir, env },
      );
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/peakday\.config\.yaml:3:\d+: metrics\.cart\.requests: .*name/);
      expect(bad.stderr).toMatch(
        /peakday\.config\.yaml:3:\d+: metrics\.cart\.requests\.stat: is "Total", not a CloudWatch statistic/,
      );
      expect(bad.stderr).toMatch(/peakday\.config\.yaml:4:\d+: metrics\.cart.*depth/);
      expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/);
      expect(aws.requests.length).toBe(before);
    } finally {
      await aws.close();
    }
  });
});
