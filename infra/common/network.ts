/**
 * The network every peakday stack on AWS sits in: a VPC over two Availability Zones, public subnets
 * for the load balancer, private subnets for tasks. NAT is optional: without it (the default: a NAT
 * gateway costs per hour and per GB, docs/sources.md) tasks reach AWS through VPC endpoints alone;
 * with it they can also reach the internet. Shared by the reference stack and the k6 fleet.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { acknowledgeRules } from './nag.ts';

/** Interface endpoints a Fargate task needs without NAT, by short name. */
export const INTERFACE_ENDPOINTS = {
  ecrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
  ecrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
  logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  events: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
  monitoring: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
} as const;

/** Short name of one interface endpoint. */
export type InterfaceEndpointName = keyof typeof INTERFACE_ENDPOINTS;

/** Options of {@link createNetwork}. */
export interface NetworkOptions {
  /** NAT gateways (0: none, tasks use endpoints only; 1: one shared by both AZs). */
  natGateways: 0 | 1;
  /** Interface endpoints to create (gateway endpoints for S3 and DynamoDB are always created: free). */
  interfaceEndpoints: readonly InterfaceEndpointName[];
  /** Days to keep the VPC flow log (rejected traffic only). */
  flowLogRetention?: logs.RetentionDays;
}

/** The VPC and where tasks go. */
export interface Network {
  vpc: ec2.Vpc;
  /** Subnets for tasks: private, with or without egress. */
  taskSubnets: ec2.SubnetSelection;
  /** The security group of the interface endpoints (HTTPS from inside the VPC). */
  endpointSecurityGroup: ec2.SecurityGroup;
}

/** Number of Availability Zones every stack spans (two: survives one AZ, costs the least). */
export const AZ_COUNT = 2;

/** Creates the VPC, its gateway and interface endpoints and a flow log of rejected traffic. */
export function createNetwork(scope: Construct, options: NetworkOptions): Network {
  const privateType =
    options.natGateways > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: AZ_COUNT,
    natGateways: options.natGateways,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'tasks', subnetType: privateType, cidrMask: 22 },
    ],
    restrictDefaultSecurityGroup: false,
  });
  const flowLogGroup = new logs.LogGroup(scope, 'FlowLog', {
    retention: options.flowLogRetention ?? logs.RetentionDays.ONE_WEEK,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  vpc.addFlowLog('RejectedTraffic', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
    trafficType: ec2.FlowLogTrafficType.REJECT,
  });
  const taskSubnets: ec2.SubnetSelection = { subnetType: privateType };
  vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [taskSubnets] });
  vpc.addGatewayEndpoint('DynamoDb', {
    service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
    subnets: [taskSubnets],
  });
  const endpointSecurityGroup = new ec2.SecurityGroup(scope, 'EndpointSg', {
    vpc,
    description: 'Interface endpoints: HTTPS from inside the VPC',
    allowAllOutbound: false,
  });
  endpointSecurityGroup.addIngressRule(
    ec2.Peer.ipv4(vpc.vpcCidrBlock),
    ec2.Port.tcp(443),
    'HTTPS from the VPC',
  );
  acknowledgeRules(endpointSecurityGroup, [
    {
      id: 'AwsSolutions-EC23',
      reason: "ingress is the VPC's own CIDR (a token cdk-nag cannot resolve), never 0.0.0.0/0",
    },
  ]);
  for (const name of options.interfaceEndpoints) {
    vpc.addInterfaceEndpoint(`${name[0]!.toUpperCase()}${name.slice(1)}`, {
      service: INTERFACE_ENDPOINTS[name],
      subnets: taskSubnets,
      securityGroups: [endpointSecurityGroup],
      privateDnsEnabled: true,
    });
  }
  return { vpc, taskSubnets, endpointSecurityGroup };
}
