/**
 * The comparison's independent pieces of work, as plain data, so that worker threads can run them
 * ahead of the sequential code (workflows/compare-pool.ts): each unit runs exactly the search the
 * 2×2 (compare.ts) or the break-even search (compare-break-even.ts) would run, into the same memo of
 * trials and full runs; the sequential code then finds every trial it asks for in the memo. The
 * result is the same comparison, bit for bit, whatever ran where: a trial's key names everything
 * it depends on, and the simulator and the budgets are pure. Pure (the judge is injected).
 */
import type { Arch } from '../../reference-stack/topology.ts';
import type { Plan } from '../../scenarios/plan.ts';
import type { SimulateOptions } from '../simulate.ts';
import {
  type CompareOptions,
  createSizer,
  type FullRun,
  type FullRunCache,
  type Provisioning,
  type SizingCache,
  type SizingInputs,
  type Trial,
} from './compare.ts';
import {
  BREAK_EVEN_PARAMETERS,
  type BreakEvenName,
  computeBreakEvens,
  computeKnobCost,
} from './compare-break-even.ts';

/** One piece of the comparison that depends on nothing but the memo (plain data: it crosses threads). */
export type SizingUnit =
  | {
      /** A topology's provisioned search, then (when `autoscaled`) its autoscaled search; `full`: both chosen cells' full runs. */
      kind: 'configurations';
      seed: number;
      arch: Arch;
      autoscaled: boolean;
      full: boolean;
      simulate?: Partial<SimulateOptions>;
    }
  | {
      /**
       * One chosen cell at full resolution (`confirm`), its searches read from the memo (or run, if
       * missing): a cell's full run is a unit of its own, so that the two cells of a topology (and the
       * four of a seed) run on different threads.
       */
      kind: 'full';
      seed: number;
      arch: Arch;
      provisioning: Provisioning;
      simulate?: Partial<SimulateOptions>;
    }
  | {
      /** A topology right-sized at one knob value of a break-even parameter. */
      kind: 'knob';
      parameter: BreakEvenName;
      seed: number;
      arch: Arch;
      x: number;
      simulate?: Partial<SimulateOptions>;
    }
  | {
      /**
       * A parameter's break-even search for one seed (its ends, then the bisection of a crossing):
       * the sequential part that would otherwise run on the main thread after the ends.
       */
      kind: 'break-even';
      parameter: BreakEvenName;
      seed: number;
      steps: number;
      simulate?: Partial<SimulateOptions>;
    };

/** What a unit adds to the memo. */
export interface SizingUnitResult {
  trials: [string, Trial][];
  full: [string, FullRun][];
}

/** What units run against: the comparison's options and each seed's plan. */
export interface SizingUnitContext {
  opts: Omit<CompareOptions, 'seeds' | 'planFor' | 'cache' | 'fullCache' | 'simulate' | 'variant'>;
  planFor: (seed: number) => Plan;
}

/** A unit's name, for progress and errors. */
export function describeUnit(u: SizingUnit): string {
  if (u.kind === 'configurations') return `${u.arch} seed ${u.seed}${u.simulate ? ' (fix)' : ''}`;
  if (u.kind === 'full')
    return `${u.arch} ${u.provisioning} seed ${u.seed} full${u.simulate ? ' (fix)' : ''}`;
  if (u.kind === 'break-even') return `${u.parameter} break-even seed ${u.seed}`;
  return `${u.parameter}=${u.x} ${u.arch} seed ${u.seed}`;
}

/**
 * Runs one unit against `cache` (and `fullCache`), returning only what it added. The same searches,
 * in the same order, as compareTopologies and computeBreakEvens run them.
 */
export function runSizingUnit(
  unit: SizingUnit,
  ctx: SizingUnitContext,
  cache: SizingCache,
  fullCache: FullRunCache,
): SizingUnitResult {
  const before = new Set(cache.keys());
  const beforeFull = new Set(fullCache.keys());
  const opts: CompareOptions = {
    ...ctx.opts,
    seeds: [unit.seed],
    cache,
    fullCache,
    ...(unit.simulate ? { simulate: unit.simulate } : {}),
  };
  const base: SizingInputs = {
    plan: ctx.planFor(unit.seed),
    scaling: ctx.opts.scaling,
    ...(ctx.opts.demandTable ? { demandTable: ctx.opts.demandTable } : {}),
  };
  if (unit.kind === 'configurations') {
    const sizer = createSizer(base, unit.arch, unit.seed, opts, 'base');
    const prov = sizer.searchProvisioned();
    if (unit.autoscaled) {
      const auto = sizer.searchAutoscaled(prov.u);
      if (unit.full) sizer.confirm({ knob: auto.f, ...auto }, { autoscaled: true, u: prov.u });
    }
    if (unit.full) sizer.confirm({ knob: prov.u, ...prov }, { autoscaled: false });
  } else if (unit.kind === 'full') {
    const sizer = createSizer(base, unit.arch, unit.seed, opts, 'base');
    const prov = sizer.searchProvisioned();
    if (unit.provisioning === 'autoscaled') {
      const auto = sizer.searchAutoscaled(prov.u);
      sizer.confirm({ knob: auto.f, ...auto }, { autoscaled: true, u: prov.u });
    } else sizer.confirm({ knob: prov.u, ...prov }, { autoscaled: false });
  } else if (unit.kind === 'knob') {
    computeKnobCost(BREAK_EVEN_PARAMETERS[unit.parameter], base, unit.arch, unit.seed, unit.x, opts);
  } else {
    computeBreakEvens(base.plan, {
      ...opts,
      planFor: ctx.planFor,
      parameters: [unit.parameter],
      steps: unit.steps,
    });
  }
  return {
    trials: [...cache].filter(([k]) => !before.has(k)),
    full: [...fullCache].filter(([k]) => !beforeFull.has(k)),
  };
}
