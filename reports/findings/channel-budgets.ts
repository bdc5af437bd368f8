/**
 * Turns a budgets file (reports/budgets/, the gate's format) into the per-channel latency and error
 * budgets the findings use to find breach minutes. Only whole-channel budgets apply (a budget scoped
 * to a journey or step is listed as not used here); a channel budget inherits any limit it lacks from
 * the unscoped ones; the tightest limit wins.
 */
import type { BudgetSet } from '../../scenarios/budgets/budget.ts';
import type { ChannelBudget, ChannelLimit, ChannelLimitRule } from './types.ts';

/** The channel budgets and what was left out, with why. */
export interface ChannelBudgets {
  budgets: ChannelBudget[];
  ignored: string[];
}

type Limits = Partial<Record<ChannelLimit, ChannelLimitRule>>;

/** The tighter of two rules for one limit (the lower limit; on a tie the one needing fewer samples). */
const tighter = (a: ChannelLimitRule | undefined, b: ChannelLimitRule): ChannelLimitRule =>
  a === undefined || b.limit < a.limit || (b.limit === a.limit && b.minSamples < a.minSamples) ? b : a;

/** Maps a budget set; `source` names the file in every budget. */
export function channelBudgetsFromSet(set: BudgetSet): ChannelBudgets {
  const by = new Map<string, Limits>();
  const ignored: string[] = [];
  for (const b of set.budgets) {
    const where = `${b.name} (${b.source.file}${b.source.line ? `:${b.source.line}` : ''})`;
    if (b.scope.journey !== undefined || b.scope.step !== undefined) {
      ignored.push(`${where}: scoped to a journey or step (the report attributes breaches per channel)`);
      continue;
    }
    if (b.op !== '<' && b.op !== '<=') {
      ignored.push(`${where}: only upper limits become breach windows`);
      continue;
    }
    const key = b.scope.channel ?? '*';
    const cur = by.get(key) ?? {};
    const rule: ChannelLimitRule = {
      op: b.op,
      limit: b.limit,
      minSamples: b.minSamples,
      warmupSeconds: b.warmupSeconds,
    };
    if (
      (b.metric === 'latency' || b.metric === 'latency_send') &&
      b.stat.kind === 'percentile' &&
      b.stat.p === 95
    )
      cur.p95Ms = tighter(cur.p95Ms, rule);
    else if (
      (b.metric === 'latency' || b.metric === 'latency_send') &&
      b.stat.kind === 'percentile' &&
      b.stat.p === 99
    )
      cur.p99Ms = tighter(cur.p99Ms, rule);
    else if (b.metric === 'error_rate') cur.errorRate = tighter(cur.errorRate, rule);
    else {
      ignored.push(
        `${where}: ${b.metric} ${b.expression} is evaluated by \`peakday gate\`, not charted as breach minutes`,
      );
      continue;
    }
    by.set(key, cur);
  }
  const all = by.get('*') ?? {};
  const budgets: ChannelBudget[] = [...by.entries()].map(([channel, l]) => {
    const rules: Limits = { ...all, ...l };
    return {
      channel,
      ...(rules.p95Ms ? { p95Ms: rules.p95Ms.limit } : {}),
      ...(rules.p99Ms ? { p99Ms: rules.p99Ms.limit } : {}),
      ...(rules.errorRate ? { errorRate: rules.errorRate.limit } : {}),
      source: set.file,
      rules,
    };
  });
  return { budgets, ignored };
}
