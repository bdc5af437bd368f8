/**
 * The entry of ONE replica process: `node --import tsx reference-stack/worker.ts` with its
 * configuration in the PEAKDAY_WORKER environment variable (worker-protocol.ts). It serves HTTP,
 * emulates its task's CPU, and, when started with an IPC channel, sends `ready` and periodic `stats`
 * messages to its parent and obeys `clock`, `replicas`, `flush` and `drain`. It exits when its
 * parent goes away (IPC disconnect), so no replica outlives the stack.
 */
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
  const config = parseWorkerConfig(process.env[WORKER_ENV]);
  const replica = config.replica ?? 0;
  const runtime = await startServiceRuntime(config);
  let seq = 0;
  const flush = () => send({ type: 'stats', seq: ++seq, pid: process.pid, ...runtime.takeStats() });
  const timer = setInterval(flush, config.statsIntervalMs ?? 1000);
  timer.unref();
  const stop = async (code: number) => {
    clearInterval(timer);
    await runtime.close().catch(() => {});
    flush();
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
  send({ type: 'fatal', service: service as never, replica: 0, message });
  process.stderr.write(`worker failed: ${message}\n`);
  process.exit(1);
});
