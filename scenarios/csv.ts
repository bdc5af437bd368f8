/**
 * The CSV grammar of user data pools: a header row, RFC 4180 quoting, rows become objects keyed by
 * the trimmed header. One implementation for the embedded engine (scenarios/data-pools.ts) and the
 * exported k6 script (bundled into it with the k6 runtime, scenarios/k6-runtime.ts), so both read a
 * pool file alike. Pure, no Node built-ins.
 */

/** Parses CSV text with a header row into objects (RFC 4180 quoting). Grammar: rows of fields split by `,`. */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((f) => f !== '')) rows.push(row);
      row = [];
    } else field += ch;
  }
  row.push(field);
  if (row.some((f) => f !== '')) rows.push(row);
  const header = rows.shift() ?? [];
  return rows.map((r) => Object.fromEntries(header.map((h, i) => [h.trim(), r[i] ?? ''])));
}
