import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FleetSynth, synthFleetStack } from './app.ts';
import { FLEET_OUTPUTS, STOP_TIMEOUT_SECONDS } from './stack.ts';

const dirs: string[] = [];
let synth: FleetSynth;
let inVpc: FleetSynth;
beforeAll(async () => {
  const d = mkdtempSync(join(tmpdir(), 'peakday-fleet-cdk-'));
  dirs.push(d);
  synth = await synthFleetStack({ outdir: join(d, 'a'), vcpu: 4, memoryGb: 8 });
  inVpc = await synthFleetStack({ outdir: join(d, 'b'), vpcId: 'vpc-0123456789abcdef0' });
}, 240_000);
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the k6 fleet stack', () => {
  it('runs the generator image at the chosen CPU and memory, with a stop timeout for the upload', () => {
    const t = Template.fromJSON(synth.template);
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '4096',
      Memory: '8192',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'k6',
          StopTimeout: STOP_TIMEOUT_SECONDS,
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          Ulimits: [{ Name: 'nofile', SoftLimit: 65536, HardLimit: 65536 }],
        }),
      ],
    });
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('gives the task role read and write on the results bucket run objects only', () => {
    const t = Template.fromJSON(synth.template);
    const policies = t.findResources('AWS::IAM::Policy');
    const taskPolicy = Object.values(policies).find((p) =>
      JSON.stringify(p.Properties.Roles).includes('GeneratorRole'),
    );
    expect(taskPolicy).toBeDefined();
    const statements = taskPolicy?.Properties.PolicyDocument.Statement as {
      Action: string[];
      Resource: unknown;
    }[];
    expect(statements).toHaveLength(1);
    expect(statements[0]?.Action).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(JSON.stringify(statements[0]?.Resource)).toMatch(/Results.*\/runs\/\*/);
  });

  it('keeps results in an encrypted, private bucket whose run objects expire, with a log group', () => {
    const t = Template.fromJSON(synth.template);
    t.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: Match.anyValue(),
        PublicAccessBlockConfiguration: Match.objectLike({
          BlockPublicAcls: true,
          RestrictPublicBuckets: true,
        }),
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({ Prefix: 'runs/', ExpirationInDays: 14, Status: 'Enabled' }),
          ]),
        },
        LoggingConfiguration: Match.anyValue(),
      }),
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0' })],
    });
    for (const name of Object.values(FLEET_OUTPUTS))
      expect(Object.keys(synth.template.Outputs as object)).toContain(name);
  });

  it('runs in the default VPC with public IPs, or in a given VPC without', () => {
    const outputs = (s: FleetSynth) => s.template.Outputs as Record<string, { Value: unknown }>;
    expect(outputs(synth)[FLEET_OUTPUTS.assignPublicIp]?.Value).toBe('ENABLED');
    expect(outputs(inVpc)[FLEET_OUTPUTS.assignPublicIp]?.Value).toBe('DISABLED');
  });

  it('has no unacknowledged cdk-nag AwsSolutions finding, and says why for each acknowledged one', () => {
    expect(synth.nag.findings).toEqual([]);
    expect(inVpc.nag.findings).toEqual([]);
    for (const a of synth.nag.acknowledged) expect(a.reason.length).toBeGreaterThan(20);
  });
});
