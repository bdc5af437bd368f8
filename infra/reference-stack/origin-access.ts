/**
 * Who the ALB answers, as listener rules. The security group admits CloudFront's origin-facing
 * addresses (edge.ts), which are every account's distributions, not only this stack's: so with the edge,
 * the listener's default action answers 403 and its rules forward only a request that carries the
 * stack's secret origin header (CloudFront adds it to every origin request: ORIGIN_SECRET_HEADER) or
 * comes from a CIDR the deployer allowed (`--allow-cidr`, who may rehearse the ALB directly, the origin
 * alone). Without the edge the listener is as before: it forwards to the entry by default.
 *
 * The storefront's page paths go to the storefront's target group (headless), the rest to the entry.
 * The ALB takes at most 3 values per condition and 5 per rule (Elastic Load Balancing User Guide,
 * "Listener rules": docs/sources.md), so paths and CIDRs are split over as many rules as needed. Pure:
 * specs in, specs out; stack.ts turns them into constructs.
 */

/** The header CloudFront adds to every origin request, and the ALB's rules require (with the edge). */
export const ORIGIN_SECRET_HEADER = 'X-Peakday-Origin-Verify';

/** An ALB limit: comparison values per condition. */
export const MAX_VALUES_PER_CONDITION = 3;
/** An ALB limit: comparison values per rule, over all its conditions. */
export const MAX_VALUES_PER_RULE = 5;

/** What admits a request to a rule: the secret header (its value is a deploy-time token), or a source CIDR. */
export type Admission = { kind: 'origin-header' } | { kind: 'source-ip'; cidrs: string[] };

/** One listener rule: its priority, where it forwards, the paths it matches (none: any), what admits. */
export interface ListenerRuleSpec {
  priority: number;
  target: 'pages' | 'entry';
  paths: string[] | null;
  /** Null: no admission condition (the stack without the edge). */
  admission: Admission | null;
}

/** The listener: its default action, and its rules in priority order. */
export interface ListenerPlan {
  /** `forward-entry`: the entry takes what no rule matched; `deny`: a fixed 403. */
  defaultAction: 'forward-entry' | 'deny';
  rules: ListenerRuleSpec[];
}

/** What the plan depends on. */
export interface ListenerInputs {
  /** The CloudFront distribution is in front: the secret header is required. */
  edge: boolean;
  /** The storefront's page paths when a separate storefront serves them (headless), else none. */
  pagePaths: readonly string[];
  /** The CIDRs that may reach the ALB directly. */
  allowCidrs: readonly string[];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The values an admission puts in a rule. */
const admissionValues = (a: Admission | null) =>
  a === null ? 0 : a.kind === 'origin-header' ? 1 : a.cidrs.length;

/**
 * The listener's rules: page rules first (priorities from 10), then the entry's (from 100, or after the
 * pages). Every rule
 * within the ALB's limits. Pure.
 */
export function planListener(inputs: ListenerInputs): ListenerPlan {
  const rules: ListenerRuleSpec[] = [];
  // With the edge: the header, then the allowed CIDRs (each admission its own rules: conditions AND).
  const admissions: (Admission | null)[] = inputs.edge ? [{ kind: 'origin-header' }] : [null];
  const pathChunks = chunks(inputs.pagePaths, MAX_VALUES_PER_CONDITION);
  const ipAdmissions = (room: number): Admission[] =>
    chunks(inputs.allowCidrs, Math.min(MAX_VALUES_PER_CONDITION, room)).map((cidrs) => ({
      kind: 'source-ip',
      cidrs,
    }));
  let pagePriority = 10;
  for (const paths of pathChunks) {
    const forPaths = inputs.edge
      ? [...admissions, ...ipAdmissions(MAX_VALUES_PER_RULE - paths.length)]
      : admissions;
    for (const admission of forPaths)
      rules.push({ priority: pagePriority++, target: 'pages', paths, admission });
  }
  if (inputs.edge) {
    // From 100, or after the page rules when many CIDRs need more than 90 of them.
    let entryPriority = Math.max(100, pagePriority);
    for (const admission of [...admissions, ...ipAdmissions(MAX_VALUES_PER_RULE)])
      rules.push({ priority: entryPriority++, target: 'entry', paths: null, admission });
  }
  for (const r of rules) {
    const values = (r.paths?.length ?? 0) + admissionValues(r.admission);
    if (values > MAX_VALUES_PER_RULE || (r.paths?.length ?? 0) > MAX_VALUES_PER_CONDITION)
      throw new Error(`listener rule ${r.priority} has ${values} values: over the ALB's limits`);
  }
  return { defaultAction: inputs.edge ? 'deny' : 'forward-entry', rules };
}

/** The body of the listener's 403 (with the edge) for a request that neither carries the header nor comes from an allowed CIDR. */
export const DENIED_BODY =
  "not through this peakday stack's CloudFront distribution, nor from a CIDR it allows (--allow-cidr)\n";
