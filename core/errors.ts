/**
 * The one error type of peakday. Every expected failure (bad input, unreachable target, breached
 * budgets) is a `PeakdayError` with a stable `code`, a message that says what happened and a `hint`
 * that says what to do. Only `cli/main.ts` turns an error into a process exit code, so library code
 * stays usable from tests and other programs.
 */

import { MAX_MESSAGE_CHARS, MAX_PROBLEMS_SHOWN } from './limits.ts';

/** Documented process exit codes (README "Exit codes"). 99 matches k6's ThresholdsHaveFailed. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  invalidInput: 2,
  /** AWS commands: no usable credentials (none found, expired, or rejected). */
  awsCredentials: 3,
  /** AWS commands: the account/region is not bootstrapped for the CDK. */
  awsNotBootstrapped: 4,
  /** AWS commands: a service quota or limit stopped the deployment. */
  awsQuota: 5,
  /** AWS commands: CloudFormation failed the deployment (and rolled it back). */
  awsDeployFailed: 6,
  /**
   * AWS commands: AWS kept throttling after the SDK's retries, or a request failed for a reason that
   * is neither the user's input nor a bug in peakday (network, an AWS service error): worth a retry.
   */
  awsUnavailable: 7,
  /**
   * The machine, or a tool peakday drives, not peakday: a process peakday starts (the local stack's
   * supervisor and replicas, k6) could not start, was killed, or failed for its own reasons (memory,
   * processes, open files, disk, a host too slow for it to be ready in time); its log says which.
   */
  environment: 8,
  circuitBreaker: 97,
  noVerdict: 98,
  budgetsBreached: 99,
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** One catalog entry: the exit code a user meets with this error, what it means, what to do. */
export interface ErrorEntry {
  exit: ExitCodeValue;
  meaning: string;
  todo: string;
}

const INPUT = ExitCode.invalidInput;
const BUG = ExitCode.internal;
const ENV = ExitCode.environment;

/**
 * Every error code peakday throws, with its exit code, its meaning and what a user does about it.
 * `docs/errors.md` lists them (generated from this table: `npx tsx scripts/errors-doc.ts`).
 * Adding a code is one entry here; `PeakdayError` takes its exit code from the entry, and the
 * catalog test (core/errors.test.ts) fails on a code thrown anywhere that is not here.
 */
// biome-ignore format: one line per code, so adding a code is adding a line
export const ERROR_CATALOG = {
  'auth-missing': { exit: INPUT, meaning: 'a journey needs a secret (environment variable or file) that is not there', todo: "export the variable or fix the journey's auth.fromFile path" },
  'autoscaler-time-reversed': { exit: BUG, meaning: 'the autoscaling model was asked to decide back in event time', todo: 'report it: a bug in peakday' },
  'aws-access-denied': { exit: INPUT, meaning: 'AWS refused a read the command needs', todo: 'grant the IAM permissions the hint lists' },
  'aws-cluster-not-found': { exit: INPUT, meaning: 'the ECS cluster does not exist in that account and region', todo: 'check --cluster and --region' },
  'aws-credentials-missing': { exit: ExitCode.awsCredentials, meaning: 'no usable AWS credentials were found (none, expired or rejected)', todo: 'set AWS_PROFILE (aws sso login) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' },
  'aws-deploy-failed': { exit: ExitCode.awsDeployFailed, meaning: 'CloudFormation failed the deployment (and rolled it back)', todo: "the stack's Events in the CloudFormation console name the resource that failed; fix it and deploy again" },
  'aws-no-services': { exit: INPUT, meaning: 'the ECS cluster has no (tagged) service to collect', todo: 'pass --services, or deploy and tag the stack first' },
  'aws-not-bootstrapped': { exit: ExitCode.awsNotBootstrapped, meaning: 'the account and region are not bootstrapped for the CDK', todo: 'peakday stack deploy --aws --bootstrap (once per account and region)' },
  'aws-quota': { exit: ExitCode.awsQuota, meaning: 'an AWS service quota or limit stopped the deployment', todo: 'raise the quota the message names in Service Quotas, or deploy one topology at a time' },
  'aws-region-missing': { exit: INPUT, meaning: 'no AWS region is configured', todo: 'pass --region or set AWS_REGION' },
  'aws-request-failed': { exit: ExitCode.awsUnavailable, meaning: 'an AWS request failed for a reason that is not your input (network, an AWS service error)', todo: 'check region, cluster and network, then retry; rerun with PEAKDAY_DEBUG=1 for details' },
  'aws-throttled': { exit: ExitCode.awsUnavailable, meaning: "AWS kept throttling after the SDK's retries", todo: 'wait a minute and collect again, or collect fewer --services at a time' },
  'aws-unknown-service': { exit: INPUT, meaning: 'a service named in --services is not in the ECS cluster', todo: 'check --services against aws ecs list-services' },
  'budgets-invalid': { exit: INPUT, meaning: 'a budgets file (or k6 thresholds) has problems, each listed with file:line:column', todo: 'fix each listed problem (docs/budgets.md)' },
  'budgets-missing': { exit: INPUT, meaning: 'the profile has no built-in budgets', todo: 'pass --budgets FILE (docs/budgets.md)' },
  'calibration-invalid': { exit: INPUT, meaning: 'a calibration file is not JSON or not one peakday probe wrote', todo: 'pass the calibration.json written by peakday probe' },
  'calibration-missing': { exit: INPUT, meaning: 'the calibration file does not exist', todo: 'run peakday probe first, or pass its run directory' },
  'circuit-breaker-invalid': { exit: INPUT, meaning: '--circuit-breaker is not RATE:SECONDS or off', todo: 'e.g. --circuit-breaker 0.5:5' },
  'cloudwatch-data-expired': { exit: INPUT, meaning: 'the run is older than CloudWatch keeps metrics', todo: 'collect within 15 days of a run to keep 1-minute data' },
  'collect-interrupted': { exit: ExitCode.interrupted, meaning: 'collect was interrupted (Ctrl-C, SIGTERM) before it wrote the timeline; the run directory is as it was', todo: 'collect again: the source still holds the data' },
  'cluster-required': { exit: INPUT, meaning: 'collect --source cloudwatch needs an ECS cluster', todo: 'pass --cluster NAME (and --region)' },
  'confirmation-needed': { exit: INPUT, meaning: 'a command that changes AWS needs a yes, and there is no terminal to ask on', todo: 'pass --yes (CI) or run it in a terminal' },
  'config-invalid': { exit: INPUT, meaning: 'peakday.config.yaml has problems, each listed with file:line:column', todo: 'fix each listed problem (README, Configuration)' },
  'contract-unknown-operation': { exit: INPUT, meaning: 'a step names an operation the API contract does not have', todo: 'use an operation the hint lists (docs/api-contract.md)' },
  'data-pool-invalid': { exit: INPUT, meaning: 'a data pool file cannot be read or parsed', todo: 'fix the pool file; paths are relative to the profile file' },
  'data-pool-missing': { exit: INPUT, meaning: 'a journey binds a value to a pool that does not exist', todo: 'use a built-in pool or declare it under dataPools' },
  'emf-dimension-missing': { exit: BUG, meaning: 'the local stack wrote a metric record without a required dimension', todo: 'report it: a bug in peakday' },
  'emf-unknown-metric': { exit: BUG, meaning: 'the local stack wrote a metric it does not declare', todo: 'report it: a bug in peakday' },
  'file-not-found': { exit: INPUT, meaning: 'an input file does not exist or cannot be read', todo: 'check the path (relative to the current directory)' },
  'fleet-flags-invalid': { exit: INPUT, meaning: 'fleet flags were given values it cannot use, each listed', todo: 'fix each listed flag (docs/fleet.md)' },
  'fleet-interrupted': { exit: ExitCode.interrupted, meaning: 'the fleet was interrupted before its start instant; every task was stopped, no load was sent', todo: 'start the run again' },
  'fleet-no-output': { exit: ExitCode.noVerdict, meaning: 'no task of the ECS fleet uploaded a k6 output', todo: "read the tasks' logs in the fleet stack's log group" },
  'fleet-size-invalid': { exit: INPUT, meaning: 'a generator size is not a Fargate task size', todo: 'pick a vCPU and memory pair Fargate offers (docs/fleet.md)' },
  'fleet-start-failed': { exit: ExitCode.noVerdict, meaning: 'a fleet task failed to start or was not running by the start deadline; every task was stopped, no load was sent', todo: 'check the Fargate quota, the image and the tasks in the ECS console (docs/fleet.md)' },
  'gather-mismatch': { exit: INPUT, meaning: 'the k6 outputs given to fleet gather are not the segments of the plan given (another plan, a segment twice, different splits, no peakday tags)', todo: 'gather the outputs of one TestRun with the plan.json written beside its manifests' },
  'gather-no-dir': { exit: INPUT, meaning: 'fleet gather was given a path that is not a directory', todo: 'give the folder the pods\' results were copied to' },
  'gather-no-output': { exit: INPUT, meaning: 'fleet gather found no k6-out.ndjson under the folder', todo: 'copy the results volume out first (docs/fleet.md)' },
  'generators-invalid': { exit: INPUT, meaning: '--generators is not a whole number in range', todo: 'e.g. --generators 3' },
  'generators-with-segment': { exit: INPUT, meaning: '--generators was given a plan that is already a segment', todo: 'drop --segment, or play one segment without --generators' },
  'import-interrupted': { exit: ExitCode.interrupted, meaning: 'import was interrupted (Ctrl-C, SIGTERM); a run directory already begun has no summary.json', todo: 'import again into a new --out' },
  'input-too-large': { exit: INPUT, meaning: 'an input file is larger than the input limit (docs/errors.md, Limits)', todo: 'check it is the right file' },
  internal: { exit: BUG, meaning: 'an unexpected failure in a stack process, relayed to the command', todo: 'see the log file the message names; report it' },
  'invalid-desired-count': { exit: INPUT, meaning: 'a desired task count is not a whole number >= 0', todo: 'give a whole number' },
  'invalid-duration': { exit: INPUT, meaning: 'a duration is not in k6 form, or an event range cannot be compressed into it', todo: 'write durations like 90s, 10m, 1h30m or 250ms' },
  'invalid-flag': { exit: INPUT, meaning: 'a command-line flag or argument is missing or invalid (every problem is listed)', todo: 'fix each listed flag; peakday COMMAND --help shows them' },
  'invalid-json-path': { exit: INPUT, meaning: 'a JSON path does not follow the grammar', todo: "write paths like $.items[0].id or $['price'].amount" },
  'invalid-rate': { exit: INPUT, meaning: 'a rate option is not a positive number, or two exclude each other', todo: 'give one positive --peak-rps or --baseline-rps' },
  'invalid-time-scale': { exit: INPUT, meaning: 'an event clock got a non-positive time scale or a non-finite start', todo: 'check --duration and the event range' },
  'journeys-invalid': { exit: INPUT, meaning: 'the journey library has problems', todo: 'fix each listed problem (docs/profiles.md)' },
  'k6-config-invalid': { exit: INPUT, meaning: 'k6 rejected its configuration (k6 exit 104): a K6_* variable in the environment or an option it was given', todo: "read the k6 console file the hint names; unset the K6_* variable it names" },
  'k6-export-empty': { exit: INPUT, meaning: 'the plan has no scenario with traffic to export', todo: "check the profile's shape and --rehearsal windows" },
  'k6-export-invalid': { exit: INPUT, meaning: 'the plan cannot be written as a k6 script (a missing journey or auth)', todo: 'fix the profile the message names' },
  'k6-export-pool-missing': { exit: INPUT, meaning: 'a data pool the script needs has no values', todo: 'give the pool a file with values' },
  'k6-failed': { exit: ENV, meaning: 'k6 failed for a reason of its own (its exit code says which: a timeout, its REST API port taken, a crash of k6)', todo: 'read the k6 console file the hint names' },
  'k6-not-found': { exit: INPUT, meaning: 'no runnable k6 on PATH or at --k6-bin, or it could not be started', todo: 'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/) or pass --k6-bin' },
  'k6-operator-flags-invalid': { exit: INPUT, meaning: 'profile export-k6 --k6-operator was given flags it cannot use, each listed', todo: 'fix each listed flag (docs/fleet.md, On Kubernetes)' },
  'k6-operator-script-too-large': { exit: INPUT, meaning: 'the exported script does not fit in a ConfigMap (1 MiB)', todo: 'export a shorter plan (--window, --duration) or smaller pools' },
  'k6-output-empty': { exit: INPUT, meaning: 'the k6 output file holds no samples', todo: 'check that k6 ran and sent requests (k6 run --out json=FILE)' },
  'k6-output-invalid': { exit: INPUT, meaning: 'a line of the file given to import k6 is not k6 JSON or CSV output (file:line:column)', todo: 'pass the file k6 wrote with --out json=FILE or --out csv=FILE (gzip is fine)' },
  'k6-output-missing': { exit: INPUT, meaning: 'the k6 output file given to import k6 does not exist', todo: 'pass the path k6 wrote with --out json=FILE' },
  'k6-output-unreadable': { exit: INPUT, meaning: 'the k6 output file cannot be opened', todo: 'check the path and its permissions' },
  'k6-script-error': { exit: INPUT, meaning: 'the k6 script threw an exception or aborted the test (k6 exit 107 or 108), e.g. a secret or data file it needs is missing', todo: 'read the k6 console file the hint names: it shows the exception and its line' },
  'k6-script-unreadable': { exit: INPUT, meaning: 'the k6 script given to import k6 cannot be read', todo: 'pass the script the run used, or leave --script out' },
  'k6-summary-invalid': { exit: INPUT, meaning: 'the k6 summary given to import k6 is not JSON (file:line:column)', todo: "pass the file k6 wrote with --summary-export FILE" },
  'k6-summary-unreadable': { exit: INPUT, meaning: 'the k6 summary given to import k6 cannot be read', todo: 'check the --summary path' },
  'merge-interrupted': { exit: ExitCode.interrupted, meaning: 'merge was interrupted (Ctrl-C, SIGTERM); the inputs are untouched, and a merged directory already begun has no summary.json', todo: 'merge again into a new --out' },
  'merge-mismatch': { exit: INPUT, meaning: 'the runs given to merge are not distinct segments of one plan', todo: 'merge each segment of one split run once' },
  'merge-no-input': { exit: INPUT, meaning: 'merge was given no run directory', todo: 'peakday merge runs/a runs/b --out runs/ab' },
  'nag-findings': { exit: ExitCode.internal, meaning: 'cdk-nag found an unacknowledged problem in the reference stack on AWS', todo: 'report it: a bug in peakday (the nag report lists the findings)' },
  'no-stack': { exit: INPUT, meaning: 'no local stack has run in this directory', todo: 'start one with peakday stack up' },
  'output-unwritable': { exit: INPUT, meaning: 'an output file cannot be written', todo: 'check the directory exists and is writable' },
  'output-path-invalid': { exit: INPUT, meaning: 'an output path (--out, --junit, --markdown) is a file where a directory is wanted (or the reverse), or its directory is missing or not writable; checked before any load', todo: 'give a writable path; the message names the path and the cause' },
  'output-write-failed': { exit: INPUT, meaning: 'a report file could not be written (full disk, permissions); the run directory is untouched', todo: 'free space or choose another --out' },
  'plan-invalid': { exit: INPUT, meaning: 'a plan is not a compiled plan.json, or cannot be simulated', todo: 'give a plan.json from a run directory' },
  'port-in-use': { exit: INPUT, meaning: 'the stack cannot listen on the port', todo: 'choose another --port, or stop what uses it' },
  'pricing-invalid': { exit: INPUT, meaning: 'pricing overrides name unknown keys or invalid prices', todo: 'fix pricing.overrides in peakday.config.yaml' },
  'probe-no-budget': { exit: INPUT, meaning: 'the budgets give the probe no p95 latency budget to find the knee against', todo: 'add a p95 budget or pass --p95 MS' },
  'probe-replicas': { exit: INPUT, meaning: "the probe's replicas did not become healthy", todo: 'the host may be overloaded; try fewer --replicas' },
  'probe-target-failing': { exit: ExitCode.circuitBreaker, meaning: 'the probe stopped before measuring a step: the target refused or dropped the connections of most requests for 5 s', todo: 'start the target or fix --target, then probe again; the run directory the message names holds what was sent' },
  'profile-empty': { exit: INPUT, meaning: "the profile's shape is 0 throughout", todo: 'check its pauses and levels' },
  'profile-invalid': { exit: INPUT, meaning: 'a profile has problems, each listed with file:line:column', todo: 'fix each listed problem (docs/profiles.md)' },
  'profile-missing': { exit: INPUT, meaning: 'run was given neither a profile nor a plan', todo: 'name a profile (peakday profile list)' },
  'profile-not-found': { exit: INPUT, meaning: 'no built-in profile or file has that name', todo: 'use a name from peakday profile list, or a path' },
  'rate-too-high': { exit: INPUT, meaning: 'the plan would peak above the live-rate or absolute rate limit (docs/errors.md, Limits)', todo: 'lower the rate, or raise it deliberately with --max-rps or limits.maxRps' },
  'rehearsal-no-telemetry': { exit: ENV, meaning: "the local stack a rehearsal started wrote no metrics over its live run: starved by a loaded host, or gone", todo: 'rerun on a quieter host; the live run is kept, and the supervisor log the hint names says what the stack did' },
  'run-dir-exists': { exit: INPUT, meaning: 'the output directory already holds a run', todo: 'choose another --out, or remove the old run' },
  'run-dir-invalid': { exit: INPUT, meaning: 'a directory is not a peakday run directory, or one of its files cannot be read', todo: 'pass a directory written by peakday run, simulate or merge' },
  'run-dir-unwritable': { exit: INPUT, meaning: 'the run directory could not be created or its first files written (full disk, permissions); no load was sent', todo: 'free space or choose another --out' },
  'run-file-corrupt': { exit: INPUT, meaning: 'a run file is truncated or edited (bad JSON or records)', todo: 're-run, or restore the file from the run that wrote it' },
  'run-file-missing': { exit: INPUT, meaning: 'a run directory lacks a file it needs', todo: 'the run did not start or was deleted; re-run it' },
  'run-file-unreadable': { exit: INPUT, meaning: 'a run file cannot be read', todo: 'check permissions' },
  'run-format-newer': { exit: INPUT, meaning: 'the run was written by a newer peakday', todo: 'upgrade peakday' },
  'run-no-load-data': { exit: INPUT, meaning: 'the run sent no load to correlate telemetry with', todo: 'run the load again, then collect' },
  'run-not-found': { exit: INPUT, meaning: 'the run directory does not exist', todo: 'pass a directory under runs/ (peakday runs)' },
  'run-not-started': { exit: INPUT, meaning: 'the run has no start time, so telemetry cannot be aligned', todo: 'collect after peakday run has started' },
  'run-simulated': { exit: INPUT, meaning: 'telemetry was asked for a simulated run', todo: 'collect for live runs only' },
  'scaling-invalid': { exit: INPUT, meaning: 'a scaling file has problems, each listed with file:line:column', todo: 'fix each listed problem (docs/autoscaling.md)' },
  'segment-invalid': { exit: INPUT, meaning: 'a segment is not i/N, or the plan is already a segment', todo: 'e.g. --segment 1/4, on a whole plan' },
  'service-not-scalable': { exit: INPUT, meaning: 'the service stands in for a managed service and does not scale', todo: 'scale a deployable service (peakday stack status)' },
  'simulate-invalid': { exit: INPUT, meaning: 'simulation options do not fit together (step, resolution, metric period)', todo: 'align the resolution with the metric period' },
  'simulate-unknown-operation': { exit: INPUT, meaning: 'a step names no operation of the reference stack the simulator models', todo: 'give each step an operation from the API contract' },
  'stack-already-running': { exit: INPUT, meaning: 'a stack already runs in this directory', todo: 'peakday stack down first, or use another directory' },
  'stack-clock-unset': { exit: ENV, meaning: "the local stack a rehearsal started did not take the run's event clock before the load: it did not answer in time (a host too loaded) or refused", todo: 'rerun on a quieter host; no load was sent, and the message says what the stack answered' },
  'stack-dir-unknown': { exit: INPUT, meaning: 'collect cannot tell where the local stack keeps its telemetry', todo: 'pass --stack-dir, or collect where the stack ran' },
  'stack-file-invalid': { exit: INPUT, meaning: 'the file is not a stack file written by peakday stack deploy --aws', todo: 'pass the .peakday/aws-<arch>.json that deploy wrote' },
  'stack-file-missing': { exit: INPUT, meaning: 'there is no stack file of a deployed stack there', todo: 'deploy first: peakday stack deploy --aws' },
  'stack-lock': { exit: BUG, meaning: "the stack's lock file cannot be taken", todo: "check the .peakday directory's permissions; report it" },
  'stack-store-unreachable': { exit: ExitCode.awsUnavailable, meaning: 'the DynamoDB endpoint given with --aws-endpoint did not answer or refused to create the tables', todo: 'start it (DynamoDB Local, dynalite) or fix the URL, then stack up again' },
  'stack-start-failed': { exit: BUG, meaning: "a process of the stack (its supervisor or a replica) crashed before the stack was ready, for a reason that is not the machine's", todo: 'read the log file the hint names and report it' },
  'stack-start-resources': { exit: ENV, meaning: 'a process of the stack could not start for the machine: killed by a signal (often the out-of-memory killer), or refused memory, processes, open files, disk space or permission', todo: 'free memory, disk or file descriptors (ulimit -n), or start fewer tasks (--max-tasks); the log the hint names shows the process' },
  'stack-start-timeout': { exit: ENV, meaning: 'the stack was not healthy in time: the host is too slow or too loaded to start its processes', todo: 'rerun on a quieter host, or start fewer tasks; the log file the hint names shows what was slow' },
  'stack-starting': { exit: INPUT, meaning: 'another stack is starting in this directory', todo: 'wait for it (peakday stack status) or stop it' },
  'target-invalid': { exit: INPUT, meaning: '--target is not an http(s) URL', todo: 'give a URL like http://127.0.0.1:8080' },
  'target-missing': { exit: INPUT, meaning: 'there is no target to send load to', todo: 'add --target http://127.0.0.1:PORT' },
  'target-not-allowed': { exit: INPUT, meaning: 'the target is not loopback and not allowed', todo: 'add --allow-host HOST (or allowedHosts in the config) if it is yours' },
  'telemetry-no-data': { exit: INPUT, meaning: 'the local stack holds no metrics from the time of the run', todo: 'run the load against the stack, then collect' },
  'time-scale-too-high': { exit: INPUT, meaning: 'the target is a peakday stack, whose clock runs at most 60x, and the plan compresses more; refused before any load', todo: 'a longer --duration (the hint names one that fits), a --window, or --no-stack-handshake to play it anyway' },
  'unknown-service': { exit: INPUT, meaning: 'no service of that name in the stack', todo: 'use a service the hint lists' },
  'validate-incomplete': { exit: INPUT, meaning: 'the live run to validate against has no plan or summary', todo: 'validate against a finished live run' },
  'validate-not-live': { exit: INPUT, meaning: 'simulate --validate was given a run that is not live', todo: 'pass a live run directory' },
  'window-unknown': { exit: INPUT, meaning: 'a window is not one the profile declares', todo: 'peakday profile show PROFILE lists its windows' },
  'yaml-invalid': { exit: INPUT, meaning: 'a YAML file is not valid YAML', todo: 'fix the located problem' },
} as const satisfies Record<string, ErrorEntry>;

/** A code in {@link ERROR_CATALOG}: the only codes a `PeakdayError` can carry. */
export type ErrorCode = keyof typeof ERROR_CATALOG;

/** Whether `code` is in the catalog (for codes relayed from another process). */
export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOG, code);
}

/** One problem found while validating an input file, with where it is and what would fix it. */
export interface Problem {
  /** File the problem is in, as the user named it; absent for command-line input. */
  file?: string;
  /** 1-based line and column, when known. */
  line?: number;
  column?: number;
  /** Path inside the document, e.g. `channels.web.share`. */
  path?: string;
  /** What is wrong, said plainly. */
  message: string;
  /** What was expected there. */
  expected?: string;
  /** What to do about it. */
  hint?: string;
}

/** Options of {@link PeakdayError}; the exit code comes from the catalog entry of the code. */
export interface PeakdayErrorOptions {
  hint?: string;
  problems?: Problem[];
  cause?: unknown;
}

/** An expected failure with a stable machine-readable `code` (kebab-case, e.g. `profile-invalid`). */
export class PeakdayError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly exitCode: ExitCodeValue;
  readonly problems: Problem[];

  constructor(code: ErrorCode, message: string, options: PeakdayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PeakdayError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = ERROR_CATALOG[code].exit;
    this.problems = options.problems ?? [];
  }
}

/** Shorthand for the most common case: the user's input is invalid (exit 2, from the catalog). */
export function invalidInput(code: ErrorCode, message: string, hint?: string): PeakdayError {
  return new PeakdayError(code, message, { hint });
}

/** Bundles every problem found in one input into a single error (exit 2), like k6's `Validate() []error`. */
export function validationError(code: ErrorCode, what: string, problems: Problem[]): PeakdayError {
  const n = problems.length;
  return new PeakdayError(code, `${what}: ${n} problem${n === 1 ? '' : 's'} found`, {
    problems,
    hint: problems.length > 0 ? undefined : 'check the file against its documentation',
  });
}

/** Formats one problem as `file:line:column: path: message (expected ...) hint: ...`. */
export function formatProblem(p: Problem): string {
  const where = [p.file, p.line, p.column].filter((x) => x !== undefined).join(':');
  const parts: string[] = [];
  if (where) parts.push(`${where}:`);
  if (p.path) parts.push(`${p.path}:`);
  parts.push(capMessage(p.message));
  let out = parts.join(' ');
  if (p.expected) out += ` (expected ${p.expected})`;
  if (p.hint) out += `\n    hint: ${p.hint}`;
  return out;
}

/** A message on one line and at most MAX_MESSAGE_CHARS long, whatever input it quotes. */
function capMessage(message: string): string {
  const one = message.replace(/\r?\n/g, ' ⏎ ');
  return one.length > MAX_MESSAGE_CHARS ? `${one.slice(0, MAX_MESSAGE_CHARS)}… (message cut)` : one;
}

/**
 * Formats an error for a terminal: message, the problems (at most MAX_PROBLEMS_SHOWN, the rest
 * counted), then the hint.
 */
export function formatError(err: PeakdayError): string {
  const lines = [`error[${err.code}]: ${capMessage(err.message)}`];
  for (const p of err.problems.slice(0, MAX_PROBLEMS_SHOWN)) lines.push(`  ${formatProblem(p)}`);
  const more = err.problems.length - MAX_PROBLEMS_SHOWN;
  if (more > 0)
    lines.push(
      `  … and ${more} more problem${more === 1 ? '' : 's'} (the first ${MAX_PROBLEMS_SHOWN} are shown)`,
    );
  if (err.hint) lines.push(`hint: ${err.hint}`);
  return lines.join('\n');
}

export function isPeakdayError(e: unknown): e is PeakdayError {
  return e instanceof PeakdayError;
}
