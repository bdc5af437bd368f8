import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScaling } from '../../reference-stack/autoscaling/scaling-file.ts';
import { SUBSCRIPTIONS } from '../../reference-stack/domain/context.ts';
import { DEFAULT_ROUTE_TTLS, routeOf } from '../../reference-stack/edge/cache-policy.ts';
import {
  TABLE_NAMES,
  TABLES,
  tableAccessOf,
  tableEnvVar,
} from '../../reference-stack/store/dynamodb-tables.ts';
import { TOPOLOGIES } from '../../reference-stack/topology.ts';
import { DEFAULT_BUDGETS_DIR } from '../../scenarios/budgets/defaults.ts';
import { readBudgets } from '../../scenarios/budgets/parse-budgets.ts';
import { buildReferenceApp, type ReferenceSynth, synthReferenceStack } from './app.ts';
import { CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST, edgeBehaviourSpecs } from './edge.ts';
import { computeBudgetAlarms } from './observability.ts';
import { ORIGIN_SECRET_HEADER } from './origin-access.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'peakday-cdk-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const resourcesOf = (t: Record<string, unknown>, type: string) =>
  Object.values(t.Resources as Resources).filter((r) => r.Type === type);

const cap = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`;

/** The container environment of a service's task definition, by variable name. */
function containerEnvironment(template: Record<string, unknown>, service: string): Record<string, unknown> {
  const td = Object.entries(template.Resources as Resources).find(
    ([id, r]) => r.Type === 'AWS::ECS::TaskDefinition' && id.startsWith(`${cap(service)}Task`),
  )?.[1];
  const env = ((td?.Properties.ContainerDefinitions as {
    Environment?: { Name: string; Value: unknown }[];
  }[]) ?? [])[0]?.Environment;
  return Object.fromEntries((env ?? []).map((e) => [e.Name, e.Value]));
}

const scaling = loadScaling();
const synths: Partial<Record<'headless' | 'monolith', ReferenceSynth>> = {};

beforeAll(async () => {
  synths.headless = await synthReferenceStack({ arch: 'headless', outdir: tempDir() });
  synths.monolith = await synthReferenceStack({ arch: 'monolith', outdir: tempDir() });
}, 240_000);

describe.each(['headless', 'monolith'] as const)('the %s template', (arch) => {
  const template = () => Template.fromJSON(synths[arch]!.template);
  const topology = TOPOLOGIES[arch];
  const deployables = Object.entries(topology.deployables).filter(([, d]) => !d.standsInFor);

  it('has one Fargate service per deployable, sized as the topology says, on ARM64', () => {
    const t = template();
    t.resourceCountIs('AWS::ECS::Service', arch === 'headless' ? 9 : 1);
    for (const [name, spec] of deployables) {
      t.hasResourceProperties('AWS::ECS::Service', { ServiceName: name });
      t.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Cpu: String(spec.taskSize.vcpu * 1024),
        Memory: String(spec.taskSize.memoryGb * 1024),
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
        ContainerDefinitions: [
          Match.objectLike({
            Environment: Match.arrayWith([
              { Name: 'PEAKDAY_WORKER', Value: Match.stringLikeRegexp(`"service":"${name}"`) },
            ]),
            HealthCheck: Match.objectLike({ Command: Match.arrayWith(['CMD']) }),
            LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          }),
        ],
      });
    }
  });

  it('puts an ALB with a /health check in front of the entry, closed unless CIDRs are given', () => {
    const t = template();
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: scaling.services[topology.entry]!.launch.healthCheck.intervalSeconds,
      Port: 8080,
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }]),
    });
    const sgs = resourcesOf(synths[arch]!.template, 'AWS::EC2::SecurityGroup').filter((r) =>
      String(r.Properties.GroupDescription).startsWith('ALB'),
    );
    expect(sgs).toHaveLength(1);
    expect(sgs[0]!.Properties.SecurityGroupIngress).toBeUndefined();
  });

  it('keys the tables for the front end queries, on demand, encrypted, with the design module', () => {
    const t = template();
    t.resourceCountIs('AWS::DynamoDB::Table', TABLE_NAMES.length);
    for (const name of TABLE_NAMES) {
      const d = TABLES[name];
      const keys = [{ AttributeName: d.partitionKey.name, KeyType: 'HASH' }];
      if ('sortKey' in d) keys.push({ AttributeName: d.sortKey.name, KeyType: 'RANGE' });
      t.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: keys,
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        ...(d.indexes.length > 0
          ? {
              GlobalSecondaryIndexes: d.indexes.map((i) =>
                Match.objectLike({
                  IndexName: i.name,
                  KeySchema: Match.arrayWith([{ AttributeName: i.partitionKey.name, KeyType: 'HASH' }]),
                }),
              ),
            }
          : {}),
      });
    }
  });

  it('has a ScalableTarget and policies per service equal to the default scaling file', () => {
    const targets = resourcesOf(synths[arch]!.template, 'AWS::ApplicationAutoScaling::ScalableTarget');
    expect(targets).toHaveLength(deployables.length);
    const t = template();
    for (const [name] of deployables) {
      const s = scaling.services[name]!;
      t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
        MinCapacity: s.minCapacity,
        MaxCapacity: s.maxCapacity,
        ScalableDimension: 'ecs:service:DesiredCount',
      });
    }
    const policies = resourcesOf(synths[arch]!.template, 'AWS::ApplicationAutoScaling::ScalingPolicy');
    expect(policies).toHaveLength(deployables.length);
    for (const p of policies) {
      expect(p.Properties.TargetTrackingScalingPolicyConfiguration).toMatchObject({
        TargetValue: 60,
        ScaleInCooldown: 300,
        ScaleOutCooldown: 300,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      });
    }
  });

  it('has no unacknowledged cdk-nag AwsSolutions finding, and every acknowledgement says why', () => {
    const nag = synths[arch]!.nag;
    expect(nag.findings).toEqual([]);
    expect(nag.acknowledged.length).toBeGreaterThan(0);
    for (const a of nag.acknowledged) expect(a.reason.length, a.id).toBeGreaterThan(20);
  });

  it('stages the services image as a Docker asset to build at deploy time, not at synth', () => {
    const manifest = JSON.parse(
      readFileSync(join(synths[arch]!.assemblyDir, `${synths[arch]!.stackName}.assets.json`), 'utf8'),
    ) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]!.source).toMatchObject({
      dockerFile: 'infra/reference-stack/Dockerfile',
      platform: 'linux/arm64',
    });
  });

  it('has a dashboard and enables Container Insights', () => {
    const t = template();
    t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: `peakday-${arch}` });
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: `peakday-${arch}`,
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });
});

describe('the headless template only', () => {
  it('connects the services through Service Connect, each by its name (the gateway too: the storefront calls it)', () => {
    const services = resourcesOf(synths.headless!.template, 'AWS::ECS::Service');
    for (const s of services) {
      const name = s.Properties.ServiceName as string;
      const sc = s.Properties.ServiceConnectConfiguration as { Enabled: boolean; Services?: unknown[] };
      expect(sc.Enabled, name).toBe(true);
      expect(sc.Services).toEqual([
        expect.objectContaining({ PortName: 'http', ClientAliases: [{ DnsName: name, Port: 8080 }] }),
      ]);
    }
  });

  it("sends the storefront's pages to the storefront's target group and the rest to the gateway", () => {
    const t = Template.fromJSON(synths.headless!.template);
    // The page paths over two rules (the ALB takes 3 values a condition), each behind the origin header.
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 10,
      Conditions: Match.arrayWith([
        { Field: 'path-pattern', PathPatternConfig: { Values: ['/', '/c/*', '/p/*'] } },
      ]),
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('PagesGroup') } }],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: Match.arrayWith([{ Field: 'path-pattern', PathPatternConfig: { Values: ['/cart'] } }]),
      Actions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('PagesGroup') } }],
    });
    const storefront = resourcesOf(synths.headless!.template, 'AWS::ECS::Service').find(
      (s) => s.Properties.ServiceName === 'storefront',
    );
    expect(JSON.stringify(storefront?.Properties.LoadBalancers)).toContain('PagesGroup');
  });

  it('routes every subscription of the local bus through an EventBridge rule to the consumer queue, with a DLQ', () => {
    const t = Template.fromJSON(synths.headless!.template);
    t.resourceCountIs('AWS::Events::EventBus', 1);
    const consumers = [...new Set(Object.values(SUBSCRIPTIONS).flat())];
    const rules = resourcesOf(synths.headless!.template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(consumers.length);
    for (const consumer of consumers) {
      const types = Object.entries(SUBSCRIPTIONS)
        .filter(([, cs]) => (cs as readonly string[]).includes(consumer))
        .map(([type]) => type);
      t.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: { source: ['peakday'], 'detail-type': types },
        Targets: [Match.objectLike({ DeadLetterConfig: Match.objectLike({ Arn: Match.anyValue() }) })],
      });
    }
  });

  it('grants each service only the tables its modules use', () => {
    const policies = resourcesOf(synths.headless!.template, 'AWS::IAM::Policy');
    const text = (p: (typeof policies)[number]) => JSON.stringify(p.Properties);
    const cartPolicy = policies.find((p) => /CartTaskTaskRole/.test(String(p.Properties.PolicyName)));
    expect(cartPolicy).toBeDefined();
    expect(text(cartPolicy!)).toMatch(/CartsTable/);
    expect(text(cartPolicy!)).not.toMatch(/StockTable|OrdersTable/);
  });

  it('lets every service write the tables it writes: inventory and orders their outbox in the events table', () => {
    const policies = resourcesOf(synths.headless!.template, 'AWS::IAM::Policy');
    type Statement = { Action: string | string[]; Resource: unknown };
    /** The actions a task role's policy allows on a table (by its logical id prefix). */
    const actionsOn = (service: string, table: string) => {
      const policy = policies.find((p) =>
        new RegExp(`^${cap(service)}TaskTaskRole`).test(String(p.Properties.PolicyName)),
      );
      const statements =
        (policy?.Properties.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
      return statements
        .filter((s) => JSON.stringify(s.Resource).includes(`${cap(table)}Table`))
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    };
    const writes = [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ];
    for (const service of ['inventory', 'orders', 'cart', 'search', 'pricing'])
      expect(actionsOn(service, 'events'), service).toEqual(
        expect.arrayContaining([...writes, 'dynamodb:Query']),
      );
    // Writers of the catalog (its seed, deal states, offers) may write it; readers only read.
    expect(actionsOn('catalog', 'catalog')).toEqual(expect.arrayContaining(writes));
    expect(actionsOn('search', 'catalog')).not.toContain('dynamodb:PutItem');
    // Those that publish nothing have no business in the events table.
    for (const service of ['catalog', 'checkout', 'gateway', 'storefront'])
      expect(actionsOn(service, 'events'), service).toEqual([]);
    // Each service's environment names exactly the tables its role may use.
    for (const [name, spec] of Object.entries(TOPOLOGIES.headless.deployables)) {
      if (spec.standsInFor) continue;
      const access = tableAccessOf(spec.modules);
      const env = containerEnvironment(synths.headless!.template, name);
      expect(
        Object.keys(env)
          .filter((k) => k.startsWith('PEAKDAY_TABLE_'))
          .sort(),
        name,
      ).toEqual([...access.read, ...access.write].map((t) => tableEnvVar(t)).sort());
    }
  });
});

describe('the scaling file is the one source of truth', () => {
  it('a change in the YAML changes the template: capacities, targets, step scaling and scheduled actions', async () => {
    const dir = tempDir();
    const file = join(dir, 'scaling.yaml');
    writeFileSync(
      file,
      `version: 1
cluster: peakday
defaults:
  minCapacity: 3
  maxCapacity: 7
  policies:
    - { name: cpu-target, type: TargetTrackingScaling, metric: ECSServiceAverageCPUUtilization, targetValue: 45 }
services:
  monolith:
    maxCapacity: 12
    policies:
      - { name: cpu-target, type: TargetTrackingScaling, metric: ECSServiceAverageCPUUtilization, targetValue: 45 }
      - { name: requests, type: TargetTrackingScaling, metric: ALBRequestCountPerTarget, targetValue: 900 }
      - name: cpu-steps
        type: StepScaling
        adjustmentType: ChangeInCapacity
        cooldown: 120s
        stepAdjustments:
          - { lowerBound: 0, upperBound: 20, scalingAdjustment: 2 }
          - { lowerBound: 20, scalingAdjustment: 4 }
        alarm: { metric: CPUUtilization, comparison: GreaterThanOrEqualToThreshold, threshold: 70, period: 60s, evaluationPeriods: 2, datapointsToAlarm: 2 }
    scheduledActions:
      - { name: pre-warm, at: 0s, minCapacity: 8 }
`,
    );
    const doorsOpenMs = Date.parse('2030-07-08T07:00:00Z');
    const { stack } = await buildReferenceApp({
      arch: 'monolith',
      scaling: loadScaling(file),
      doorsOpenMs,
      outdir: tempDir(),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 3,
      MaxCapacity: 12,
      ScheduledActions: [
        Match.objectLike({ Schedule: 'at(2030-07-08T07:00:00)', ScalableTargetAction: { MinCapacity: 8 } }),
      ],
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyName: 'cpu-target',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 45 }),
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyName: 'requests',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 900,
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
      }),
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyName: 'cpu-steps',
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ChangeInCapacity',
        Cooldown: 120,
        StepAdjustments: Match.arrayWith([
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 20, ScalingAdjustment: 2 },
          { MetricIntervalLowerBound: 20, ScalingAdjustment: 4 },
        ]),
      }),
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CPUUtilization',
      Namespace: 'AWS/ECS',
      Threshold: 70,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  }, 120_000);

  it('refuses scheduled actions without a doors-open time, naming the entry', async () => {
    const dir = tempDir();
    const file = join(dir, 'scaling.yaml');
    writeFileSync(
      file,
      'version: 1\ncluster: peakday\ndefaults:\n  minCapacity: 2\n  maxCapacity: 10\nservices:\n  monolith:\n    scheduledActions:\n      - { name: pre-warm, at: 55m, minCapacity: 8 }\n',
    );
    await expect(
      buildReferenceApp({ arch: 'monolith', scaling: loadScaling(file), outdir: tempDir() }),
    ).rejects.toThrow(/scheduled action "pre-warm".*doors-open/);
  }, 60_000);
});

describe('deployment options', () => {
  it('opens the ALB to the given CIDRs only, with TLS and a redirect when a certificate is given', async () => {
    const { stack } = await buildReferenceApp({
      arch: 'monolith',
      allowCidrs: ['203.0.113.7/32'],
      certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      edgeOriginDomain: 'origin.example.com',
      outdir: tempDir(),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^ALB'),
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: '203.0.113.7/32', FromPort: 443 }),
        Match.objectLike({ CidrIp: '203.0.113.7/32', FromPort: 80 }),
      ],
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'redirect' })],
    });
  }, 60_000);

  it('provisioned tables get read and write autoscaling; Spot goes to internal services only; retention keeps tables', async () => {
    const { stack } = await buildReferenceApp({
      arch: 'headless',
      tableCapacity: {
        mode: 'provisioned',
        read: { min: 5, max: 100 },
        write: { min: 5, max: 50 },
        targetUtilization: 70,
      },
      spot: true,
      retainTables: true,
      outdir: tempDir(),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'dynamodb:table:WriteCapacityUnits',
      MaxCapacity: 50,
    });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'catalog',
      CapacityProviderStrategy: Match.arrayWith([Match.objectLike({ CapacityProvider: 'FARGATE_SPOT' })]),
    });
    const gateway = Object.values(t.findResources('AWS::ECS::Service')).find(
      (r) => (r as { Properties: { ServiceName: string } }).Properties.ServiceName === 'gateway',
    ) as { Properties: Record<string, unknown> };
    expect(gateway.Properties.CapacityProviderStrategy).toBeUndefined();
  }, 120_000);

  it("turns a profile's budgets into latency and error-rate alarms at the entry", async () => {
    const budgets = readBudgets(`${DEFAULT_BUDGETS_DIR}flash-sale.yaml`);
    const specs = computeBudgetAlarms(budgets);
    expect(specs).toContainEqual(expect.objectContaining({ kind: 'latency', percentile: 95, limitMs: 2000 }));
    expect(specs).toContainEqual(expect.objectContaining({ kind: 'latency', percentile: 99, limitMs: 3000 }));
    expect(specs).toContainEqual(expect.objectContaining({ kind: 'errors', rate: 0.01, scoped: false }));
    const { stack } = await buildReferenceApp({ arch: 'monolith', budgets, outdir: tempDir() });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TargetResponseTime',
      ExtendedStatistic: 'p95',
      Threshold: 2,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0.01,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('t5xx') })]),
    });
  }, 60_000);
});

/** CloudFront's managed policies (ids from the CloudFront Developer Guide, "Use managed cache policies"). */
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

interface CfBehaviour {
  PathPattern?: string;
  CachePolicyId: unknown;
  OriginRequestPolicyId?: unknown;
  AllowedMethods: string[];
  ViewerProtocolPolicy: string;
  FunctionAssociations?: { EventType: string }[];
}

/** The distribution's behaviours by path pattern (`*` the default), each with its cache policy's TTLs. */
function edgeBehaviours(template: Record<string, unknown>) {
  const resources = template.Resources as Resources;
  const dists = resourcesOf(template, 'AWS::CloudFront::Distribution');
  expect(dists).toHaveLength(1);
  const config = dists[0]!.Properties.DistributionConfig as {
    DefaultCacheBehavior: CfBehaviour;
    CacheBehaviors: CfBehaviour[];
    Logging?: { Bucket: unknown; Prefix: string };
    Restrictions?: unknown;
    Origins: { DomainName: unknown; CustomOriginConfig: { OriginProtocolPolicy: string } }[];
  };
  const all = [{ ...config.DefaultCacheBehavior, PathPattern: '*' }, ...config.CacheBehaviors];
  const ttlsOf = (b: CfBehaviour) => {
    const ref = (b.CachePolicyId as { Ref?: string }).Ref;
    if (!ref) return null;
    const c = resources[ref]!.Properties.CachePolicyConfig as {
      MinTTL: number;
      DefaultTTL: number;
      MaxTTL: number;
      ParametersInCacheKeyAndForwardedToOrigin: Record<string, unknown>;
    };
    return {
      minTtl: c.MinTTL,
      defaultTtl: c.DefaultTTL,
      maxTtl: c.MaxTTL,
      key: c.ParametersInCacheKeyAndForwardedToOrigin,
    };
  };
  return { config, behaviours: all.map((b) => ({ b, ttl: ttlsOf(b) })) };
}

describe.each(['headless', 'monolith'] as const)('the edge in the %s template', (arch) => {
  it("has a CloudFront distribution whose behaviours are the local edge's route table and TTL bounds", () => {
    const { behaviours } = edgeBehaviours(synths[arch]!.template);
    const specs = edgeBehaviourSpecs(DEFAULT_ROUTE_TTLS);
    expect(behaviours.map((x) => x.b.PathPattern).sort()).toEqual(specs.map((s) => s.pathPattern).sort());
    for (const { b, ttl } of behaviours) {
      const route = b.PathPattern === '*' ? 'api' : routeOf(b.PathPattern!.replace('*', 'x-1'));
      const bounds = DEFAULT_ROUTE_TTLS[route];
      expect(b.ViewerProtocolPolicy, route).toBe('redirect-to-https');
      expect(b.FunctionAssociations, route).toEqual([
        expect.objectContaining({ EventType: 'viewer-request' }),
      ]);
      if (bounds.maxTtl > 0) {
        // Cached within the route's bounds; the Cache-Control of the origin decides inside them.
        expect({ minTtl: ttl!.minTtl, defaultTtl: ttl!.defaultTtl, maxTtl: ttl!.maxTtl }, route).toEqual(
          bounds,
        );
        // No cookie or header in the key (nor forwarded): a cached page cannot depend on a session.
        expect(ttl!.key).toMatchObject({
          CookiesConfig: { CookieBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          QueryStringsConfig: { QueryStringBehavior: 'all' },
        });
        expect(b.OriginRequestPolicyId, route).toBeUndefined();
        expect(b.AllowedMethods).toEqual(['GET', 'HEAD']);
      } else {
        expect(b.CachePolicyId, route).toBe(CACHING_DISABLED);
        expect(b.OriginRequestPolicyId, route).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER);
        expect(b.AllowedMethods).toContain('POST');
      }
    }
    expect(behaviours.filter((x) => x.ttl !== null).map((x) => x.b.PathPattern)).toEqual([
      '/',
      '/c/*',
      '/p/*',
    ]);
  });

  it('reaches the ALB over HTTP, logs to the access-log bucket, has no geo restriction, and outputs its URL', () => {
    const t = synths[arch]!.template;
    const { config } = edgeBehaviours(t);
    expect(config.Origins).toHaveLength(1);
    expect(config.Origins[0]!.DomainName).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^LoadBalancer/), 'DNSName'],
    });
    expect(config.Origins[0]!.CustomOriginConfig.OriginProtocolPolicy).toBe('http-only');
    expect(config.Logging).toEqual({
      Bucket: { 'Fn::GetAtt': [expect.stringMatching(/^AccessLogs/), 'RegionalDomainName'] },
      Prefix: `cloudfront-${arch}/`,
    });
    expect(config.Restrictions).toBeUndefined();
    // No IPv6 CIDR allowed (none at all here): the distribution answers over IPv4 only, as the ALB.
    expect((config as { IPV6Enabled?: boolean }).IPV6Enabled).toBe(false);
    const outputs = t.Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.EdgeUrl!.Value)).toMatch(/https:\/\/.*Edge.*DomainName/);
    expect(outputs.LoadBalancerUrl).toBeDefined();
  });

  it("turns on CloudFront's additional metrics (CacheHitRate, OriginLatency) for the distribution collect reads", () => {
    const t = Template.fromJSON(synths[arch]!.template);
    t.resourceCountIs('AWS::CloudFront::MonitoringSubscription', 1);
    t.hasResourceProperties('AWS::CloudFront::MonitoringSubscription', {
      DistributionId: { Ref: Match.stringLikeRegexp('^EdgeDistribution') },
      MonitoringSubscription: {
        RealtimeMetricsSubscriptionConfig: { RealtimeMetricsSubscriptionStatus: 'Enabled' },
      },
    });
  });

  it("lets CloudFront's origin-facing prefix list, looked up at deploy time, reach the ALB on its port", () => {
    const t = synths[arch]!.template;
    const resources = t.Resources as Resources;
    const [lookupId, lookup] = Object.entries(resources).find(([, r]) => r.Type === 'Custom::AWS')!;
    const create = JSON.parse(lookup.Properties.Create as string) as Record<string, unknown>;
    expect(create).toMatchObject({
      service: 'EC2',
      action: 'DescribeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST] }] },
    });
    Template.fromJSON(t).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LoadBalancerSg'), 'GroupId'] },
      SourcePrefixListId: { 'Fn::GetAtt': [lookupId, 'PrefixLists.0.PrefixListId'] },
      FromPort: 80,
      ToPort: 80,
    });
    // The lookup's policy grants only that call.
    Template.fromJSON(t).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [Match.objectLike({ Action: 'ec2:DescribeManagedPrefixLists', Resource: '*' })],
      },
    });
  });
});

/** The `{{resolve:secretsmanager:...}}` reference to the stack's origin secret, as CloudFormation resolves it. */
const secretReference = (secretId: string) => ({
  'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretId }, ':SecretString:::}}']],
});

describe.each(['headless', 'monolith'] as const)('the secret origin header in the %s template', (arch) => {
  it('CloudFront sends a Secrets Manager value the ALB requires: 403 by default, forwarded only with the header', () => {
    const json = synths[arch]!.template;
    const t = Template.fromJSON(json);
    const secrets = Object.entries(json.Resources as Resources).filter(
      ([, r]) => r.Type === 'AWS::SecretsManager::Secret',
    );
    expect(secrets).toHaveLength(1);
    const [secretId, secret] = secrets[0]!;
    // Generated by Secrets Manager at deploy time: no value in the template.
    expect(secret.Properties.GenerateSecretString).toMatchObject({
      ExcludePunctuation: true,
      PasswordLength: 48,
    });
    expect(secret.Properties.SecretString).toBeUndefined();
    const { config } = edgeBehaviours(json);
    expect((config.Origins[0] as { OriginCustomHeaders?: unknown }).OriginCustomHeaders).toEqual([
      { HeaderName: ORIGIN_SECRET_HEADER, HeaderValue: secretReference(secretId) },
    ]);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      DefaultActions: [
        { Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '403' }) },
      ],
    });
    // Every rule that forwards to the entry carries the header (the synth allows no CIDR).
    const rules = resourcesOf(json, 'AWS::ElasticLoadBalancingV2::ListenerRule');
    const entryRules = rules.filter((r) => JSON.stringify(r.Properties.Actions).includes('EntryGroup'));
    expect(entryRules.length).toBeGreaterThan(0);
    for (const r of [...rules]) {
      expect(r.Properties.Conditions).toContainEqual({
        Field: 'http-header',
        HttpHeaderConfig: { HttpHeaderName: ORIGIN_SECRET_HEADER, Values: [secretReference(secretId)] },
      });
      // Within the ALB's limits: at most 3 values a condition, 5 a rule.
      const values = (r.Properties.Conditions as Record<string, { Values?: unknown[] }>[]).map(
        (c) => Object.values(c).find((v) => typeof v === 'object' && v !== null)?.Values?.length ?? 0,
      );
      for (const v of values) expect(v).toBeLessThanOrEqual(3);
      expect(values.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(5);
    }
  });
});

describe.each(['headless', 'monolith'] as const)('purging the edge from the %s template', (arch) => {
  it('gives the deployable that publishes PriceChanged the distribution id and CreateInvalidation on that distribution alone', () => {
    const json = synths[arch]!.template;
    const publisher = arch === 'headless' ? 'pricing' : 'monolith';
    const distributionId = Object.entries(json.Resources as Resources).find(
      ([, r]) => r.Type === 'AWS::CloudFront::Distribution',
    )![0];
    const deployables: Record<string, { standsInFor?: unknown }> = TOPOLOGIES[arch].deployables;
    for (const name of Object.keys(deployables).filter((n) => !deployables[n]?.standsInFor)) {
      const env = containerEnvironment(json, name);
      if (name === publisher) expect(env.PEAKDAY_DISTRIBUTION_ID, name).toEqual({ Ref: distributionId });
      else expect(env.PEAKDAY_DISTRIBUTION_ID, name).toBeUndefined();
    }
    const grants = resourcesOf(json, 'AWS::IAM::Policy').flatMap((p) =>
      (
        (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement ??
        []
      )
        .filter((st) => JSON.stringify(st.Action).includes('cloudfront:'))
        .map((st) => ({ roles: p.Properties.Roles, ...st })),
    );
    expect(grants).toHaveLength(1);
    expect(grants[0]!.Action).toBe('cloudfront:CreateInvalidation');
    // The one distribution's ARN, on the publisher's task role.
    expect(JSON.stringify(grants[0]!.Resource)).toContain(`"Ref":"${distributionId}"`);
    expect(JSON.stringify(grants[0]!.Resource)).toMatch(/cloudfront::.*:distribution\//);
    expect(JSON.stringify(grants[0]!.roles)).toContain(`${cap(publisher)}TaskTaskRole`);
  });
});

describe('edge options', () => {
  it('allowed CIDRs reach the ALB directly by source IP; everything else needs the header', async () => {
    const { app } = await buildReferenceApp({
      arch: 'headless',
      outdir: tempDir(),
      allowCidrs: ['203.0.113.7/32', '198.51.100.0/24', '192.0.2.0/24', '2001:db8::/32'],
    });
    const json = app.synth().getStackByName('PeakdayHeadless').template as Record<string, unknown>;
    const rules = resourcesOf(json, 'AWS::ElasticLoadBalancingV2::ListenerRule');
    const sourceIps = (target: string) =>
      rules
        .filter((r) => JSON.stringify(r.Properties.Actions).includes(target))
        .flatMap((r) =>
          (r.Properties.Conditions as { Field: string; SourceIpConfig?: { Values: string[] } }[])
            .filter((c) => c.Field === 'source-ip')
            .flatMap((c) => c.SourceIpConfig!.Values),
        );
    const all = ['203.0.113.7/32', '198.51.100.0/24', '192.0.2.0/24', '2001:db8::/32'];
    expect(sourceIps('EntryGroup').sort()).toEqual([...all].sort());
    // Each page path chunk admits every CIDR: two chunks.
    expect(sourceIps('PagesGroup').sort()).toEqual([...all, ...all].sort());
    for (const r of rules) {
      const conditions = r.Properties.Conditions as { Field: string }[];
      // A rule admits by header or by source IP, never by neither.
      expect(conditions.some((c) => c.Field === 'http-header' || c.Field === 'source-ip')).toBe(true);
    }
  }, 120_000);

  it('a change in the route table changes the template: a TTL bound moves, the cart becomes cached', async () => {
    const { app } = await buildReferenceApp({
      arch: 'monolith',
      outdir: tempDir(),
      allowCidrs: ['2001:db8::/32'],
      edgeRouteTtls: {
        ...DEFAULT_ROUTE_TTLS,
        product: { minTtl: 1, defaultTtl: 2, maxTtl: 5 },
        cart: { minTtl: 0, defaultTtl: 0, maxTtl: 3 },
      },
    });
    const template = app.synth().getStackByName('PeakdayMonolith').template as Record<string, unknown>;
    const { behaviours } = edgeBehaviours(template);
    const by = Object.fromEntries(behaviours.map((x) => [x.b.PathPattern, x.ttl]));
    expect(by['/p/*']).toMatchObject({ minTtl: 1, defaultTtl: 2, maxTtl: 5 });
    expect(by['/cart']).toMatchObject({ minTtl: 0, defaultTtl: 0, maxTtl: 3 });
    expect(by['/c/*']).toMatchObject(DEFAULT_ROUTE_TTLS.category);
    // An IPv6 CIDR allowed: the distribution answers over IPv6 too.
    expect((edgeBehaviours(template).config as { IPV6Enabled?: boolean }).IPV6Enabled).toBe(true);
  }, 120_000);

  it('--no-edge: no distribution, no prefix list, no edge URL; the ALB as before', async () => {
    const { app } = await buildReferenceApp({
      arch: 'monolith',
      outdir: tempDir(),
      edge: false,
      allowCidrs: ['203.0.113.7/32'],
    });
    const t = Template.fromJSON(
      app.synth().getStackByName('PeakdayMonolith').template as Record<string, unknown>,
    );
    t.resourceCountIs('AWS::CloudFront::Distribution', 0);
    t.resourceCountIs('AWS::CloudFront::MonitoringSubscription', 0);
    t.resourceCountIs('Custom::AWS', 0);
    // No origin secret: the listener forwards to the entry by default, and no rule asks for a header.
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    // No distribution to purge: no id in any task, no CloudFront grant.
    expect(JSON.stringify(t.toJSON())).not.toContain('PEAKDAY_DISTRIBUTION_ID');
    expect(JSON.stringify(t.toJSON())).not.toContain('cloudfront:CreateInvalidation');
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('EntryGroup') } }],
    });
    expect(JSON.stringify(t.findResources('AWS::ElasticLoadBalancingV2::ListenerRule'))).not.toContain(
      'http-header',
    );
    expect(
      t.findResources('AWS::EC2::SecurityGroupIngress', {
        Properties: { SourcePrefixListId: Match.anyValue() },
      }),
    ).toEqual({});
    expect(Object.keys(t.findResources('AWS::EC2::SecurityGroupIngress')).length).toBeGreaterThan(0);
    expect(Object.keys(t.toJSON().Outputs as object)).not.toContain('EdgeUrl');
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('^ALB'),
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '203.0.113.7/32', FromPort: 80 })],
    });
  }, 120_000);

  it('with a certificate: CloudFront reaches the origin domain over HTTPS (TLS 1.2) and the prefix list gets 443; without the domain it refuses', async () => {
    const certificateArn = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    const { app } = await buildReferenceApp({
      arch: 'monolith',
      outdir: tempDir(),
      certificateArn,
      edgeOriginDomain: 'origin.example.com',
      allowCidrs: ['203.0.113.7/32'],
    });
    const json = app.synth().getStackByName('PeakdayMonolith').template as Record<string, unknown>;
    const { config } = edgeBehaviours(json);
    expect((config as { IPV6Enabled?: boolean }).IPV6Enabled).toBe(false);
    expect(config.Origins[0]).toMatchObject({
      DomainName: 'origin.example.com',
      CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] },
    });
    Template.fromJSON(json).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443,
      ToPort: 443,
    });
    await expect(buildReferenceApp({ arch: 'monolith', outdir: tempDir(), certificateArn })).rejects.toThrow(
      /origin domain/,
    );
  }, 120_000);
});
