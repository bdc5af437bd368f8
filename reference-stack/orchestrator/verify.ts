/**
 * `peakday stack verify`: runs the domain's invariant checks (reference-stack/invariants.ts) on the
 * data directory of the working directory's stack (running or stopped: the stores stay after `down`),
 * or on its DynamoDB tables when it ran on the DynamoDB store.
 * `ok` is true only when every check holds.
 */
import type { InvariantCheck } from '../invariants.ts';
import type { StackState } from './state.ts';

/** What `stack verify --json` prints. */
export interface VerifyResult {
  ok: boolean;
  arch: string;
  dataDir: string;
  checks: InvariantCheck[];
}

/** Runs the invariants on the stack's stores (read-only). */
export async function runStackVerify(
  state: Pick<StackState, 'arch' | 'dataDir' | 'dynamodb'>,
): Promise<VerifyResult> {
  const { verifyInvariants, verifyDynamoInvariants } = await import('../invariants.ts');
  let report: Awaited<ReturnType<typeof verifyDynamoInvariants>>;
  if (state.dynamodb) {
    // A stack on the DynamoDB store: its tables hold the state, the data directory only the bus.
    const { openDynamoStore } = await import('../store/dynamodb.ts');
    const store = await openDynamoStore(state.dynamodb);
    try {
      report = await verifyDynamoInvariants(store, state.dataDir);
    } finally {
      store.close();
    }
  } else report = verifyInvariants([state.dataDir]);
  return {
    ok: report.ok && report.checks.every((c) => c.ok),
    arch: state.arch,
    dataDir: state.dataDir,
    checks: report.checks,
  };
}

/** One line per check for the terminal. Pure. */
export function formatCheck(c: InvariantCheck): string {
  const n = c.details.violationCount;
  const violations = typeof n === 'number' ? n : undefined;
  return `${c.name}: ${c.count} checked${violations ? `, ${violations} violation${violations === 1 ? '' : 's'}` : ''}`;
}
