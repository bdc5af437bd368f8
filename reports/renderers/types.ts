/** The renderer contract: a renderer turns the report model into files inside the report directory. */
import type { Report } from '../report-model.ts';

/** One output file, relative to the report directory. */
export interface RenderedFile {
  name: string;
  content: string | Buffer;
}

/** A renderer, found through the registry in reports/renderers/registry.ts. */
export interface Renderer {
  description: string;
  render(report: Report): RenderedFile[] | Promise<RenderedFile[]>;
}
