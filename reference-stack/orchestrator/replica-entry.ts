/**
 * The entry point of a replica process started through tsx (the fallback when the replica bundle
 * could not be built; replica-bundle.ts): install the parent watch, then load the worker module named
 * in PEAKDAY_WORKER_MODULE (default reference-stack/worker.ts), which reads PEAKDAY_WORKER.
 */
import './parent-watch.ts';

const workerModule = process.env.PEAKDAY_WORKER_MODULE ?? new URL('../worker.ts', import.meta.url).href;
await import(workerModule);
