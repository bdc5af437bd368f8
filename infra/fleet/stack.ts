/**
 * The k6 fleet on ECS Fargate (docs/fleet.md, "On ECS Fargate"): a cluster with Container Insights,
 * a task definition running the generator image (the official grafana/k6 binary with an uploader,
 * infra/fleet/image/) at a chosen CPU/memory per generator, a task role that may read and write only
 * the run objects of the results bucket, the results bucket (encrypted, TLS only, no public access,
 * objects expiring after a retention period, kept when the stack is destroyed: nothing measured is
 * lost), its access-log bucket, a log group, and a security group with no ingress in the VPC the
 * tasks run in: the reference stack's when its id is given, else the account's default VPC (looked up
 * at deploy time; an offline synth uses the CDK's placeholder). `peakday run --fleet ecs` starts the
 * tasks (RunTask) with the outputs this stack exports.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { createAccessLogBucket } from '../common/log-bucket.ts';
import { acknowledgeRules } from '../common/nag.ts';

/** Where the run objects live in the results bucket (the task role's only reach). */
export const RUNS_PREFIX = 'runs/';

/** The generator container's name in the task definition (RunTask overrides name it). */
export const GENERATOR_CONTAINER = 'k6';

/** Seconds ECS waits after SIGTERM before SIGKILL: k6 stops and the outputs upload (Fargate's maximum). */
export const STOP_TIMEOUT_SECONDS = 120;

/** Where the generator image comes from. */
export type GeneratorImage = { kind: 'asset'; directory: string } | { kind: 'registry'; name: string };

/** The fleet stack's options. */
export interface FleetStackOptions {
  /** vCPU per generator (Fargate sizes: 0.25, 0.5, 1, 2, 4, 8, 16). */
  vcpu: number;
  /** Memory per generator in GiB (within Fargate's range for the vCPU). */
  memoryGb: number;
  cpuArchitecture: 'arm64' | 'x86_64';
  /** The VPC to run in (the reference stack's); default: the account's default VPC. */
  vpcId?: string;
  /** Days the results bucket keeps run objects. */
  resultsRetentionDays: number;
  logRetention: logs.RetentionDays;
  image: GeneratorImage;
}

/** The stack's outputs, by name: what `peakday run --fleet ecs` needs. */
export const FLEET_OUTPUTS = {
  cluster: 'ClusterName',
  taskDefinition: 'TaskDefinitionArn',
  bucket: 'ResultsBucket',
  subnets: 'Subnets',
  securityGroup: 'SecurityGroup',
  assignPublicIp: 'AssignPublicIp',
  logGroup: 'LogGroup',
  vcpu: 'GeneratorVcpu',
  memoryGb: 'GeneratorMemoryGb',
} as const;

/** The fleet stack. */
export class FleetStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly taskDefinition: ecs.FargateTaskDefinition;

  constructor(scope: Construct, id: string, options: FleetStackOptions, props?: StackProps) {
    super(scope, id, props);
    const vpc = options.vpcId
      ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: options.vpcId })
      : ec2.Vpc.fromLookup(this, 'Vpc', { isDefault: true });
    // The default VPC has only public subnets: tasks get a public IP to pull the image and reach S3
    // and the target. In the reference stack's VPC they run in its private subnets (endpoints / NAT).
    const subnets = options.vpcId
      ? vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, onePerAz: true })
      : vpc.selectSubnets({ subnetType: ec2.SubnetType.PUBLIC });
    const securityGroup = new ec2.SecurityGroup(this, 'GeneratorSg', {
      vpc,
      description: 'k6 generators: no ingress; egress to the target and AWS',
      allowAllOutbound: true,
    });
    acknowledgeRules(securityGroup, [
      {
        id: 'CloudFormation-Validate::E1151',
        reason: 'The VPC id comes from a lookup at deploy time; an offline synth carries the CDK placeholder',
      },
    ]);

    const accessLogs = createAccessLogBucket(this, { retentionDays: options.resultsRetentionDays });
    this.bucket = new s3.Bucket(this, 'Results', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [
        { prefix: RUNS_PREFIX, expiration: Duration.days(options.resultsRetentionDays) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'results/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const cluster = new ecs.Cluster(this, 'Cluster', {
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: options.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const taskRole = new iam.Role(this, 'GeneratorRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'k6 generator: read and write the run objects of the results bucket, nothing else',
    });
    taskRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects(`${RUNS_PREFIX}*`)],
      }),
    );
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Generator', {
      cpu: Math.round(options.vcpu * 1024),
      memoryLimitMiB: Math.round(options.memoryGb * 1024),
      taskRole,
      runtimePlatform: {
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        cpuArchitecture:
          options.cpuArchitecture === 'arm64' ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
      },
    });
    this.taskDefinition.addContainer(GENERATOR_CONTAINER, {
      image:
        options.image.kind === 'asset'
          ? ecs.ContainerImage.fromAsset(options.image.directory)
          : ecs.ContainerImage.fromRegistry(options.image.name),
      essential: true,
      stopTimeout: Duration.seconds(STOP_TIMEOUT_SECONDS),
      environment: { PEAKDAY_BUCKET: this.bucket.bucketName, K6_NO_USAGE_REPORT: 'true' },
      logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'k6' }),
      // k6 opens one connection per VU: the default 1,024 open files caps a generator's VUs.
      ulimits: [{ name: ecs.UlimitName.NOFILE, softLimit: 65_536, hardLimit: 65_536 }],
    });

    const out = (name: string, value: string) => new CfnOutput(this, name, { value });
    out(FLEET_OUTPUTS.cluster, cluster.clusterName);
    out(FLEET_OUTPUTS.taskDefinition, this.taskDefinition.taskDefinitionArn);
    out(FLEET_OUTPUTS.bucket, this.bucket.bucketName);
    out(FLEET_OUTPUTS.subnets, subnets.subnetIds.join(','));
    out(FLEET_OUTPUTS.securityGroup, securityGroup.securityGroupId);
    out(FLEET_OUTPUTS.assignPublicIp, options.vpcId ? 'DISABLED' : 'ENABLED');
    out(FLEET_OUTPUTS.logGroup, logGroup.logGroupName);
    out(FLEET_OUTPUTS.vcpu, String(options.vcpu));
    out(FLEET_OUTPUTS.memoryGb, String(options.memoryGb));

    acknowledgeRules(this, [
      {
        id: 'AwsSolutions-VPC7',
        reason:
          "The VPC is looked up, not created here: its flow log is its owner's (the reference stack logs rejected traffic)",
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${RUNS_PREFIX}*]`,
        reason:
          'Each run writes objects under its own runs/<id>/ key chosen at run time; the role reaches only the runs/ objects of this one bucket',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          "The execution role's ecr:GetAuthorizationToken has no resource-level permission in IAM; the CDK grants it on * by necessity",
      },
    ]);
    acknowledgeRules(this.taskDefinition, [
      {
        id: 'AwsSolutions-ECS2',
        reason: 'The environment holds only the results bucket name and a k6 switch, no secret',
      },
    ]);
  }
}
