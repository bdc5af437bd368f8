/**
 * Service metrics a budget can name from a run's timeline (`peakday collect`: CloudWatch, or the
 * local stack), in k6 threshold form with a `service` tag:
 *
 *   service_cpu{service:cart}: ['max<80']            CPU utilisation, percent, per period
 *   service_running_tasks{service:cart}: ['min>=2']  running tasks per period
 *   service_5xx{service:cart}: ['count<10']          5xx responses, summed over periods
 *
 * Each is read per timeline period; `max`, `min`, `avg` and `value` (the last period) apply to all,
 * `count` (the sum) to counts. A period whose datapoint is missing gives no verdict (the gate's 98).
 */

/** One timeline metric: the timeline field it reads and the aggregations it takes. */
export interface TimelineMetric {
  field: string;
  what: string;
  unit: string;
  /** Whether `count` (the sum over periods) means something: requests and errors, not levels. */
  countable: boolean;
}

/** The timeline metrics by budget name. */
export const TIMELINE_METRICS = {
  service_cpu: { field: 'cpu', what: 'CPU utilisation', unit: '%', countable: false },
  service_memory: { field: 'memory', what: 'memory utilisation', unit: '%', countable: false },
  service_running_tasks: { field: 'running', what: 'running tasks', unit: 'tasks', countable: false },
  service_desired_tasks: { field: 'desired', what: 'desired tasks', unit: 'tasks', countable: false },
  service_pending_tasks: { field: 'pending', what: 'pending tasks', unit: 'tasks', countable: false },
  service_requests: { field: 'requests', what: 'requests per period', unit: 'requests', countable: true },
  service_5xx: { field: 'http5xx', what: '5xx responses per period', unit: 'responses', countable: true },
  service_response_time: {
    field: 'responseTimeMs',
    what: 'average response time',
    unit: 'ms',
    countable: false,
  },
} as const satisfies Record<string, TimelineMetric>;

/** Aggregations a timeline metric takes. */
export function timelineAggregations(m: TimelineMetric): string[] {
  return m.countable ? ['max', 'min', 'avg', 'value', 'count'] : ['max', 'min', 'avg', 'value'];
}

/** The timeline metric of a budget name, if it is one. */
export function timelineMetric(name: string): TimelineMetric | undefined {
  return (TIMELINE_METRICS as Record<string, TimelineMetric>)[name];
}
