/**
 * Reads what the gate needs from a run directory (meta and every series record) through the engine's
 * reader (core/run-directory.ts). The I/O edge of the budgets module.
 */
import { readRun } from '../../core/run-directory.ts';
import type { RunMeta, SeriesRecord } from '../../core/run-format.ts';
import type { RunInput } from './evaluate.ts';

/** A run read for gating. */
export interface GateRun extends RunInput {
  dir: string;
  meta: RunMeta;
}

/** Reads a run directory's meta and series; a missing or foreign directory is exit 2. */
export async function readGateRun(dir: string): Promise<GateRun> {
  const run = readRun(dir);
  const records: SeriesRecord[] = [];
  for await (const r of run.series()) records.push(r);
  return { dir, meta: run.meta, records };
}
