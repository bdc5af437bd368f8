/**
 * Where the local stack writes its telemetry, and the scaling-activity log beside the metrics.
 * The telemetry stage (`peakday collect --source local`) reads exactly these files:
 *
 *   <dataDir>/telemetry/metrics.ndjson              EMF records, one line per group per period (emf.ts)
 *   <dataDir>/telemetry/scaling-activities.ndjson   ScalingActivity (core/run-format.ts) per line, in
 *                                                   DescribeScalingActivities' shape; a later line with
 *                                                   the same ActivityId supersedes an earlier one
 *                                                   (an activity is written InProgress, then Successful)
 *   <dataDir>/telemetry/service-events.ndjson       ServiceEvent (target-health.ts) per line: tasks that
 *                                                   failed health checks or exited, their replacements
 *                                                   and stops, like ECS DescribeServices' events
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ScalingActivity } from '../../core/run-format.ts';
import type { ServiceEvent } from './target-health.ts';

/** The telemetry files of a stack whose data directory is `dataDir`. */
export function telemetryPaths(dataDir: string): {
  dir: string;
  metrics: string;
  activities: string;
  serviceEvents: string;
} {
  const dir = join(dataDir, 'telemetry');
  return {
    dir,
    metrics: join(dir, 'metrics.ndjson'),
    activities: join(dir, 'scaling-activities.ndjson'),
    serviceEvents: join(dir, 'service-events.ndjson'),
  };
}

/** Appends one service event (a task replaced, stopped or exited) to the service-event log. */
export function appendServiceEvent(file: string, event: ServiceEvent): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(event)}\n`);
}

/** Reads the service-event log in order; unparseable lines (a torn last line) are skipped. */
export function readServiceEvents(file: string): ServiceEvent[] {
  if (!existsSync(file)) return [];
  const out: ServiceEvent[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as ServiceEvent;
      if (typeof e.id === 'string' && typeof e.kind === 'string') out.push(e);
    } catch {
      // a torn line: skipped
    }
  }
  return out;
}

/** Appends one activity (a new one or a status update of an earlier one) to the activity log. */
export function appendScalingActivity(file: string, activity: ScalingActivity): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(activity)}\n`);
}

/**
 * Reads the activity log: the latest version of each activity, in the order activities first appeared.
 * Unparseable lines (a torn last line) are skipped.
 */
export function readScalingActivities(file: string): ScalingActivity[] {
  if (!existsSync(file)) return [];
  const byId = new Map<string, ScalingActivity>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const a = JSON.parse(line) as ScalingActivity;
      if (typeof a.ActivityId === 'string') byId.set(a.ActivityId, a);
    } catch {
      // a torn line: skipped
    }
  }
  return [...byId.values()];
}
