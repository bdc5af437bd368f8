/**
 * EMF from a service task on ECS: with no orchestrator above it (no IPC parent), a replica writes its
 * own custom metrics as CloudWatch Embedded Metric Format lines to stdout, which the awslogs driver
 * ships to CloudWatch Logs and CloudWatch turns into metrics, under the SAME namespace, names and
 * dimensions the local orchestrator writes (reference-stack/orchestrator/emf.ts): today
 * `Peakday/Events EventsPublished` per ClusterName and ServiceName. The AWS/ECS, ALB and DynamoDB
 * metrics come from AWS itself on ECS. Enabled by PEAKDAY_EMF=stdout (set by infra/reference-stack).
 */
import { type EmfRecordInput, formatEmfRecord } from './orchestrator/emf.ts';
import type { Arch, ServiceName } from './topology.ts';

/** The environment variable that turns it on, and its one value. */
export const EMF_ENV = 'PEAKDAY_EMF';

/** Accumulates a task's counters and writes one EMF line per period. */
export interface StdoutEmf {
  /** Adds the counters of one stats period. */
  add(stats: { eventsPublished?: number }): void;
  /** Writes the period's line (when anything was counted) and starts the next period. */
  flush(nowMs: number): void;
}

/** Creates the writer; `write` defaults to stdout. */
export function createStdoutEmf(options: {
  cluster: string;
  service: ServiceName;
  arch: Arch;
  startedAtMs: number;
  periodSeconds: number;
  write?: (line: string) => void;
}): StdoutEmf {
  const write = options.write ?? ((l: string) => process.stdout.write(l));
  let published = 0;
  let periodStartMs = options.startedAtMs;
  return {
    add(stats) {
      published += stats.eventsPublished ?? 0;
    },
    flush(nowMs) {
      const record: EmfRecordInput = {
        group: 'Peakday/Events',
        dimensions: { ClusterName: options.cluster, ServiceName: options.service },
        values: { EventsPublished: published },
        info: {
          eventTime: Math.round((periodStartMs - options.startedAtMs) / 1000),
          period: options.periodSeconds,
          service: options.service,
          arch: options.arch,
        },
        timestampMs: nowMs,
      };
      write(`${JSON.stringify(formatEmfRecord(record))}\n`);
      published = 0;
      periodStartMs = nowMs;
    },
  };
}
