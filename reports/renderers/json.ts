/** `report.json`: the report model as is, so every finding, recommendation and cost line is machine-readable. */
import type { Renderer } from './types.ts';

/** Writes report.json. */
export const jsonRenderer: Renderer = {
  description: 'report.json: every finding, recommendation and cost line, machine-readable',
  render: (report) => [{ name: 'report.json', content: `${JSON.stringify(report, null, 1)}\n` }],
};
