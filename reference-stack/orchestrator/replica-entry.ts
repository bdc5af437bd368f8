/**
 * The entry point of every replica process the orchestrator starts. It makes sure no replica outlives
 * its supervisor, whatever the worker module does: the replica exits when the IPC channel to its
 * parent closes (the supervisor exited, was killed, or disconnected) and, as a second guard, when it
 * is re-parented (ppid polling). Then it loads the worker module named in PEAKDAY_WORKER_MODULE
 * (default reference-stack/worker.ts), which reads its configuration from PEAKDAY_WORKER.
 */
const parent = process.ppid;
process.on('disconnect', () => process.exit(0));
setInterval(() => {
  if (process.ppid !== parent || !process.connected) process.exit(0);
}, 500).unref();

const workerModule = process.env.PEAKDAY_WORKER_MODULE ?? new URL('../worker.ts', import.meta.url).href;
await import(workerModule);
