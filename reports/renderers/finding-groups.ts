/**
 * Folds long runs of same-kind findings for one subject (a service, a channel or a table) into one
 * collapsible entry, so that a 48-h run with 120 one-minute under-provisioned windows of catalog
 * shows the first few and "120 more … (190 min in all)" instead of a page of near-identical lines.
 * Nothing is dropped: the folded findings stay listed inside the entry (and all are in report.json).
 */
import type { Finding } from '../findings/types.ts';

/** One entry to render: a finding, or the findings folded after the first few of their group. */
export type FindingEntry =
  | { type: 'finding'; finding: Finding }
  | { type: 'folded'; findings: Finding[]; summary: string };

/** How many findings of one group are shown before the rest are folded. */
export const SHOWN_PER_GROUP = 5;

/** The finding's subject: its service, else the channel or table its id names (`kind/subject@t`). */
const subjectOf = (f: Finding): string => f.service ?? /^[^/]+\/([^@]*)@/.exec(f.id)?.[1] ?? '';

/**
 * The findings in order, with each group's findings after the first `shown` folded into one entry
 * placed right after the group's last shown finding.
 */
export function groupFindings(findings: readonly Finding[], shown = SHOWN_PER_GROUP): FindingEntry[] {
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = `${f.kind}\u0000${subjectOf(f)}`;
    const g = groups.get(key);
    if (g) g.push(f);
    else groups.set(key, [f]);
  }
  const out: FindingEntry[] = [];
  const seen = new Map<string, number>();
  for (const f of findings) {
    const key = `${f.kind}\u0000${subjectOf(f)}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    const group = groups.get(key) as Finding[];
    if (n <= shown || group.length <= shown + 1) out.push({ type: 'finding', finding: f });
    // The folded rest follows the group's last shown finding, where a reader of that group looks.
    if (n === shown && group.length > shown + 1) {
      const rest = group.slice(shown);
      const minutes = rest.reduce((s, x) => s + (x.window ? (x.window.end - x.window.start) / 60 : 0), 0);
      const subject = subjectOf(f);
      out.push({
        type: 'folded',
        findings: rest,
        summary: `… and ${rest.length} more ${f.kind} findings${subject ? ` for ${subject}` : ''}${minutes > 0 ? ` (${Math.round(minutes).toLocaleString('en-US')} min of windows in all)` : ''}`,
      });
    }
  }
  return out;
}
