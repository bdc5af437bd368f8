/**
 * Default budgets per built-in profile (scenarios/budgets/<profile>.yaml), used when `--budgets` is
 * not given, so every built-in rehearsal has a verdict out of the box. Their numbers are grounded in
 * docs/sources.md ("Page speed and revenue") or marked as assumptions in the files themselves.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeakdayError } from '../../core/errors.ts';
import { RUN_FILES } from '../../core/run-format.ts';
import type { BudgetSet } from './budget.ts';
import { readBudgets } from './parse-budgets.ts';

/** Folder of the default budgets files. */
export const DEFAULT_BUDGETS_DIR = fileURLToPath(new URL('./', import.meta.url));

/** Profiles that have a default budgets file. */
export function listDefaultBudgets(): string[] {
  if (!existsSync(DEFAULT_BUDGETS_DIR)) return [];
  return readdirSync(DEFAULT_BUDGETS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * The budgets for a profile: `file` when given, else the profile's default file. A profile without a
 * default (a custom profile file) needs `--budgets` (exit 2 with a hint).
 */
export function loadBudgetsForProfile(profileName: string, file?: string, runDir?: string): BudgetSet {
  if (file !== undefined) return readBudgets(file);
  // A run that brought its own budgets (an imported k6 run's thresholds) is judged by them.
  if (runDir !== undefined && existsSync(join(runDir, RUN_FILES.budgets)))
    return readBudgets(join(runDir, RUN_FILES.budgets));
  const path = `${DEFAULT_BUDGETS_DIR}${profileName}.yaml`;
  if (!/^[a-z0-9-]+$/.test(profileName) || !existsSync(path)) {
    throw new PeakdayError('budgets-missing', `no default budgets for profile "${profileName}"`, {
      hint: `pass --budgets FILE (docs/budgets.md); built-in defaults exist for: ${listDefaultBudgets().join(', ') || 'none'}`,
    });
  }
  return readBudgets(path);
}
