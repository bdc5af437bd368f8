/** Rewrites the generated code table of docs/errors.md from core/errors.ts: `npx tsx scripts/errors-doc.ts`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { updateErrorsDoc } from '../core/errors-doc.ts';

const file = join(import.meta.dirname, '..', 'docs', 'errors.md');
const before = readFileSync(file, 'utf8');
const after = updateErrorsDoc(before);
if (after !== before) writeFileSync(file, after);
console.log(after === before ? 'docs/errors.md is up to date' : 'docs/errors.md updated');
