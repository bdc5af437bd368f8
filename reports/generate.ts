/**
 * The I/O shell of `peakday report`: read the run, resolve pricing and assumptions from the config,
 * build the report model, write every renderer's files. `rehearse` calls it too, with the simulator
 * as `resimulate`.
 */
import { DEFAULT_CONFIG, type PeakdayConfig } from '../core/config.ts';
import { PeakdayError, type Problem } from '../core/errors.ts';
import type { BudgetSet } from '../scenarios/budgets/budget.ts';
import { loadBudgetsForProfile } from '../scenarios/budgets/defaults.ts';
import { resolvePricing } from '../simulation/pricing/pricing-table.ts';
import { channelBudgetsFromSet } from './findings/channel-budgets.ts';
import type { ChannelBudget, Resimulate } from './findings/types.ts';
import { type RendererName, writeReport } from './renderers/registry.ts';
import { summarizeReport } from './renderers/terminal.ts';
import { buildReport, type Report, type ReportAssumptions } from './report-model.ts';
import { type RunForReport, readRunForReport } from './run/read-run-files.ts';

/** Options of {@link generateReport}. */
export interface GenerateReportOptions {
  outDir: string;
  now: string;
  config?: PeakdayConfig;
  region?: string;
  /** Channel budgets already resolved; wins over `budgetsFile`. */
  budgets?: ChannelBudget[];
  /** A budgets file (the gate's format); default: the run's profile's default budgets, if any. */
  budgetsFile?: string;
  resimulate?: Resimulate;
  renderers?: RendererName[];
  /**
   * The run as a report reads it, already at hand (reports/run/read-run-files.ts
   * `assembleRunForReport`): its files are not read again. `compare` reports the configurations it
   * has just simulated and written from memory.
   */
  run?: RunForReport;
}

/** What was written. */
export interface GeneratedReport {
  report: Report;
  files: Partial<Record<RendererName, string[]>>;
  summary: string[];
}

const NUMBER_KEYS = {
  revenue: ['averageOrderValue', 'conversionLossPer100Ms'],
} as const;

/**
 * Maps `assumptions` of peakday.config.yaml to the report's model inputs:
 * `averageOrderValue`, `conversionLossPer100Ms`, `cost: {<CostAssumptions key>: n}`,
 * `recommendations: {<key>: n}`, `taskSizes: {<service>: {vcpu, memoryGb, arch}}`, `decisionMargin`. Other keys belong
 * to other models and are ignored here; a wrong type is a located problem (exit 2).
 */
export function reportAssumptionsFromConfig(config: PeakdayConfig): ReportAssumptions {
  const a = config.assumptions;
  const problems: Problem[] = [];
  const out: ReportAssumptions = {};
  const num = (path: string, v: unknown): number | undefined => {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
    problems.push({
      ...(config.file ? { file: config.file } : {}),
      path: `assumptions.${path}`,
      message: `expected a number >= 0, got ${JSON.stringify(v)}`,
    });
    return undefined;
  };
  for (const k of NUMBER_KEYS.revenue)
    if (a[k] !== undefined) {
      const n = num(k, a[k]);
      if (n !== undefined) out.revenue = { ...out.revenue, [k]: n };
    }
  for (const group of ['cost', 'recommendations'] as const) {
    const g = a[group];
    if (g && typeof g === 'object')
      for (const [k, v] of Object.entries(g as Record<string, unknown>)) {
        const n = num(`${group}.${k}`, v);
        if (n !== undefined) out[group] = { ...out[group], [k]: n };
      }
  }
  if (a.decisionMargin !== undefined) {
    const n = num('decisionMargin', a.decisionMargin);
    if (n !== undefined) out.decisionMargin = n;
  }
  const ts = a.taskSizes;
  if (ts && typeof ts === 'object') {
    out.taskSizes = {};
    for (const [svc, v] of Object.entries(ts as Record<string, Record<string, unknown>>)) {
      const vcpu = v?.vcpu === undefined ? undefined : num(`taskSizes.${svc}.vcpu`, v.vcpu);
      const memoryGb = v?.memoryGb === undefined ? undefined : num(`taskSizes.${svc}.memoryGb`, v.memoryGb);
      const arch = v?.arch;
      if (arch !== undefined && arch !== 'x86' && arch !== 'arm')
        problems.push({
          path: `assumptions.taskSizes.${svc}.arch`,
          message: `expected x86 or arm, got ${JSON.stringify(arch)}`,
        });
      out.taskSizes[svc] = {
        ...(vcpu !== undefined ? { vcpu } : {}),
        ...(memoryGb !== undefined ? { memoryGb } : {}),
        ...(arch === 'x86' || arch === 'arm' ? { arch } : {}),
      };
    }
  }
  const shares = a.trafficShare;
  if (shares !== undefined) {
    if (shares === null || typeof shares !== 'object' || Array.isArray(shares))
      problems.push({
        ...(config.file ? { file: config.file } : {}),
        path: 'assumptions.trafficShare',
        message: `expected a map of service to share (e.g. { cart: 0.3 }), got ${JSON.stringify(shares)}`,
      });
    else {
      out.trafficShare = {};
      for (const [svc, v] of Object.entries(shares as Record<string, unknown>)) {
        const n = num(`trafficShare.${svc}`, v);
        if (n !== undefined && n > 0) out.trafficShare[svc] = n;
        else if (n === 0)
          problems.push({
            ...(config.file ? { file: config.file } : {}),
            path: `assumptions.trafficShare.${svc}`,
            message: 'expected a share > 0 (a service with no traffic needs no estimate)',
          });
      }
    }
  }
  if (problems.length > 0)
    throw new PeakdayError('config-invalid', `report assumptions: ${problems.length} problem(s) found`, {
      problems,
      hint: 'fix assumptions in peakday.config.yaml (docs/reports.md lists them)',
    });
  return out;
}

/**
 * The channel budgets for a run: the given file, else the profile's default budgets file, else none
 * (the report then uses its stated default assumption). Budgets the report cannot chart are noted.
 */
export function resolveChannelBudgets(
  profileName: string,
  file?: string,
  runDir?: string,
): { budgets: ChannelBudget[] | undefined; notes: string[] } {
  let set: BudgetSet;
  try {
    set = loadBudgetsForProfile(profileName, file, runDir);
  } catch (e) {
    if (file === undefined && e instanceof PeakdayError && e.code === 'budgets-missing')
      return {
        budgets: undefined,
        notes: [`no default budgets for profile ${profileName}: using the report's default assumption`],
      };
    throw e;
  }
  const { budgets, ignored } = channelBudgetsFromSet(set);
  const notes = ignored.map((i) => `budget not charted: ${i}`);
  if (budgets.length === 0) {
    notes.push(`${set.file} has no channel latency or error budget: using the report's default assumption`);
    return { budgets: undefined, notes };
  }
  return { budgets, notes };
}

/** Reads, models, renders and writes; returns the model and the paths. */
export async function generateReport(
  runDir: string,
  options: GenerateReportOptions,
): Promise<GeneratedReport> {
  const config = options.config ?? DEFAULT_CONFIG;
  const run = options.run ?? (await readRunForReport(runDir));
  const pricing = resolvePricing({
    region: options.region ?? config.pricing.region,
    overrides: config.pricing.overrides,
    ...(config.file ? { overrideSource: config.file } : {}),
  });
  const resolved = options.budgets
    ? { budgets: options.budgets, notes: [] }
    : resolveChannelBudgets(run.meta.profile?.name ?? '', options.budgetsFile, runDir);
  const report = await buildReport(run, {
    now: options.now,
    pricing,
    assumptions: reportAssumptionsFromConfig(config),
    budgetNotes: resolved.notes,
    ...(resolved.budgets ? { budgets: resolved.budgets } : {}),
    ...(options.resimulate ? { resimulate: options.resimulate } : {}),
  });
  const files = await writeReport(report, options.outDir, options.renderers);
  return { report, files, summary: summarizeReport(report) };
}
