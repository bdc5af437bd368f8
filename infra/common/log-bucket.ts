/**
 * The S3 bucket every load balancer of a peakday stack writes its access logs to: encrypted (SSE-S3,
 * the only encryption ALB log delivery supports), TLS only, no public access, objects expiring after
 * a retention period so a forgotten stack does not grow its bill. Shared by the reference stack and
 * the k6 fleet.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledgeRules } from './nag.ts';

/** Options of {@link createAccessLogBucket}. */
export interface AccessLogBucketOptions {
  /** Days to keep access logs (default 30). */
  retentionDays?: number;
  /** Keep the bucket when the stack is destroyed (default false: emptied and removed). */
  retain?: boolean;
}

/** Creates the access-log bucket. */
export function createAccessLogBucket(scope: Construct, options: AccessLogBucketOptions = {}): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [{ expiration: Duration.days(options.retentionDays ?? 30) }],
    removalPolicy: options.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    autoDeleteObjects: !options.retain,
  });
  acknowledgeRules(bucket, [
    {
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the access-log destination itself; logging it into itself would loop',
    },
  ]);
  return bucket;
}
