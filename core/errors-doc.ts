/**
 * Renders the error catalog (core/errors.ts) as the Markdown table docs/errors.md embeds, so the
 * page a user reads lists exactly the codes the code can throw. `scripts/errors-doc.ts` writes it;
 * core/errors.test.ts fails when the page is behind the catalog.
 */
import { ERROR_CATALOG, ExitCode } from './errors.ts';

/** The markers between which docs/errors.md holds the generated table. */
export const ERRORS_DOC_MARKERS = {
  begin: '<!-- error-catalog:begin (generated from core/errors.ts by scripts/errors-doc.ts) -->',
  end: '<!-- error-catalog:end -->',
} as const;

const EXIT_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ExitCode).map(([name, code]) => [code, name]),
);

/** The generated table: one row per code, sorted, with its exit code, meaning and what to do. */
export function renderErrorCatalog(): string {
  const rows = Object.entries(ERROR_CATALOG)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, e]) => `| \`${code}\` | ${e.exit} (${EXIT_NAMES[e.exit]}) | ${e.meaning} | ${e.todo} |`);
  return [
    ERRORS_DOC_MARKERS.begin,
    '| code | exit | what it means | what to do |',
    '| --- | --- | --- | --- |',
    ...rows,
    ERRORS_DOC_MARKERS.end,
  ].join('\n');
}

/** `doc` with its generated table replaced by the current one (throws when the markers are missing). */
export function updateErrorsDoc(doc: string): string {
  const begin = doc.indexOf(ERRORS_DOC_MARKERS.begin);
  const end = doc.indexOf(ERRORS_DOC_MARKERS.end);
  if (begin < 0 || end < begin) throw new Error('docs/errors.md lacks the error-catalog markers');
  return doc.slice(0, begin) + renderErrorCatalog() + doc.slice(end + ERRORS_DOC_MARKERS.end.length);
}
