/** The tool's version, read once from package.json; written into every run's metadata. */
import { readFileSync } from 'node:fs';

export const PEAKDAY_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
