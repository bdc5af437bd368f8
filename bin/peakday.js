#!/usr/bin/env node
// Entry point installed as `peakday`: registers tsx so the TypeScript sources run directly.
import { setFlagsFromString } from 'node:v8';
import { register } from 'tsx/esm/api';

// No idle-time heap compaction: V8's memory reducer compacted the TypeScript loader's thread
// 8-9 s into every run (15-34 ms of Mark-Compact on a 2-core host, while the engine and the
// target need both cores), which put the scheduler 12-19 ms behind for a second
// (bench/engine.bench.ts section 3, `node --trace-gc`). A load generator's heap need not shrink.
setFlagsFromString('--no-memory-reducer');

register();
const { main } = await import('../cli/main.ts');
await main(process.argv);
