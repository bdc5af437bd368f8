/**
 * `peakday stack verify`: runs the domain's invariant checks (reference-stack/invariants.ts,
 * `verifyInvariants`) against the stack of a working directory and normalises the answer to
 * {ok, checks}: `ok` is true only when every check holds.
 */
import { ExitCode, PeakdayError } from '../../core/errors.ts';
import type { StackState } from './state.ts';

/** One invariant check. */
export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
  counts?: Record<string, number>;
}

/** What `stack verify --json` prints. */
export interface VerifyResult {
  ok: boolean;
  arch: string;
  dataDir: string;
  checks: VerifyCheck[];
}

const INVARIANTS = new URL('../invariants.ts', import.meta.url).href;

type VerifyFn = (input: { arch: string; dataDir: string; url: string }) => unknown;

/** Runs the invariants; throws a PeakdayError when the domain's checker is not available. */
export async function runStackVerify(state: StackState): Promise<VerifyResult> {
  let verify: VerifyFn | undefined;
  try {
    verify = ((await import(INVARIANTS)) as { verifyInvariants?: VerifyFn }).verifyInvariants;
  } catch (e) {
    throw new PeakdayError(
      'verify-unavailable',
      `cannot load the invariant checks: ${(e as Error).message}`,
      {
        exitCode: ExitCode.internal,
      },
    );
  }
  if (typeof verify !== 'function') {
    throw new PeakdayError(
      'verify-unavailable',
      'reference-stack/invariants.ts exports no verifyInvariants',
      {
        exitCode: ExitCode.internal,
      },
    );
  }
  const raw = (await verify({ arch: state.arch, dataDir: state.dataDir, url: state.url })) as {
    checks?: unknown;
  };
  const checks = normaliseChecks(raw?.checks);
  return {
    ok: checks.length > 0 && checks.every((c) => c.ok),
    arch: state.arch,
    dataDir: state.dataDir,
    checks,
  };
}

/** Accepts checks as an array or as a record keyed by name. Pure. */
export function normaliseChecks(raw: unknown): VerifyCheck[] {
  const list: [string | undefined, Record<string, unknown>][] = Array.isArray(raw)
    ? raw.map((c) => [undefined, c as Record<string, unknown>])
    : typeof raw === 'object' && raw !== null
      ? Object.entries(raw as Record<string, Record<string, unknown>>)
      : [];
  return list.map(([key, c]) => {
    const counts: Record<string, number> = {};
    for (const [k, v] of Object.entries(c ?? {})) if (typeof v === 'number') counts[k] = v;
    const src = (typeof c?.counts === 'object' && c.counts !== null ? c.counts : {}) as Record<
      string,
      unknown
    >;
    for (const [k, v] of Object.entries(src)) if (typeof v === 'number') counts[k] = v;
    return {
      name: String(c?.name ?? key ?? 'check'),
      ok: c?.ok === true,
      detail: String(c?.detail ?? c?.message ?? ''),
      counts,
    };
  });
}
