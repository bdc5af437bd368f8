/**
 * The reference commerce stack on AWS, one CloudFormation stack per topology, built from the same
 * data the local stack runs on: the deployables and task sizes of reference-stack/topology.ts (the
 * numbers the cost model prices), the scaling file the emulation and the simulator read, the table
 * design of reference-stack/store/dynamodb-tables.ts and the bus subscriptions of the domain.
 *
 *   internet -> CloudFront (the edge: page routes cached by the local edge's TTL bounds, the rest passed
 *               through; only the allowed CIDRs; access logs), unless the edge is off
 *            -> ALB (CIDR-limited and CloudFront's origin-facing prefix list, TLS when a certificate is
 *               given, access logs)
 *            -> the entry service (gateway or monolith), ECS on Fargate, ARM64 by default
 *            -> other services through ECS Service Connect (headless)
 *   DynamoDB tables (on-demand or provisioned with autoscaling), EventBridge bus -> one SQS queue per
 *   consumer (with DLQs), Application Auto Scaling from the scaling file, a dashboard, budget alarms.
 *
 * docs/aws.md explains every resource, what it costs and how to deploy, rehearse and destroy.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ScalingConfig } from '../../reference-stack/autoscaling/scaling-file.ts';
import { serviceScalingFor } from '../../reference-stack/autoscaling/scaling-file.ts';
import type { HealthCheck } from '../../reference-stack/autoscaling/types.ts';
import {
  EVENT_PUBLISHERS,
  EVENT_SOURCE,
  eventRoutes,
  publishesEvents,
} from '../../reference-stack/bus/routes.ts';
import type { EdgeRoute, RouteTtl } from '../../reference-stack/edge/cache-policy.ts';
import {
  TABLE_NAMES,
  TABLES,
  type TableName,
  tableAccessOf,
  tableEnvVar,
} from '../../reference-stack/store/dynamodb-tables.ts';
import {
  type Arch,
  type ServiceName,
  servicesOf,
  TOPOLOGIES,
  type Topology,
} from '../../reference-stack/topology.ts';
import { createAccessLogBucket } from '../common/log-bucket.ts';
import { acknowledgeRules } from '../common/nag.ts';
import { createNetwork, type InterfaceEndpointName } from '../common/network.ts';
import { EDGE_PATH_PATTERNS, EdgeDistribution } from './edge.ts';
import { type BudgetAlarmSpec, createObservability } from './observability.ts';
import { DENIED_BODY, type ListenerRuleSpec, ORIGIN_SECRET_HEADER, planListener } from './origin-access.ts';
import { ServiceAutoScaling } from './scaling.ts';

/** The port every service listens on inside its task. */
export const CONTAINER_PORT = 8080;

/** Table capacity: on demand (the default), or provisioned with target-tracking autoscaling. */
export type TableCapacity =
  | { mode: 'on-demand' }
  | {
      mode: 'provisioned';
      read: { min: number; max: number };
      write: { min: number; max: number };
      /** Target utilisation, percent (DynamoDB's own autoscaling default is 70). */
      targetUtilization: number;
    };

/** The container image the services run: built from the repository at deploy time, or a pushed image. */
export type ImageSource =
  | { kind: 'asset'; directory: string; dockerfile: string; exclude: readonly string[] }
  | { kind: 'registry'; uri: string };

/** Everything that varies between deployments of the reference stack. */
export interface ReferenceStackOptions {
  arch: Arch;
  /** The scaling file (loaded): min/max capacity, policies and scheduled actions per service. */
  scaling: ScalingConfig;
  /** CIDRs allowed to reach the load balancer; empty: nobody (the stack deploys closed). */
  allowCidrs: readonly string[];
  /** An ACM certificate ARN: HTTPS on 443 and HTTP redirected to it. */
  certificateArn?: string;
  /** 0 (default): no NAT, VPC endpoints only; 1: one NAT gateway. */
  natGateways: 0 | 1;
  /** Put the internal (non-entry) services on Fargate Spot (2 of 3 tasks; 1 on-demand task as a base). */
  spot: boolean;
  cpuArchitecture: 'arm64' | 'x86_64';
  tableCapacity: TableCapacity;
  /** Keep the tables (and their data) when the stack is destroyed. */
  retainTables: boolean;
  /** Alarms from the budgets' latency and error thresholds. */
  budgetAlarms: readonly BudgetAlarmSpec[];
  /** Epoch ms of doors open: scheduled actions in the scaling file are offsets from it. */
  doorsOpenMs?: number;
  image: ImageSource;
  /** Days the services' logs are kept. */
  logRetentionDays: logs.RetentionDays;
  /** A CloudFront distribution in front of the ALB (infra/reference-stack/edge.ts). */
  edge: boolean;
  /** With a certificate and the edge: a DNS name on the certificate resolving to the ALB (CloudFront's origin). */
  edgeOriginDomain?: string;
  /** The edge's TTL bounds per route (default: the local edge's, reference-stack/edge/cache-policy.ts). */
  edgeRouteTtls?: Record<EdgeRoute, RouteTtl>;
}

/** What a deployment hands back (CloudFormation outputs; the stack file is written from these). */
export const OUTPUT_KEYS = {
  url: 'LoadBalancerUrl',
  loadBalancer: 'LoadBalancerFullName',
  cluster: 'ClusterName',
  services: 'ServiceNames',
  tables: 'TableNames',
  bus: 'EventBusName',
  dashboard: 'DashboardName',
  edgeUrl: 'EdgeUrl',
  distribution: 'DistributionId',
} as const;

/** The CloudFormation stack name of a topology. */
export function stackNameOf(arch: Arch): string {
  return arch === 'headless' ? 'PeakdayHeadless' : 'PeakdayMonolith';
}

/** The ECS cluster name of a topology (the same name the local stack's EMF records carry). */
export function clusterNameOf(arch: Arch): string {
  return `peakday-${arch}`;
}

/** The reference stack of one topology. */
export class ReferenceStack extends Stack {
  /** The Fargate services by deployable name. */
  readonly services: Partial<Record<ServiceName, ecs.FargateService>> = {};
  /** The tables by logical name. */
  readonly tables: Partial<Record<TableName, dynamodb.Table>> = {};
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly eventBus: events.EventBus | undefined;
  /** The CloudFront distribution in front of the ALB, unless the edge is off. */
  readonly edge: EdgeDistribution | undefined;

  constructor(scope: Construct, id: string, options: ReferenceStackOptions, props: StackProps = {}) {
    super(scope, id, {
      description: `peakday reference commerce stack (${options.arch}) on ECS Fargate`,
      ...props,
    });
    const { arch } = options;
    const topology: Topology = TOPOLOGIES[arch];
    const deployables = servicesOf(arch).filter((s) => topology.deployables[s]?.standsInFor === undefined);
    Tags.of(this).add('peakday:stack', arch);

    // Network: NAT optional; endpoints for everything the tasks reach.
    const endpoints: InterfaceEndpointName[] = ['ecrApi', 'ecrDocker', 'logs', 'monitoring'];
    if (topology.bus === 'http') endpoints.push('events', 'sqs');
    const network = createNetwork(this, { natGateways: options.natGateways, interfaceEndpoints: endpoints });
    const { vpc } = network;

    const clusterName = clusterNameOf(arch);
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      clusterName,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
      defaultCloudMapNamespace: {
        name: `${arch}.peakday.internal`,
        type: servicediscovery.NamespaceType.HTTP,
        useForServiceConnect: true,
      },
    });

    // Tables.
    for (const name of TABLE_NAMES) this.tables[name] = this.createTable(name, options);

    // The bus and one queue per consumer (headless; the monolith delivers events in-process).
    const queues: Partial<Record<string, sqs.Queue>> = {};
    if (topology.bus === 'http') {
      this.eventBus = new events.EventBus(this, 'Bus', { eventBusName: `peakday-${arch}` });
      const ruleDlq = this.createQueue('RuleDlq', undefined);
      acknowledgeRules(ruleDlq, [
        { id: 'AwsSolutions-SQS3', reason: 'this queue is the dead-letter queue of the bus rules' },
      ]);
      for (const { consumer, detailTypes: types } of eventRoutes()) {
        const dlq = this.createQueue(`${cap(consumer)}Dlq`, undefined);
        acknowledgeRules(dlq, [
          { id: 'AwsSolutions-SQS3', reason: `this queue is the dead-letter queue of the ${consumer} queue` },
        ]);
        const queue = this.createQueue(`${cap(consumer)}Events`, dlq);
        queues[consumer] = queue;
        new events.Rule(this, `${cap(consumer)}Rule`, {
          eventBus: this.eventBus,
          description: `${types.join(', ')} to ${consumer} (the local bus's subscriptions)`,
          eventPattern: { source: [EVENT_SOURCE], detailType: types },
          targets: [
            new eventTargets.SqsQueue(queue, {
              deadLetterQueue: ruleDlq,
              retryAttempts: 185,
              maxEventAge: Duration.hours(24),
            }),
          ],
        });
      }
    }

    // The public entry: ALB in the public subnets, ingress only from the CIDRs given.
    const logBucket = createAccessLogBucket(this);
    const albSg = new ec2.SecurityGroup(this, 'LoadBalancerSg', {
      vpc,
      description: 'ALB: ingress only from the CIDRs the deployer allowed',
      allowAllOutbound: false,
    });
    const listenPort = options.certificateArn ? 443 : 80;
    for (const cidr of options.allowCidrs) {
      const peer = cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr);
      albSg.addIngressRule(peer, ec2.Port.tcp(listenPort), `allowed: ${cidr}`);
      if (options.certificateArn) albSg.addIngressRule(peer, ec2.Port.tcp(80), `allowed (redirect): ${cidr}`);
    }
    if (options.allowCidrs.some((c) => c.endsWith('/0')))
      acknowledgeRules(albSg, [
        { id: 'AwsSolutions-EC23', reason: 'the deployer allowed the whole internet with --allow-cidr' },
      ]);
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc,
      internetFacing: true,
      securityGroup: albSg,
      dropInvalidHeaderFields: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    });
    this.loadBalancer.logAccessLogs(logBucket, `alb-${arch}`);
    const listener = options.certificateArn
      ? this.loadBalancer.addListener('Https', {
          port: 443,
          protocol: elbv2.ApplicationProtocol.HTTPS,
          certificates: [acm.Certificate.fromCertificateArn(this, 'Certificate', options.certificateArn)],
          sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          open: false,
        })
      : this.loadBalancer.addListener('Http', { port: 80, open: false });
    if (options.certificateArn)
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
    // With the edge, a secret only this stack's distribution sends (origin-access.ts). Generated by
    // Secrets Manager at deploy time and read by CloudFormation as a dynamic reference: the value is in
    // no template, no synth output and nowhere on the deployer's disk.
    const originSecret = options.edge
      ? new secretsmanager.Secret(this, 'OriginSecret', {
          description: `peakday ${arch}: the ${ORIGIN_SECRET_HEADER} header CloudFront sends and the ALB requires`,
          generateSecretString: { excludePunctuation: true, includeSpace: false, passwordLength: 48 },
          removalPolicy: RemovalPolicy.DESTROY,
        })
      : undefined;
    if (originSecret)
      acknowledgeRules(originSecret, [
        {
          id: 'AwsSolutions-SMG4',
          reason:
            'not rotated automatically: CloudFormation resolves the value into the distribution and the listener rule at deploy time only, so a rotation would lock CloudFront out until the next deploy; redeploying after a manual rotation changes both at once',
        },
      ]);
    const originSecretValue = originSecret?.secretValue.unsafeUnwrap();
    if (options.edge && originSecretValue)
      this.edge = new EdgeDistribution(this, 'Edge', {
        originSecretValue,
        arch,
        loadBalancer: this.loadBalancer,
        loadBalancerSecurityGroup: albSg,
        listenPort,
        ...(options.edgeOriginDomain ? { originDomain: options.edgeOriginDomain } : {}),
        allowCidrs: options.allowCidrs,
        logBucket,
        ...(options.edgeRouteTtls ? { routeTtls: options.edgeRouteTtls } : {}),
      });

    // Services.
    const servicesSg = new ec2.SecurityGroup(this, 'ServicesSg', {
      vpc,
      description: 'Fargate tasks: from the ALB and from each other (Service Connect)',
      allowAllOutbound: true,
    });
    servicesSg.addIngressRule(servicesSg, ec2.Port.tcp(CONTAINER_PORT), 'Service Connect between services');
    const logGroup = new logs.LogGroup(this, 'ServiceLogs', {
      logGroupName: `/peakday/${arch}`,
      retention: options.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const image = imageOf(options.image, options.cpuArchitecture);
    const peers: Partial<Record<ServiceName, string>> = {};
    // Every headless service is reachable by name through Service Connect: the modules by the gateway and
    // each other, the gateway by the storefront (its BFF).
    if (arch === 'headless') for (const s of deployables) peers[s] = `http://${s}:${CONTAINER_PORT}`;

    let entryTargetGroup: elbv2.ApplicationTargetGroup | undefined;
    // Who the listener forwards (origin-access.ts): the pages to the storefront (headless), the rest to
    // the entry; with the edge only what carries the secret header or comes from an allowed CIDR.
    const listenerPlan = planListener({
      edge: options.edge,
      pagePaths:
        topology.pages && topology.pages !== topology.entry ? Object.values(EDGE_PATH_PATTERNS).flat() : [],
      allowCidrs: options.allowCidrs,
    });
    const conditionsOf = (r: ListenerRuleSpec): elbv2.ListenerCondition[] => [
      ...(r.paths ? [elbv2.ListenerCondition.pathPatterns(r.paths)] : []),
      ...(r.admission?.kind === 'origin-header' && originSecretValue
        ? [elbv2.ListenerCondition.httpHeader(ORIGIN_SECRET_HEADER, [originSecretValue])]
        : []),
      ...(r.admission?.kind === 'source-ip' ? [elbv2.ListenerCondition.sourceIps(r.admission.cidrs)] : []),
    ];
    // One target group per service; its first rule creates it, the others forward to it.
    const addRules = (
      specs: ListenerRuleSpec[],
      id: string,
      service: ecs.FargateService,
      healthCheck: HealthCheck,
    ) => {
      const [first, ...rest] = specs;
      if (!first) throw new Error(`no listener rule for ${id}`);
      const group = listener.addTargets(id, {
        priority: first.priority,
        conditions: conditionsOf(first),
        ...albTarget(service, healthCheck),
      });
      for (const r of rest)
        listener.addTargetGroups(`${id}Rule${r.priority}`, {
          priority: r.priority,
          conditions: conditionsOf(r),
          targetGroups: [group],
        });
      return group;
    };
    const scalingTargets: { name: ServiceName; service: ecs.FargateService }[] = [];
    // Services are created in parallel (Service Connect clients find endpoints as they register);
    // the entry is built last only so its target group and listener follow the others in the code.
    const ordered = [...deployables.filter((s) => s !== topology.entry), topology.entry];
    for (const name of ordered) {
      const spec = topology.deployables[name]!;
      const scaling = serviceScalingFor(options.scaling, name, spec.minTasks);
      const taskDef = new ecs.FargateTaskDefinition(this, `${cap(name)}Task`, {
        cpu: spec.taskSize.vcpu * 1024,
        memoryLimitMiB: spec.taskSize.memoryGb * 1024,
        runtimePlatform: {
          cpuArchitecture:
            options.cpuArchitecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
      });
      const environment: Record<string, string> = {
        PEAKDAY_WORKER: JSON.stringify({
          arch,
          service: name,
          port: CONTAINER_PORT,
          host: '0.0.0.0',
          dataDir: '/tmp/peakday',
          peers,
          taskSize: spec.taskSize,
          timeScale: 1,
          eventStart: 0,
          capacity: { disabled: true },
        }),
        PEAKDAY_CLUSTER: clusterName,
        // Custom metrics as EMF lines on stdout, shipped by awslogs (reference-stack/emf-stdout.ts).
        PEAKDAY_EMF: 'stdout',
      };
      const access = tableAccessOf(spec.modules);
      for (const t of [...access.read, ...access.write])
        environment[tableEnvVar(t)] = this.tables[t]!.tableName;
      if (this.eventBus && publishesEvents(spec.modules))
        environment.PEAKDAY_EVENT_BUS = this.eventBus.eventBusName;
      for (const m of spec.modules) {
        const q = queues[m];
        if (q) environment.PEAKDAY_EVENT_QUEUE_URL = q.queueUrl;
      }
      // The deployable publishing PriceChanged purges the edge's pages of each price change it
      // delivered (reference-stack/cloudfront-purge.ts): this distribution only.
      const purgesEdge = this.edge !== undefined && spec.modules.includes(EVENT_PUBLISHERS.PriceChanged);
      if (purgesEdge) environment.PEAKDAY_DISTRIBUTION_ID = this.edge!.distribution.distributionId;
      taskDef.addContainer('app', {
        image,
        environment,
        portMappings: [{ containerPort: CONTAINER_PORT, name: 'http', appProtocol: ecs.AppProtocol.http }],
        logging: ecs.LogDrivers.awsLogs({
          logGroup,
          streamPrefix: name,
          mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        }),
        healthCheck: {
          command: [
            'CMD',
            'node',
            '-e',
            `fetch('http://127.0.0.1:${CONTAINER_PORT}/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
          ],
          interval: Duration.seconds(10),
          timeout: Duration.seconds(5),
          retries: 3,
          startPeriod: Duration.seconds(30),
        },
        readonlyRootFilesystem: false,
      });
      acknowledgeRules(taskDef, [
        {
          id: 'AwsSolutions-ECS2',
          reason:
            'the environment holds only non-secret configuration (topology, peers, table and bus names); there are no secrets',
        },
      ]);
      acknowledgeRules(taskDef.obtainExecutionRole(), [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'ecr:GetAuthorizationToken takes no resource ARN (IAM service authorization reference); the image pull itself is scoped to the asset repository',
        },
      ]);
      // Least privilege: exactly the tables, bus and queue the hosted modules use.
      for (const t of access.read) this.tables[t]!.grantReadData(taskDef.taskRole);
      for (const t of access.write) this.tables[t]!.grantReadWriteData(taskDef.taskRole);
      for (const t of [...access.read, ...access.write].filter((x) => TABLES[x].indexes.length > 0)) {
        const logicalId = this.getLogicalId(this.tables[t]!.node.defaultChild as dynamodb.CfnTable);
        acknowledgeRules(taskDef.taskRole, [
          {
            id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
            reason: `queries by the ${t} table's own indexes (${TABLES[t].indexes.map((i) => i.name).join(', ')}) need its index/* ARN; no other table`,
          },
        ]);
      }
      if (environment.PEAKDAY_EVENT_BUS) this.eventBus!.grantPutEventsTo(taskDef.taskRole);
      for (const m of spec.modules) queues[m]?.grantConsumeMessages(taskDef.taskRole);
      if (purgesEdge)
        taskDef.taskRole.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['cloudfront:CreateInvalidation'],
            resources: [this.edge!.distribution.distributionArn],
          }),
        );

      const isEntry = name === topology.entry;
      const stateless = !isEntry;
      const service = new ecs.FargateService(this, `${cap(name)}Service`, {
        cluster,
        serviceName: name,
        taskDefinition: taskDef,
        desiredCount: scaling.initialDesired,
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
        circuitBreaker: { enable: true, rollback: true },
        securityGroups: [servicesSg],
        vpcSubnets: network.taskSubnets,
        assignPublicIp: false,
        ...(options.spot && stateless
          ? {
              capacityProviderStrategies: [
                { capacityProvider: 'FARGATE', base: 1, weight: 1 },
                { capacityProvider: 'FARGATE_SPOT', weight: 2 },
              ],
            }
          : {}),
        serviceConnectConfiguration:
          arch === 'headless'
            ? {
                services: [{ portMappingName: 'http', dnsName: name, port: CONTAINER_PORT }],
                logDriver: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: `${name}-service-connect` }),
              }
            : undefined,
        healthCheckGracePeriod: isEntry ? Duration.seconds(60) : undefined,
      });
      Tags.of(service).add('peakday:service', name);
      this.services[name] = service;
      scalingTargets.push({ name, service });

      if (name === topology.pages && !isEntry) {
        // The storefront's pages (reference-stack/storefront/pages.ts) go to the storefront; the rest to the entry.
        addRules(
          listenerPlan.rules.filter((r) => r.target === 'pages'),
          'Pages',
          service,
          scaling.launch.healthCheck,
        );
      }
      if (isEntry) {
        servicesSg.addIngressRule(albSg, ec2.Port.tcp(CONTAINER_PORT), 'from the load balancer');
        albSg.addEgressRule(servicesSg, ec2.Port.tcp(CONTAINER_PORT), 'to the entry service');
        if (listenerPlan.defaultAction === 'forward-entry')
          entryTargetGroup = listener.addTargets('Entry', albTarget(service, scaling.launch.healthCheck));
        else {
          entryTargetGroup = addRules(
            listenerPlan.rules.filter((r) => r.target === 'entry'),
            'Entry',
            service,
            scaling.launch.healthCheck,
          );
          listener.addAction('Deny', {
            action: elbv2.ListenerAction.fixedResponse(403, {
              contentType: 'text/plain',
              messageBody: DENIED_BODY,
            }),
          });
        }
      }
    }

    // Application Auto Scaling from the scaling file.
    for (const { name, service } of scalingTargets) {
      const scaling = serviceScalingFor(options.scaling, name, topology.deployables[name]!.minTasks);
      new ServiceAutoScaling(this, `${cap(name)}Scaling`, scaling, {
        clusterName,
        serviceName: service.serviceName,
        targetGroup: name === topology.entry ? entryTargetGroup : undefined,
        doorsOpenMs: options.doorsOpenMs,
      }).node.addDependency(service);
    }

    const dashboard = createObservability(this, {
      arch,
      clusterName,
      services: scalingTargets.map((s) => s.name),
      loadBalancer: this.loadBalancer,
      targetGroup: entryTargetGroup!,
      tables: TABLE_NAMES.map((t) => ({ name: t, table: this.tables[t]! })),
      deadLetterQueues: this.node
        .findAll()
        .filter((c): c is sqs.Queue => c instanceof sqs.Queue && c.node.id.endsWith('Dlq')),
      budgetAlarms: options.budgetAlarms,
    });

    const scheme = options.certificateArn ? 'https' : 'http';
    new CfnOutput(this, OUTPUT_KEYS.url, { value: `${scheme}://${this.loadBalancer.loadBalancerDnsName}` });
    new CfnOutput(this, OUTPUT_KEYS.loadBalancer, { value: this.loadBalancer.loadBalancerFullName });
    new CfnOutput(this, OUTPUT_KEYS.cluster, { value: cluster.clusterName });
    new CfnOutput(this, OUTPUT_KEYS.services, { value: scalingTargets.map((s) => s.name).join(',') });
    new CfnOutput(this, OUTPUT_KEYS.tables, {
      value: JSON.stringify(
        Object.fromEntries(TABLE_NAMES.map((t) => [t, this.tables[t]!.tableName])),
      ).replaceAll('"', "'"),
    });
    new CfnOutput(this, OUTPUT_KEYS.bus, { value: this.eventBus?.eventBusName ?? '' });
    new CfnOutput(this, OUTPUT_KEYS.dashboard, { value: dashboard.dashboardName });
    if (this.edge) {
      new CfnOutput(this, OUTPUT_KEYS.edgeUrl, {
        value: `https://${this.edge.distribution.distributionDomainName}`,
      });
      new CfnOutput(this, OUTPUT_KEYS.distribution, { value: this.edge.distribution.distributionId });
    }
  }

  private createTable(name: TableName, options: ReferenceStackOptions): dynamodb.Table {
    const design = TABLES[name];
    const cap0 = options.tableCapacity;
    const attr = (a: { name: string; type: 'S' | 'N' }) => ({
      name: a.name,
      type: a.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
    });
    const table = new dynamodb.Table(this, `${cap(name)}Table`, {
      partitionKey: attr(design.partitionKey),
      ...('sortKey' in design ? { sortKey: attr(design.sortKey) } : {}),
      billingMode:
        cap0.mode === 'on-demand' ? dynamodb.BillingMode.PAY_PER_REQUEST : dynamodb.BillingMode.PROVISIONED,
      ...(cap0.mode === 'provisioned' ? { readCapacity: cap0.read.min, writeCapacity: cap0.write.min } : {}),
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...('ttlAttribute' in design ? { timeToLiveAttribute: design.ttlAttribute } : {}),
      removalPolicy: options.retainTables ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const index of design.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attr(index.partitionKey),
        ...(index.sortKey ? { sortKey: attr(index.sortKey) } : {}),
        projectionType: dynamodb.ProjectionType.ALL,
        ...(cap0.mode === 'provisioned'
          ? { readCapacity: cap0.read.min, writeCapacity: cap0.write.min }
          : {}),
      });
    }
    if (cap0.mode === 'provisioned') {
      const u = cap0.targetUtilization;
      table
        .autoScaleReadCapacity({ minCapacity: cap0.read.min, maxCapacity: cap0.read.max })
        .scaleOnUtilization({
          targetUtilizationPercent: u,
        });
      table
        .autoScaleWriteCapacity({ minCapacity: cap0.write.min, maxCapacity: cap0.write.max })
        .scaleOnUtilization({ targetUtilizationPercent: u });
      for (const index of design.indexes) {
        table
          .autoScaleGlobalSecondaryIndexReadCapacity(index.name, {
            minCapacity: cap0.read.min,
            maxCapacity: cap0.read.max,
          })
          .scaleOnUtilization({ targetUtilizationPercent: u });
        table
          .autoScaleGlobalSecondaryIndexWriteCapacity(index.name, {
            minCapacity: cap0.write.min,
            maxCapacity: cap0.write.max,
          })
          .scaleOnUtilization({ targetUtilizationPercent: u });
      }
    }
    Tags.of(table).add('peakday:table', name);
    return table;
  }

  private createQueue(id: string, dlq: sqs.Queue | undefined): sqs.Queue {
    return new sqs.Queue(this, id, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(dlq ? 4 : 14),
      ...(dlq ? { deadLetterQueue: { queue: dlq, maxReceiveCount: 5 } } : {}),
    });
  }
}

/**
 * A service behind the ALB, as every target group of the stack has it: HTTP on the container port,
 * a 30-s deregistration delay, and the scaling file's health check (ALB's smallest healthy threshold
 * is 2; the emulation's one check models initial registration).
 */
function albTarget(service: ecs.FargateService, hc: HealthCheck): elbv2.AddApplicationTargetsProps {
  return {
    port: CONTAINER_PORT,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targets: [service],
    deregistrationDelay: Duration.seconds(30),
    healthCheck: {
      path: '/health',
      interval: Duration.seconds(hc.intervalSeconds),
      healthyThresholdCount: Math.max(2, hc.checksToHealthy),
      unhealthyThresholdCount: 2,
      timeout: Duration.seconds(5),
      healthyHttpCodes: '200',
    },
  };
}

function cap(s: string): string {
  return `${s[0]!.toUpperCase()}${s.slice(1)}`;
}

/** The services' image: a Docker asset built at deploy time (never at synth), or a pushed image. */
function imageOf(source: ImageSource, arch: 'arm64' | 'x86_64'): ecs.ContainerImage {
  if (source.kind === 'registry') return ecs.ContainerImage.fromRegistry(source.uri);
  return ecs.ContainerImage.fromAsset(source.directory, {
    file: source.dockerfile,
    exclude: [...source.exclude],
    platform: arch === 'arm64' ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64,
    assetName: 'peakday-services',
  });
}
