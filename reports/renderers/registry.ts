/**
 * The renderer registry: `peakday report` runs every renderer here (or those named). Adding an
 * output is adding an entry, never an if/else on a format string.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PeakdayError } from '../../core/errors.ts';
import { describeFsError, prepareOutputDir } from '../../core/output-path.ts';
import type { Report } from '../report-model.ts';
import { htmlRenderer } from './html.ts';
import { jsonRenderer } from './json.ts';
import { markdownRenderer } from './markdown.ts';
import { terminalRenderer } from './terminal.ts';
import type { Renderer } from './types.ts';

/** Every renderer by name. */
export const renderers = {
  html: htmlRenderer,
  markdown: markdownRenderer,
  json: jsonRenderer,
  terminal: terminalRenderer,
} satisfies Record<string, Renderer>;

export type RendererName = keyof typeof renderers;

/** Renders and writes the files into `outDir`; returns the written paths by renderer. */
export async function writeReport(
  report: Report,
  outDir: string,
  names: RendererName[] = Object.keys(renderers) as RendererName[],
): Promise<Record<RendererName, string[]>> {
  const written = {} as Record<RendererName, string[]>;
  prepareOutputDir(outDir, 'report directory');
  for (const name of names) {
    written[name] = [];
    for (const f of await renderers[name].render(report)) {
      const path = join(outDir, f.name);
      try {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, f.content);
      } catch (e) {
        throw new PeakdayError('output-write-failed', `cannot write ${path}: ${describeFsError(e)}`, {
          hint: 'free space or choose another --out directory; the run directory itself is untouched',
        });
      }
      written[name].push(path);
    }
  }
  return written;
}
