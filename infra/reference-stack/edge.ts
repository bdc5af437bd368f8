/**
 * The edge on AWS: a CloudFront distribution in front of the reference stack's ALB, the cloud
 * counterpart of the local edge cache (reference-stack/edge/). Its cache behaviours are generated from
 * the SAME route table and TTL bounds the local edge proxy uses (`EDGE_ROUTES`, `DEFAULT_ROUTE_TTLS`,
 * reference-stack/edge/cache-policy.ts): one source of truth, as the scaling file is for scaling.
 *
 * - A route whose maximum TTL is above 0 (the storefront's home, category and product pages) is cached,
 *   honouring the origin's `Cache-Control` within the route's [min, default, max] TTL (CloudFront's own
 *   rule, which cache-policy.ts copies). Its cache key is the path and query string; cookies and
 *   headers are neither in the key nor forwarded (as locally), so a cached page cannot depend on a session.
 * - A route whose maximum TTL is 0 (the cart, and everything else: the API, GraphQL, checkout, the
 *   control API) is not cached: CachingDisabled, every viewer header, cookie and query string forwarded
 *   except Host (AllViewerExceptHostHeader), every method allowed.
 * - Every behaviour runs a CloudFront Function on viewer request that admits only the CIDRs the deployer
 *   allowed on the ALB (`--allow-cidr`): the distribution is no wider open than the ALB was.
 * - The ALB admits CloudFront through the origin-facing managed prefix list, looked up at deploy time,
 *   and forwards only what carries the stack's secret origin header (origin-access.ts), which the
 *   distribution adds to every origin request: other accounts' distributions share the prefix list.
 *
 * aws-cdk-lib is imported by the stack module that calls this; this module adds no import cost of its own
 * beyond the constructs it builds.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import {
  DEFAULT_ROUTE_TTLS,
  EDGE_ROUTES,
  type EdgeRoute,
  type RouteTtl,
} from '../../reference-stack/edge/cache-policy.ts';
import { acknowledgeRules } from '../common/nag.ts';
import { ORIGIN_SECRET_HEADER } from './origin-access.ts';

/**
 * CloudFront path patterns of each route but `api` (the default behaviour takes whatever matches none).
 * The same paths as `routeOf` in reference-stack/edge/cache-policy.ts and the ALB's page rule; the template
 * tests hold all three together.
 */
export const EDGE_PATH_PATTERNS: Record<Exclude<EdgeRoute, 'api'>, readonly string[]> = {
  home: ['/'],
  category: ['/c/*'],
  product: ['/p/*'],
  cart: ['/cart'],
};

/** The route CloudFront's default behaviour serves (everything that matches no path pattern). */
export const DEFAULT_EDGE_ROUTE: EdgeRoute = 'api';

/** The name of the AWS-managed prefix list of CloudFront's origin-facing addresses. */
export const CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST = 'com.amazonaws.global.cloudfront.origin-facing';

/** The construct id the CDK gives the singleton Lambda behind every AwsCustomResource of a stack. */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

/** One cache behaviour, as data: which route, which path, cached within which TTLs or not at all. */
export interface EdgeBehaviourSpec {
  route: EdgeRoute;
  /** The path pattern, or `*` for the default behaviour. */
  pathPattern: string;
  /** Null: not cached (CachingDisabled, all viewer values but Host forwarded). */
  ttl: RouteTtl | null;
}

/** The behaviours of the distribution, from the edge's route table and TTL bounds. Pure. */
export function edgeBehaviourSpecs(
  ttls: Record<EdgeRoute, RouteTtl> = DEFAULT_ROUTE_TTLS,
): EdgeBehaviourSpec[] {
  const out: EdgeBehaviourSpec[] = [];
  for (const route of EDGE_ROUTES) {
    const ttl = ttls[route].maxTtl > 0 ? ttls[route] : null;
    if (route === DEFAULT_EDGE_ROUTE) out.push({ route, pathPattern: '*', ttl });
    else
      for (const p of EDGE_PATH_PATTERNS[route as Exclude<EdgeRoute, 'api'>])
        out.push({ route, pathPattern: p, ttl });
  }
  return out;
}

/**
 * The CloudFront Function (cloudfront-js-2.0) that admits only the allowed CIDRs, IPv4 and IPv6: 403 for
 * anyone else. Plain ES5-style code, as CloudFront Functions run it; `handler` is its entry point.
 */
export function viewerAllowListCode(allowCidrs: readonly string[]): string {
  return `var ALLOW = ${JSON.stringify(allowCidrs)};
function v4(ip) {
  var p = ip.split('.');
  if (p.length !== 4) return null;
  var n = 0;
  for (var i = 0; i < 4; i++) { var x = Number(p[i]); if (!(x >= 0 && x <= 255) || p[i] === '') return null; n = n * 256 + x; }
  return n;
}
function v6(ip) {
  var halves = ip.toLowerCase().split('::');
  if (halves.length > 2) return null;
  var head = halves[0] ? halves[0].split(':') : [];
  var tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  var fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return null;
  var groups = head.slice();
  for (var i = 0; i < fill; i++) groups.push('0');
  groups = groups.concat(tail);
  var bits = '';
  for (var j = 0; j < 8; j++) { var g = parseInt(groups[j], 16); if (!(g >= 0 && g <= 65535)) return null; bits += ('0000000000000000' + g.toString(2)).slice(-16); }
  return bits;
}
function allowed(ip) {
  for (var i = 0; i < ALLOW.length; i++) {
    var c = ALLOW[i].split('/'), len = Number(c[1]);
    if (c[0].indexOf(':') < 0) {
      var a = v4(ip), b = v4(c[0]);
      if (a === null || b === null) continue;
      if (len === 0) return true;
      var shift = Math.pow(2, 32 - len);
      if (Math.floor(a / shift) === Math.floor(b / shift)) return true;
    } else {
      var x = v6(ip), y = v6(c[0]);
      if (x === null || y === null) continue;
      if (x.slice(0, len) === y.slice(0, len)) return true;
    }
  }
  return false;
}
function handler(event) {
  if (allowed(event.viewer.ip)) return event.request;
  return { statusCode: 403, statusDescription: 'Forbidden', headers: { 'content-type': { value: 'text/plain' } }, body: 'not in the allowed CIDRs of this peakday stack (--allow-cidr)\\n' };
}`;
}

/** Everything the edge needs from the stack. */
export interface EdgeOptions {
  arch: string;
  loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The ALB's security group: gets the CloudFront prefix list on `listenPort`. */
  loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** 443 with a certificate (CloudFront connects over HTTPS), else 80. */
  listenPort: number;
  /**
   * With a certificate: a DNS name on that certificate that resolves to the ALB (the deployer's record).
   * CloudFront checks the origin's certificate against the origin's domain name, which the ALB's own
   * DNS name never matches.
   */
  originDomain?: string;
  /** The CIDRs the deployer allowed: the only viewers the distribution answers. */
  allowCidrs: readonly string[];
  /**
   * The secret origin header's value (a deploy-time reference to a Secrets Manager secret, never a
   * literal): CloudFront adds `ORIGIN_SECRET_HEADER` with it to every origin request, and the ALB's
   * listener rules forward only requests that carry it (origin-access.ts).
   */
  originSecretValue: string;
  logBucket: s3.IBucket;
  /** TTL bounds per route (default: the local edge's). */
  routeTtls?: Record<EdgeRoute, RouteTtl>;
}

/** The CloudFront distribution in front of the ALB, and the ALB's ingress from CloudFront. */
export class EdgeDistribution extends Construct {
  /** The distribution. */
  readonly distribution: cloudfront.Distribution;
  /** The origin-facing prefix list's id, resolved at deploy time. */
  readonly prefixListId: string;

  constructor(scope: Construct, id: string, options: EdgeOptions) {
    super(scope, id);
    const https = options.listenPort === 443;
    if (https && !options.originDomain)
      throw new Error(
        'the edge over HTTPS needs the origin domain: a DNS name on the certificate that resolves to the ALB',
      );
    const origin = new origins.HttpOrigin(options.originDomain ?? options.loadBalancer.loadBalancerDnsName, {
      protocolPolicy: https
        ? cloudfront.OriginProtocolPolicy.HTTPS_ONLY
        : cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      ...(https ? { httpsPort: 443, originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2] } : {}),
      httpPort: 80,
      readTimeout: Duration.seconds(30),
      // Other accounts' distributions reach the ALB through the same prefix list; they cannot add this.
      customHeaders: { [ORIGIN_SECRET_HEADER]: options.originSecretValue },
    });
    const allowList = new cloudfront.Function(this, 'ViewerAllowList', {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: `peakday ${options.arch}: admit only the --allow-cidr CIDRs`,
      code: cloudfront.FunctionCode.fromInline(viewerAllowListCode(options.allowCidrs)),
    });
    const functionAssociations = [
      { function: allowList, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
    ];
    const policies = new Map<EdgeRoute, cloudfront.ICachePolicy>();
    const behaviourOf = (spec: EdgeBehaviourSpec): cloudfront.BehaviorOptions => {
      if (spec.ttl === null)
        return {
          origin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          compress: true,
          functionAssociations,
        };
      let policy = policies.get(spec.route);
      if (!policy) {
        const t = spec.ttl;
        policy = new cloudfront.CachePolicy(this, `${cap(spec.route)}CachePolicy`, {
          comment: `peakday ${options.arch} ${spec.route} pages: Cache-Control within [${t.minTtl}, ${t.maxTtl}] s, default ${t.defaultTtl} s (reference-stack/edge)`,
          minTtl: Duration.seconds(t.minTtl),
          defaultTtl: Duration.seconds(t.defaultTtl),
          maxTtl: Duration.seconds(t.maxTtl),
          cookieBehavior: cloudfront.CacheCookieBehavior.none(),
          headerBehavior: cloudfront.CacheHeaderBehavior.none(),
          queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
          enableAcceptEncodingGzip: true,
          enableAcceptEncodingBrotli: true,
        });
        policies.set(spec.route, policy);
      }
      return {
        origin,
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
        cachePolicy: policy,
        compress: true,
        functionAssociations,
      };
    };
    const specs = edgeBehaviourSpecs(options.routeTtls);
    const defaultSpec = specs.find((s) => s.pathPattern === '*')!;
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `peakday ${options.arch}: the edge in front of the ALB`,
      defaultBehavior: behaviourOf(defaultSpec),
      additionalBehaviors: Object.fromEntries(
        specs.filter((s) => s !== defaultSpec).map((s) => [s.pathPattern, behaviourOf(s)]),
      ),
      enableLogging: true,
      logBucket: options.logBucket,
      logFilePrefix: `cloudfront-${options.arch}/`,
      // North America and Europe: the pricing table's (United States) prices.
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // IPv6 only when an IPv6 CIDR is allowed: a deployer allowed by its IPv4 address whose machine
      // prefers IPv6 would otherwise reach the distribution over IPv6 and be refused (the ALB is IPv4).
      enableIpv6: options.allowCidrs.some((c) => c.includes(':')),
      minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
    });
    // CloudFront's additional metrics (CacheHitRate, OriginLatency, the error rates by code): what
    // `collect --source cloudwatch` reads into the report's Edge section, as the local edge writes them.
    // Billed per metric as CloudWatch metrics (the hourly cost's "CloudFront additional metrics").
    new cloudfront.CfnMonitoringSubscription(this, 'AdditionalMetrics', {
      distributionId: this.distribution.distributionId,
      monitoringSubscription: {
        realtimeMetricsSubscriptionConfig: { realtimeMetricsSubscriptionStatus: 'Enabled' },
      },
    });
    if (!https)
      acknowledgeRules(this.distribution, [
        {
          id: 'AwsSolutions-CFR5',
          reason:
            'without a certificate CloudFront reaches the ALB over HTTP: the ALB DNS name can carry no certificate. --certificate-arn with --edge-origin-domain makes it HTTPS with TLSv1.2',
        },
      ]);
    acknowledgeRules(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'no geo restriction by default: a rehearsal is limited to the deployer CIDRs by the viewer-request function instead',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'no WAF web ACL: the viewer-request function admits only the deployer CIDRs (--allow-cidr), and a web ACL has a monthly charge of its own',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'the distribution uses the default *.cloudfront.net certificate, whose viewer security policy CloudFront fixes; TLSv1.2_2021 applies once a custom domain certificate is attached',
      },
    ]);

    // The ALB admits CloudFront's origin-facing addresses. The template has no account and region
    // baked in, so the prefix list's id (regional) is looked up at deploy time.
    const lookup = new cr.AwsCustomResource(this, 'OriginFacingPrefixList', {
      onUpdate: {
        service: 'EC2',
        action: 'DescribeManagedPrefixLists',
        parameters: {
          Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST] }],
        },
        physicalResourceId: cr.PhysicalResourceId.of(CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'PrefixListLookupLogs', {
        retention: logs.RetentionDays.ONE_WEEK,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    acknowledgeRules(lookup, [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ec2:DescribeManagedPrefixLists supports no resource-level permission (IAM service authorization reference: no resource type); it is the only action granted',
      },
    ]);
    // The CDK's one Lambda behind every AwsCustomResource of the stack (a singleton at the stack's root).
    const provider = Stack.of(this).node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
    if (provider)
      acknowledgeRules(provider, [
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            'the CDK custom-resource Lambda (the prefix-list lookup) writes its own logs through the AWS-managed basic execution policy: logs:CreateLogStream and PutLogEvents only',
        },
      ]);
    this.prefixListId = lookup.getResponseField('PrefixLists.0.PrefixListId');
    options.loadBalancerSecurityGroup.addIngressRule(
      ec2.Peer.prefixList(this.prefixListId),
      ec2.Port.tcp(options.listenPort),
      'CloudFront origin-facing addresses (the edge)',
    );
  }
}

function cap(s: string): string {
  return `${s[0]!.toUpperCase()}${s.slice(1)}`;
}
