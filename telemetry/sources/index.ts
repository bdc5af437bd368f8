/** The registry of telemetry sources (`peakday collect --source <name>`). */
import { cloudwatchSource } from './cloudwatch.ts';
import { localSource } from './local.ts';
import type { TelemetrySource } from './source.ts';

/** Sources by name. */
export const telemetrySources = {
  local: localSource,
  cloudwatch: cloudwatchSource,
} satisfies Record<string, TelemetrySource>;

/** A source's name. */
export type TelemetrySourceName = keyof typeof telemetrySources;
