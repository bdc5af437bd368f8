import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createScalingState } from '../autoscaling/decide.ts';
import { launchTask } from '../autoscaling/tasks.ts';
import { LoadBalancer } from './balancer.ts';
import { EventScheduler } from './event-scheduler.ts';
import { ServiceFleet } from './service-fleet.ts';

// Real replica processes (the orchestrator's test worker) behind a real balancer, on an event clock at
// 60x: a task launched now stays PENDING for the 600-s start latency (10 s of wall time).
const TEST_WORKER = fileURLToPath(new URL('./test-worker.ts', import.meta.url));
const scheduler = new EventScheduler({ timeScale: 60, eventStart: 0 });
const balancer = new LoadBalancer('catalog');
const fleet = new ServiceFleet({
  service: 'catalog',
  balancer,
  scheduler,
  workerModule: TEST_WORKER,
  logFd: 'ignore',
  launch: {
    startLatency: { distribution: 'fixed', seconds: 600 },
    healthCheck: { intervalSeconds: 30, checksToHealthy: 1 },
  },
  deregistrationDelaySeconds: 30,
  warmPoolSize: 1,
  seed: 1,
  maxTasks: 4,
  workerConfig: () => ({
    arch: 'headless',
    service: 'catalog',
    port: 0,
    host: '127.0.0.1',
    dataDir: mkdtempSync(join(tmpdir(), 'peakday-fleet-')),
    peers: {},
    taskSize: { vcpu: 0.25, memoryGb: 0.5 },
    timeScale: scheduler.timeScale,
    eventStart: scheduler.eventNow(),
    statsIntervalMs: 3_600_000,
  }),
});

async function until(what: string, f: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

afterAll(async () => {
  await fleet.close();
});

describe('a service fleet scaling in', () => {
  it('stops the tasks furthest from serving first: pending ones, then the newest healthy, which drains', async () => {
    await fleet.start(2);
    expect(fleet.counts()).toMatchObject({ desired: 2, pending: 0, running: 2, healthy: 2 });
    expect(balancer.healthyCount).toBe(2);
    const [older, newer] = fleet.tasks.map((t) => t.id) as [number, number];

    fleet.setDesiredCount(4);
    expect(fleet.counts()).toMatchObject({ desired: 4, pending: 2, healthy: 2 });
    const pendingIds = fleet.tasks.filter((t) => t.state === 'pending').map((t) => t.id);
    // The autoscaler's (and the simulator's) numbering: the first two tasks 0 and 1, the launches 2
    // and 3, each task's lifecycle the draw of (seed, service, id).
    const scaling = createScalingState(
      {
        service: 'catalog',
        resourceId: 'service/peakday/catalog',
        minCapacity: 2,
        maxCapacity: 4,
        initialDesired: 2,
        policies: [],
        scheduledActions: [],
        launch: fleet.opts.launch,
      },
      { seed: 1, eventTime: 0 },
    );
    expect([older, newer]).toEqual(scaling.tasks.map((t) => t.id));
    expect(pendingIds).toEqual([scaling.nextTaskId, scaling.nextTaskId + 1]);
    for (const t of fleet.tasks.filter((x) => x.state === 'pending'))
      expect(t.record).toEqual(launchTask(fleet.opts.launch, 1, 'catalog', t.id, t.record.launchedAt));

    // 4 -> 3: a pending task stops (the newest), not a serving one; nothing drains.
    fleet.setDesiredCount(3);
    expect(fleet.counts()).toMatchObject({ desired: 3, pending: 1, healthy: 2, draining: 0 });
    expect(fleet.tasks.map((t) => t.id)).not.toContain(Math.max(...pendingIds));

    // 3 -> 1: the other pending task, then the newest healthy one, deregistered and draining.
    fleet.setDesiredCount(1);
    expect(fleet.counts()).toMatchObject({ desired: 1, pending: 0, running: 2, healthy: 1, draining: 1 });
    expect(fleet.tasks.find((t) => t.state === 'draining')?.id).toBe(newer);
    expect(balancer.healthyCount).toBe(1);

    await until('the drained task to stop', () => fleet.counts().running === 1);
    expect(fleet.tasks.map((t) => [t.id, t.state])).toEqual([[older, 'healthy']]);
    expect(fleet.counts()).toMatchObject({ desired: 1, pending: 0, running: 1, healthy: 1, draining: 0 });
  }, 60_000);
});
