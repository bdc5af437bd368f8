/**
 * Engine health, sampled once per second: scheduler lag (from the engine's own histogram), event-loop
 * delay (perf_hooks monitorEventLoopDelay), host CPU (os.cpus() deltas) and this process's CPU
 * (process.cpuUsage deltas, in cores). This is the I/O edge of run validity (engine/validity.ts).
 */
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { EngineHealthRecord } from '../core/run-format.ts';
import type { LatencyHistogram } from './histogram.ts';

/** Samples health records and keeps the run-wide event-loop delay. */
export interface HealthSampler {
  sample(t: number, wall: number, lagUs: LatencyHistogram, inFlight: number): EngineHealthRecord;
  /** Run-wide event-loop delay p99 (ms). */
  loopDelayP99Ms(): number;
  stop(): void;
}

function cpuTotals(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Starts sampling; call `stop` at the end of the run. */
export function createHealthSampler(): HealthSampler {
  const second = monitorEventLoopDelay({ resolution: 10 });
  const whole = monitorEventLoopDelay({ resolution: 10 });
  second.enable();
  whole.enable();
  let lastCpu = cpuTotals();
  let lastProc = process.cpuUsage();
  let lastAt = performance.now();
  const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
  return {
    sample(t, wall, lag, inFlight) {
      const now = performance.now();
      const cpu = cpuTotals();
      const proc = process.cpuUsage();
      const dTotal = cpu.total - lastCpu.total;
      const hostCpu = dTotal > 0 ? 1 - (cpu.idle - lastCpu.idle) / dTotal : 0;
      const procUs = proc.user - lastProc.user + proc.system - lastProc.system;
      const processCpu = now > lastAt ? procUs / 1000 / (now - lastAt) : 0;
      lastCpu = cpu;
      lastProc = proc;
      lastAt = now;
      const rec: EngineHealthRecord = {
        t: Math.round(t * 1000) / 1000,
        wall: Math.round(wall * 1000) / 1000,
        schedulerLag: {
          p50: r2(lag.totalCount ? lag.getValueAtPercentile(50) / 1000 : 0),
          p99: r2(lag.totalCount ? lag.getValueAtPercentile(99) / 1000 : 0),
          max: r2(lag.totalCount ? lag.maxValue / 1000 : 0),
        },
        eventLoopDelay: {
          p50: r2(ms(second.percentile(50))),
          p99: r2(ms(second.percentile(99))),
          max: r2(ms(second.max)),
        },
        hostCpu: r2(Math.min(1, Math.max(0, hostCpu))),
        processCpu: r2(processCpu),
        inFlight,
        rssMb: Math.round(process.memoryUsage.rss() / 1048576),
      };
      second.reset();
      return rec;
    },
    loopDelayP99Ms: () => ms(whole.percentile(99)),
    stop() {
      second.disable();
      whole.disable();
    },
  };
}
