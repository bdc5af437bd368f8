/**
 * The simulator's view of a calibration file (core/calibration-file.ts): each service's measured
 * efficiency, which scales the capacity the model gives its tasks, and where it came from.
 */
import type { CalibrationFile } from '../core/calibration-file.ts';
import type { ServiceName } from '../reference-stack/topology.ts';
import type { ServiceEfficiency } from './simulate.ts';

/** Per-service efficiency from a calibration file; services it names unmeasured keep the model (1). */
export function efficiencyFromCalibration(
  file: CalibrationFile,
): Partial<Record<ServiceName, ServiceEfficiency>> {
  const out: Partial<Record<ServiceName, ServiceEfficiency>> = {};
  for (const [name, e] of Object.entries(file.services)) {
    out[name as ServiceName] = {
      efficiency: e.efficiency,
      uncertainty: e.uncertainty,
      provenance: e.provenance,
      source: file.source,
    };
  }
  // Services the file names as unmeasured keep the model table, labelled with the reason.
  for (const [name, why] of Object.entries(file.unmeasured ?? {}))
    if (!out[name as ServiceName])
      out[name as ServiceName] = {
        efficiency: 1,
        provenance: 'model-input',
        source: `model table: not measured in ${file.source}: ${why}`,
      };
  return out;
}
