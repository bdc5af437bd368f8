/**
 * The supervisor with the autoscaler plugged into the stack's period hook: load above the CPU target
 * for three 60-s periods (plus the metric lag) makes target tracking raise the desired count, the
 * activity is written to the telemetry, and the new tasks serve after their emulated start latency
 * and health check. Runs the monolith with the protocol test worker (10 emulated CPU-ms per request)
 * at 60x, so a minute of event time is a wall second.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type Supervisor, startSupervisor } from './supervisor.ts';
import { readScalingActivities, telemetryPaths } from './telemetry-files.ts';

const TEST_WORKER = fileURLToPath(new URL('./test-worker.ts', import.meta.url));
const dirs: string[] = [];
let sup: Supervisor | undefined;

afterAll(async () => {
  await sup?.shutdown('test done');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SCALING = `version: 1
cluster: peakday-test
defaults:
  minCapacity: 2
  maxCapacity: 4
  launch:
    startLatency: { distribution: fixed, seconds: 30s }
    healthCheck: { interval: 30s, checksToHealthy: 1 }
  policies:
    - name: cpu-target
      type: TargetTrackingScaling
      metric: ECSServiceAverageCPUUtilization
      targetValue: 2
      scaleOutCooldown: 300s
      scaleInCooldown: 300s
      alarms: { period: 60s, scaleOutDatapoints: 3, scaleInDatapoints: 15, scaleInRatio: 0.9, metricLag: 60s }
services:
  monolith:
`;

describe('the supervisor with the autoscaler', () => {
  it('scales a service out after sustained load, records the activity, and admits the new tasks', {
    timeout: 120_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-sup-'));
    dirs.push(dir);
    const scalingFile = join(dir, 'scaling.yaml');
    writeFileSync(scalingFile, SCALING);
    sup = await startSupervisor({
      cwd: dir,
      arch: 'monolith',
      host: '127.0.0.1',
      port: 0,
      mode: 'foreground',
      autoscaling: true,
      scalingFile,
      workerModule: TEST_WORKER,
      warmPoolSize: 1,
      clock: { timeScale: 60, eventStart: 0 },
      handleSignals: false,
    });
    const stack = sup.stack;
    expect(stack.status().services[0]).toMatchObject({ name: 'monolith', desired: 2, healthy: 2 });
    // 1 vCPU tasks, 10 CPU-ms per request: ~10 requests per wall second (= per event minute) puts
    // each of 2 tasks near 5% CPU, above the 2% target.
    const end = Date.now() + 60_000;
    let activities: ReturnType<typeof readScalingActivities> = [];
    while (Date.now() < end) {
      await Promise.all(
        Array.from({ length: 3 }, () => fetch(`${stack.url}/load`).then((r) => r.arrayBuffer())),
      );
      await new Promise((r) => setTimeout(r, 100));
      activities = readScalingActivities(telemetryPaths(stack.dataDir).activities).filter(
        (a) => a.StatusCode === 'Successful' && (a.toCapacity ?? 0) > 2,
      );
      if (activities.length > 0) break;
    }
    expect(activities[0]).toMatchObject({ ResourceId: 'service/peakday-test/monolith', fromCapacity: 2 });
    // At least 3 datapoints above target and the metric lag passed since the stack started.
    expect(activities[0]!.eventTime).toBeGreaterThanOrEqual(3 * 60);
    const want = activities[0]!.toCapacity!;
    expect(stack.status().services[0]!.desired).toBe(want);
    const deadline = Date.now() + 30_000;
    while (stack.status().services[0]!.healthy < want && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(stack.status().services[0]!.healthy).toBe(want);
  });
});
