/**
 * cdk-nag (AwsSolutions rules) for every stack under infra/: run the checks on a construct tree, turn
 * the plugin's report into plain findings, and acknowledge a rule with its reason in one call. Shared
 * by the reference stack and the k6 fleet so both are held to the same rules and report the same way.
 *
 * The checks run through `validateScope` rather than as a synthesis plugin, so a synth can still write
 * its templates and a report listing what failed (and the tests can assert there is nothing).
 */
import { type App, type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** One acknowledged rule: the rule id (with `[finding]` for a single finding) and why it does not apply. */
export interface NagAcknowledgement {
  id: string;
  reason: string;
}

/** One rule a construct tree breaks, as cdk-nag reports it. */
export interface NagFinding {
  rule: string;
  description: string;
  /** `error` or `warning` (cdk-nag's levels; AwsSolutions reports errors and warnings). */
  level: string;
  /** Logical ids (and template paths) of the resources breaking it. */
  resources: string[];
}

/** What the checks found: unacknowledged findings, and every acknowledgement with its reason. */
export interface NagReport {
  pack: 'AwsSolutions';
  findings: NagFinding[];
  acknowledged: { path: string; id: string; reason: string }[];
}

/** Acknowledges rules on a construct (and its children) with the reason each does not apply. */
export function acknowledgeRules(scope: IConstruct, acks: readonly NagAcknowledgement[]): void {
  for (const a of acks) Validations.of(scope).acknowledge({ id: a.id, reason: a.reason });
}

/**
 * Runs the AwsSolutions checks on a construct tree (a stack, after it is fully built). cdk-nag is
 * loaded here, not at module load, so importing a stack costs nothing until it is checked.
 */
export async function runAwsSolutionsChecks(scope: IConstruct): Promise<NagReport> {
  const { AwsSolutionsChecks } = await import('cdk-nag');
  const report = new AwsSolutionsChecks().validateScope(scope);
  const findings: NagFinding[] = report.violations.map((v) => ({
    rule: v.ruleName,
    description: v.description,
    level: String(v.severity ?? 'error').toLowerCase(),
    resources: v.violatingResources.map((r) => resourcePathOf(r)),
  }));
  const acknowledged: NagReport['acknowledged'] = [];
  for (const c of scope.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(acknowledgementsOf(m.data)))
        acknowledged.push({ path: c.node.path, id, reason });
    }
  }
  return { pack: 'AwsSolutions', findings, acknowledged };
}

/** Where a violating resource is: its construct path (cdk-nag 3) or logical id and template. */
function resourcePathOf(r: unknown): string {
  const o = r as { constructPath?: string; resourceLogicalId?: string; templatePath?: string };
  return o.constructPath ?? `${o.resourceLogicalId ?? '?'} (${o.templatePath ?? '?'})`;
}

/** The acknowledgement metadata's payload, whatever shape this CDK version stores. */
function acknowledgementsOf(data: unknown): Record<string, string> {
  if (Array.isArray(data)) {
    const out: Record<string, string> = {};
    for (const d of data as { id?: string; reason?: string }[]) if (d.id) out[d.id] = d.reason ?? '';
    return out;
  }
  if (data && typeof data === 'object') {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(data as Record<string, unknown>))
      out[k] = typeof v === 'string' ? v : String((v as { reason?: string })?.reason ?? '');
    return out;
  }
  return {};
}

/** Formats a report for a terminal or a text file, one line per finding and acknowledgement. */
export function formatNagReport(report: NagReport): string {
  const lines = [`cdk-nag ${report.pack}: ${report.findings.length} unacknowledged finding(s)`];
  for (const f of report.findings)
    lines.push(`  ${f.level} ${f.rule}: ${f.description} [${f.resources.join(', ')}]`);
  lines.push(`acknowledged (${report.acknowledged.length}):`);
  for (const a of report.acknowledged) lines.push(`  ${a.id} at ${a.path}: ${a.reason}`);
  return `${lines.join('\n')}\n`;
}

/** A synthesized stack: the cloud assembly directory, its template, and what cdk-nag found. */
export interface CheckedSynth {
  stackName: string;
  assemblyDir: string;
  templateFile: string;
  template: Record<string, unknown>;
  nag: NagReport;
}

/**
 * Checks `stack` (AwsSolutions) and synthesizes `app`, offline: the one way every stack under infra/
 * is synthesized, so the reference stack and the fleet write and report alike.
 */
export async function synthChecked(app: App, stack: Stack): Promise<CheckedSynth> {
  const nag = await runAwsSolutionsChecks(stack);
  const assembly = app.synth();
  const artifact = assembly.getStackByName(stack.stackName);
  return {
    stackName: stack.stackName,
    assemblyDir: assembly.directory,
    templateFile: artifact.templateFullPath,
    template: artifact.template as Record<string, unknown>,
    nag,
  };
}
