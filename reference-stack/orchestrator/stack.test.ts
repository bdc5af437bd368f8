import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEmfFile } from './emf.ts';
import { type Stack, startStack } from './stack.ts';
import { telemetryPaths } from './telemetry-files.ts';

const TEST_WORKER = fileURLToPath(new URL('./test-worker.ts', import.meta.url));
const small = { vcpu: 0.25, memoryGb: 0.5 };

let stack: Stack;
let dir = '';

async function until<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'peakday-stack-'));
  stack = await startStack({
    arch: 'headless',
    port: 0,
    dataDir: dir,
    clock: { timeScale: 60, eventStart: 0 },
    workerModule: TEST_WORKER,
    warmPoolSize: 1,
    launch: {
      startLatency: { distribution: 'fixed', seconds: 30 },
      healthCheck: { intervalSeconds: 30, checksToHealthy: 1 },
    },
    deregistrationDelaySeconds: 30,
    services: [
      { name: 'catalog', taskSize: small, minTasks: 2, scalable: true, public: false },
      { name: 'gateway', taskSize: { vcpu: 0.5, memoryGb: 1 }, minTasks: 2, scalable: true, public: true },
    ],
  });
});

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the local stack', () => {
  it('starts every service with its floor of healthy tasks behind the public port', async () => {
    const s = stack.status();
    expect(s.services.map((x) => [x.name, x.healthy, x.desired])).toEqual([
      ['catalog', 2, 2],
      ['gateway', 2, 2],
    ]);
    const r = await fetch(`${stack.url}/health`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ok', service: 'gateway' });
  });

  it('spreads requests over the healthy replicas of a service', async () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 20; i++) {
      const r = (await (await fetch(`${stack.url}/echo`)).json()) as { replica: number };
      seen.set(r.replica, (seen.get(r.replica) ?? 0) + 1);
    }
    expect(seen.size).toBe(2);
    for (const n of seen.values()) expect(n).toBeGreaterThanOrEqual(5);
  });

  it('admits a scaled-out task only after the emulated start latency and a health check', async () => {
    await until(
      'a warm catalog process',
      () => stack.status().services.find((x) => x.name === 'catalog')!.warm >= 1,
    );
    const t0 = stack.scheduler.eventNow();
    stack.setDesiredCount('catalog', 3);
    const c = stack.status().services.find((x) => x.name === 'catalog')!;
    expect([c.desired, c.pending, c.healthy]).toEqual([3, 1, 2]);
    await until(
      'catalog at 3 healthy',
      () => stack.status().services.find((x) => x.name === 'catalog')!.healthy === 3,
    );
    const waited = stack.scheduler.eventNow() - t0;
    // 30 s start latency + the first health check within one 30-s interval; at 60x one wall second of
    // host delay (a loaded 2-core machine) is another 60 event seconds, hence the loose upper bound.
    expect(waited).toBeGreaterThanOrEqual(30);
    expect(waited).toBeLessThan(30 + 30 + 60);
  });

  it('drains a task on scale-in and returns to the floor', async () => {
    const catalog = () => stack.status().services.find((x) => x.name === 'catalog')!;
    const ids = catalog().tasks.map((t) => t.id);
    expect(ids).toHaveLength(3);
    const newest = Math.max(...ids);
    stack.setDesiredCount('catalog', 2);
    // At once: the newest healthy task is deregistered (no new requests) and drains, still RUNNING.
    const c = catalog();
    expect([c.desired, c.running, c.healthy, c.draining]).toEqual([2, 3, 2, 1]);
    const drained = c.tasks.find((t) => t.state === 'draining');
    expect(drained?.id).toBe(newest);
    expect(drained?.pid).toBeGreaterThan(0);
    const pid = drained?.pid as number;
    await until('catalog back to 2 running', () => {
      const now = catalog();
      return now.running === 2 && now.healthy === 2 && now.draining === 0;
    });
    // Then it is stopped: gone from the service, its process exited; the two older tasks serve on.
    expect(
      catalog()
        .tasks.map((t) => t.id)
        .sort(),
    ).toEqual(ids.filter((id) => id !== newest).sort());
    await until('the drained process to exit', () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
  });

  it('rejects an unknown service and a negative count', () => {
    expect(() => stack.setDesiredCount('nope', 2)).toThrow(/no service nope/);
    expect(() => stack.setDesiredCount('catalog', -1)).toThrow(/whole number/);
  });

  it('writes per-period EMF records under CloudWatch names and dimensions', async () => {
    for (let i = 0; i < 5; i++) await fetch(`${stack.url}/echo?status=503`);
    const file = telemetryPaths(dir).metrics;
    const data = await until('a period with the 503s', () => {
      const d = readEmfFile(file).data;
      const total = d.filter((x) => x.name === 'HTTPCode_Target_5XX_Count').reduce((a, x) => a + x.value, 0);
      return total >= 5 && d;
    });
    const names = new Set(data.map((d) => `${d.namespace}:${d.name}`));
    for (const n of [
      'AWS/ECS:CPUUtilization',
      'AWS/ECS:MemoryUtilization',
      'ECS/ContainerInsights:RunningTaskCount',
      'ECS/ContainerInsights:DesiredTaskCount',
      'ECS/ContainerInsights:PendingTaskCount',
      'AWS/ApplicationELB:RequestCount',
      'AWS/ApplicationELB:RequestCountPerTarget',
      'AWS/ApplicationELB:TargetResponseTime',
      'AWS/DynamoDB:ConsumedReadCapacityUnits',
      'AWS/DynamoDB:ThrottledRequests',
    ]) {
      expect(names).toContain(n);
    }
    const cpu = data.find((d) => d.name === 'CPUUtilization')!;
    expect(cpu.dimensions).toEqual({ ClusterName: 'peakday', ServiceName: cpu.service });
    expect(cpu.period).toBe(60);
    expect(cpu.eventTime! % 60).toBe(0);
    const running = data.filter((d) => d.name === 'RunningTaskCount' && d.service === 'gateway');
    expect(running.every((d) => d.value === 2)).toBe(true);
  });

  it('calls period hooks with per-service metrics at the event time the period ends', async () => {
    const seen: [number, number][] = [];
    const off = stack.onPeriod((m, t) => seen.push([m.eventTime, t]));
    await until('one period', () => seen.length >= 1, 5_000);
    off();
    const [start, end] = seen[0]!;
    expect(end - start).toBe(60);
  });
});

describe('the control API on the public port', () => {
  const post = (path: string, body: unknown) =>
    fetch(`${stack.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('says the target is a peakday stack, with its arch and clock', async () => {
    const r = await fetch(`${stack.url}/_peakday/info`);
    expect(r.status).toBe(200);
    const info = (await r.json()) as Record<string, unknown>;
    expect(info).toMatchObject({
      peakday: true,
      kind: 'peakday-stack',
      arch: 'headless',
      maxLiveTimeScale: 60,
    });
    expect(info.clock).toMatchObject({ timeScale: 60 });
  });

  it.each([
    ['a time scale beyond 60x', { timeScale: 61, eventStart: 0 }, 400, 'time-scale-too-high'],
    ['a zero time scale', { timeScale: 0 }, 400, 'invalid-time-scale'],
    ['a non-object body', [1], 400, 'invalid-body'],
  ])('rejects %s with a 4xx and the error format', async (_name, body, status, code) => {
    const r = await post('/_peakday/clock', body);
    expect(r.status).toBe(status);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it('rejects malformed JSON and unknown services and endpoints', async () => {
    const bad = await fetch(`${stack.url}/_peakday/desired`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect((await post('/_peakday/desired', { service: 'nope', count: 2 })).status).toBe(404);
    expect((await fetch(`${stack.url}/_peakday/nothing`)).status).toBe(404);
  });

  it('re-anchors the event clock and keeps it within the live limit', async () => {
    const r = await post('/_peakday/clock', { timeScale: 30, eventStart: 3_600 });
    expect(r.status).toBe(200);
    const clock = (await r.json()) as { timeScale: number; eventNow: number };
    expect(clock.timeScale).toBe(30);
    expect(clock.eventNow).toBeGreaterThanOrEqual(3_600);
    expect(clock.eventNow).toBeLessThan(3_700);
    await post('/_peakday/clock', { timeScale: 60 });
  });

  it('sets a desired count and records it as a scaling activity', async () => {
    const r = await post('/_peakday/desired', { service: 'catalog', count: 2 });
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ name: 'catalog', desired: 2 });
    const { readScalingActivities } = await import('./telemetry-files.ts');
    const acts = readScalingActivities(telemetryPaths(dir).activities);
    expect(acts.at(-1)).toMatchObject({
      ResourceId: 'service/peakday/catalog',
      ScalableDimension: 'ecs:service:DesiredCount',
      StatusCode: 'Successful',
      toCapacity: 2,
    });
  });
});

describe('a task whose process dies', () => {
  it('is taken out of the load balancer and replaced by a new task', async () => {
    const before = stack.status().services.find((x) => x.name === 'catalog')!;
    expect(before.healthy).toBe(2);
    const victim = before.tasks.find((t) => t.state === 'healthy')!;
    process.kill(victim.pid!, 'SIGKILL');
    await until('a replacement task serving', () => {
      const c = stack.status().services.find((x) => x.name === 'catalog')!;
      return c.healthy === 2 && !c.tasks.some((t) => t.pid === victim.pid) && c;
    });
    // no request reaches the dead process meanwhile
    for (let i = 0; i < 5; i++) expect((await fetch(`${stack.url}/echo`)).status).toBe(200);
  });
});

describe('a task that is alive but stops answering', () => {
  it('fails its health checks, leaves the balancer, and is replaced and stopped, with service events', async () => {
    const before = stack.status().services.find((x) => x.name === 'gateway')!;
    expect(before.healthy).toBe(2);
    const victim = before.tasks.find((t) => t.state === 'healthy')!;
    process.kill(victim.pid!, 'SIGSTOP');
    try {
      // Taken out of service: marked unhealthy (no longer 'healthy'), then replaced and stopped.
      await until('the stopped gateway replica marked unhealthy', () =>
        stack
          .status()
          .services.find((x) => x.name === 'gateway')!
          .tasks.some((t) => t.id === victim.id && t.state !== 'healthy'),
      );
      const after = await until('a replacement serving and the unhealthy task gone', () => {
        const g = stack.status().services.find((x) => x.name === 'gateway')!;
        return g.healthy === 2 && !g.tasks.some((t) => t.id === victim.id) && g;
      });
      expect(after.replaced).toBeGreaterThanOrEqual(1);
      const kinds = after.events.filter((e) => e.taskId === victim.id || e.replaces === victim.id);
      expect(kinds.map((e) => e.kind)).toEqual(['task-unhealthy', 'task-started', 'task-stopped']);
      expect(kinds[0]!.message).toMatch(
        /is unhealthy in \(target-group gateway\) due to \(reason Request timed out\)/,
      );
      // Every request is served by a replica that answers (one stuck on the victim would time out).
      for (let i = 0; i < 10; i++) {
        const r = await fetch(`${stack.url}/echo`, { signal: AbortSignal.timeout(3_000) });
        expect(r.status).toBe(200);
        expect(((await r.json()) as { pid: number }).pid).not.toBe(victim.pid);
      }
      const { readServiceEvents } = await import('./telemetry-files.ts');
      const logged = readServiceEvents(telemetryPaths(dir).serviceEvents);
      expect(
        logged.filter((e) => e.service === 'gateway' && e.taskId === victim.id).map((e) => e.kind),
      ).toEqual(['task-unhealthy', 'task-stopped']);
      // The process itself is gone, not left stopped.
      expect(() => process.kill(victim.pid!, 0)).toThrow();
    } finally {
      try {
        process.kill(victim.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
