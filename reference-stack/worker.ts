/**
 * The entry of ONE replica process: `node --import tsx reference-stack/worker.ts` with its
 * configuration in the PEAKDAY_WORKER environment variable (worker-protocol.ts). It serves HTTP,
 * emulates its task's CPU, and, when started with an IPC channel, sends `ready` and periodic `stats`
 * messages to its parent and obeys `clock`, `replicas`, `flush` and `drain`. It exits when its
 * parent goes away (IPC disconnect), so no replica outlives the stack. On ECS (no parent) it is a
 * task: its tables, event bus and event queue come from the environment (aws-env.ts).
 */
import { withAwsEnv } from './aws-env.ts';
import { createStdoutEmf, EMF_ENV } from './emf-stdout.ts';
import { startServiceRuntime } from './services/runtime.ts';
import {
  type ParentToWorker,
  parseWorkerConfig,
  WORKER_ENV,
  type WorkerToParent,
} from './worker-protocol.ts';

const send = (m: WorkerToParent) => {
  if (process.send && process.connected) process.send(m);
};

async function main(): Promise<void> {
  // On ECS the stack passes table, bus and queue names as variables of their own (aws-env.ts).
  const config = withAwsEnv(parseWorkerConfig(process.env[WORKER_ENV]), process.env);
  const replica = config.replica ?? 0;
  const runtime = await startServiceRuntime(config);
  let seq = 0;
  // On ECS there is no orchestrator to send stats to: with PEAKDAY_EMF=stdout the task writes its
  // custom metrics as EMF lines for the awslogs driver, one per minute (emf-stdout.ts).
  const emf =
    !process.send && process.env[EMF_ENV] === 'stdout'
      ? createStdoutEmf({
          cluster: process.env.PEAKDAY_CLUSTER ?? `peakday-${config.arch}`,
          service: config.service,
          arch: config.arch,
          startedAtMs: Date.now(),
          periodSeconds: 60,
        })
      : undefined;
  const flush = () => {
    const stats = runtime.takeStats();
    if (emf) emf.add(stats);
    else send({ type: 'stats', seq: ++seq, pid: process.pid, ...stats });
  };
  const timer = setInterval(flush, config.statsIntervalMs ?? 1000);
  timer.unref();
  const emfTimer = emf
    ? setInterval(() => emf.flush(Date.now()), Number(process.env.PEAKDAY_EMF_PERIOD_MS ?? 60_000))
    : undefined;
  emfTimer?.unref();
  const stop = async (code: number) => {
    clearInterval(timer);
    if (emfTimer) clearInterval(emfTimer);
    await runtime.close().catch(() => {});
    flush();
    emf?.flush(Date.now());
    process.exit(code);
  };
  process.on('message', (raw: ParentToWorker) => {
    if (raw.type === 'clock') runtime.setClock(raw.timeScale, raw.eventStart, raw.startedAtEpochMs);
    else if (raw.type === 'replicas') runtime.setReplicas(raw.count);
    else if (raw.type === 'flush') flush();
    else if (raw.type === 'drain') void stop(0);
  });
  process.on('disconnect', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  send({ type: 'ready', service: config.service, replica, pid: process.pid, port: runtime.port });
  if (!process.send) process.stdout.write(`${config.service} listening on ${runtime.url}\n`);
}

main().catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  let service = 'unknown';
  try {
    service = parseWorkerConfig(process.env[WORKER_ENV]).service;
  } catch {}
  const code = (e as { code?: unknown } | null)?.code;
  send({
    type: 'fatal',
    service: service as never,
    replica: 0,
    message,
    ...(typeof code === 'string' ? { code } : {}),
  });
  process.stderr.write(`worker failed: ${message}\n`);
  process.exit(1);
});
