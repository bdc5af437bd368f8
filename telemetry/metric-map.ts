/**
 * Which CloudWatch metric fills which timeline field, shared by every source so that the local stack
 * (same names via EMF) and CloudWatch give the same timeline. Namespaces and names:
 * docs/sources.md, "CloudWatch metric names".
 */
import type { TimelineField } from './timeline.ts';

/** One metric's place in the timeline: field, the statistic to ask CloudWatch for, a unit factor. */
export interface MetricMapping {
  namespace: string;
  name: string;
  field: TimelineField;
  stat: 'Average' | 'Sum' | 'Maximum';
  /** Multiplies the value into timeline units (TargetResponseTime seconds → ms). */
  factor: number;
  additive: boolean;
  /** What the user should check when this metric has no data on AWS. */
  hintWhenMissing: string;
}

/** Service-level metrics by `namespace/name`. */
export const SERVICE_METRICS = {
  'AWS/ECS/CPUUtilization': {
    namespace: 'AWS/ECS',
    name: 'CPUUtilization',
    field: 'cpu',
    stat: 'Average',
    factor: 1,
    additive: false,
    hintWhenMissing: 'is the service name right?',
  },
  'AWS/ECS/MemoryUtilization': {
    namespace: 'AWS/ECS',
    name: 'MemoryUtilization',
    field: 'memory',
    stat: 'Average',
    factor: 1,
    additive: false,
    hintWhenMissing: 'is the service name right?',
  },
  'ECS/ContainerInsights/DesiredTaskCount': {
    namespace: 'ECS/ContainerInsights',
    name: 'DesiredTaskCount',
    field: 'desired',
    stat: 'Average',
    factor: 1,
    additive: false,
    hintWhenMissing: 'enable Container Insights on the cluster',
  },
  'ECS/ContainerInsights/RunningTaskCount': {
    namespace: 'ECS/ContainerInsights',
    name: 'RunningTaskCount',
    field: 'running',
    stat: 'Average',
    factor: 1,
    additive: false,
    hintWhenMissing: 'enable Container Insights on the cluster',
  },
  'ECS/ContainerInsights/PendingTaskCount': {
    namespace: 'ECS/ContainerInsights',
    name: 'PendingTaskCount',
    field: 'pending',
    stat: 'Average',
    factor: 1,
    additive: false,
    hintWhenMissing: 'enable Container Insights on the cluster',
  },
  'AWS/ApplicationELB/RequestCount': {
    namespace: 'AWS/ApplicationELB',
    name: 'RequestCount',
    field: 'requests',
    stat: 'Sum',
    factor: 1,
    additive: false,
    hintWhenMissing: 'is the service behind a load balancer target group?',
  },
  'AWS/ApplicationELB/RequestCountPerTarget': {
    namespace: 'AWS/ApplicationELB',
    name: 'RequestCountPerTarget',
    field: 'requestsPerTarget',
    stat: 'Sum',
    factor: 1,
    additive: false,
    hintWhenMissing: 'is the service behind a load balancer target group?',
  },
  'AWS/ApplicationELB/TargetResponseTime': {
    namespace: 'AWS/ApplicationELB',
    name: 'TargetResponseTime',
    field: 'responseTimeMs',
    stat: 'Average',
    factor: 1000,
    additive: false,
    hintWhenMissing: 'is the service behind a load balancer target group?',
  },
  'AWS/ApplicationELB/HealthyHostCount': {
    namespace: 'AWS/ApplicationELB',
    name: 'HealthyHostCount',
    field: 'healthy',
    stat: 'Average',
    factor: 1,
    additive: false,
    hintWhenMissing: 'is the service behind a load balancer target group?',
  },
  'AWS/ApplicationELB/HTTPCode_Target_5XX_Count': {
    namespace: 'AWS/ApplicationELB',
    name: 'HTTPCode_Target_5XX_Count',
    field: 'http5xx',
    stat: 'Sum',
    factor: 1,
    additive: true,
    hintWhenMissing: 'no 5xx is reported as no data',
  },
  'AWS/ApplicationELB/HTTPCode_ELB_5XX_Count': {
    namespace: 'AWS/ApplicationELB',
    name: 'HTTPCode_ELB_5XX_Count',
    field: 'http5xx',
    stat: 'Sum',
    factor: 1,
    additive: true,
    hintWhenMissing: 'no 5xx is reported as no data',
  },
} as const satisfies Record<string, MetricMapping>;

/** DynamoDB metrics into the timeline's per-table store usage. */
export const STORE_METRICS = {
  ConsumedReadCapacityUnits: 'readUnits',
  ConsumedWriteCapacityUnits: 'writeUnits',
  ThrottledRequests: 'throttles',
} as const satisfies Record<string, 'readUnits' | 'writeUnits' | 'throttles'>;

/** The mapping for a namespace and metric name, if the timeline uses it. */
export function serviceMetric(namespace: string, name: string): MetricMapping | undefined {
  return (SERVICE_METRICS as Record<string, MetricMapping>)[`${namespace}/${name}`];
}
