/**
 * The supervisor: the one process that owns a local stack, in the foreground (the CLI itself, until
 * Ctrl-C) or detached (supervisor-main.ts, with a pidfile and an optional time-to-live). It refuses a
 * second stack in the same working directory, starts the stack, plugs the autoscaler into its period
 * hook (the scaling file: the default shipped with the stack, or `--scaling F`), writes the state file,
 * and stops everything on SIGINT, SIGTERM, SIGHUP or when the TTL expires. Every replica is its child
 * and exits when it goes (replica-entry.ts), so no process outlives the stack.
 */
import { rmSync } from 'node:fs';
import { PeakdayError } from '../../core/errors.ts';
import { createLiveAutoscaler } from '../autoscaling/live-autoscaler.ts';
import { loadScaling, type ScalingConfig, serviceScalingFor } from '../autoscaling/scaling-file.ts';
import type { DynamoStoreConfig } from '../store/dynamodb.ts';
import type { Arch } from '../topology.ts';
import { type Stack, type StackOptions, startStack, topologyServices } from './stack.ts';
import {
  acquireStartLock,
  isProcessAlive,
  readStackState,
  removeStackState,
  type StackState,
  statePaths,
  writeStackState,
} from './state.ts';

/** What `stack up` resolved from its flags. */
export interface SupervisorOptions {
  cwd: string;
  arch: Arch;
  host: string;
  port: number;
  mode: 'foreground' | 'detached';
  /** Default `.peakday/stack-data`, emptied at each start; a given directory is used as is. */
  dataDir?: string;
  ttlSeconds?: number;
  /** Scaling file; default: the one shipped with the stack (reference-stack/autoscaling/default-scaling.yaml). */
  scalingFile?: string;
  /** False: fixed task counts, no autoscaler. */
  autoscaling: boolean;
  seed?: number;
  warmPoolSize?: number;
  maxTasks?: number;
  workerModule?: string;
  clock?: StackOptions['clock'];
  /** Install SIGINT/SIGTERM/SIGHUP handlers that stop the stack (default true; embedders may own signals). */
  handleSignals?: boolean;
  /** Called with one line per notable event (start, scaling activity, stop). */
  log?: (line: string) => void;
  /**
   * Run the services on the DynamoDB store adapter at this endpoint (DynamoDB Local, dynalite) instead
   * of SQLite; the tables `<tablePrefix>-<table>` are created when absent.
   */
  dynamodb?: { endpoint: string; region: string; tablePrefix: string };
}

/** A running supervisor. */
export interface Supervisor {
  stack: Stack;
  state: StackState;
  /** What was adapted to run locally (capped capacities). */
  notes: string[];
  /** Resolves with the reason once the stack has stopped. */
  done: Promise<string>;
  shutdown(reason: string): Promise<void>;
}

/** Local cap on tasks per service (2 cores shared by every replica); assumption, `--max-tasks` overrides. */
export const DEFAULT_MAX_TASKS = 6;

/** Starts a stack as the supervisor of this working directory. */
export async function startSupervisor(opts: SupervisorOptions): Promise<Supervisor> {
  const release = acquireStartLock(opts.cwd);
  try {
    return await startLocked(opts);
  } finally {
    release();
  }
}

async function startLocked(opts: SupervisorOptions): Promise<Supervisor> {
  const log = opts.log ?? (() => undefined);
  const existing = readStackState(opts.cwd);
  if (existing && existing.pid !== process.pid) {
    if (isProcessAlive(existing.pid)) {
      throw new PeakdayError(
        'stack-already-running',
        `a ${existing.arch} stack already runs here at ${existing.url}`,
        {
          hint: 'one stack per working directory: run `peakday stack down` first, or start it from another directory',
        },
      );
    }
    removeStackState(opts.cwd);
  }
  const paths = statePaths(opts.cwd);
  const dataDir = opts.dataDir ?? paths.defaultDataDir;
  if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });

  const scaling: ScalingConfig | null = opts.autoscaling ? loadScaling(opts.scalingFile) : null;
  const maxTasks = opts.maxTasks ?? DEFAULT_MAX_TASKS;
  const services = topologyServices(opts.arch).map((s) =>
    scaling && s.scalable
      ? { ...s, minTasks: Math.min(maxTasks, serviceScalingFor(scaling, s.name, s.minTasks).initialDesired) }
      : s,
  );
  let dynamodb: DynamoStoreConfig | undefined;
  if (opts.dynamodb) {
    const { ensureTables, localTableNames } = await import('../store/dynamodb.ts');
    dynamodb = {
      endpoint: opts.dynamodb.endpoint,
      region: opts.dynamodb.region,
      tables: localTableNames(opts.dynamodb.tablePrefix),
    };
    try {
      const created = await ensureTables(dynamodb);
      log(
        `dynamodb: ${created.length} of 5 tables created at ${opts.dynamodb.endpoint} (prefix ${opts.dynamodb.tablePrefix})`,
      );
    } catch (e) {
      throw new PeakdayError(
        'stack-store-unreachable',
        `the DynamoDB endpoint ${opts.dynamodb.endpoint} did not create the stack's tables: ${(e as Error).message}`,
        { hint: 'start DynamoDB Local or dynalite there, or fix --aws-endpoint' },
      );
    }
  }
  let stack: Awaited<ReturnType<typeof startStack>>;
  try {
    stack = await startStack({
      ...(dynamodb ? { workerExtras: { dynamodb } } : {}),
      arch: opts.arch,
      host: opts.host,
      port: opts.port,
      dataDir,
      services,
      clusterName: scaling?.cluster,
      seed: opts.seed,
      warmPoolSize: opts.warmPoolSize,
      maxTasks,
      // PEAKDAY_STACK_WORKER: another worker module (the orchestrator's tests use orchestrator/test-worker.ts).
      workerModule: opts.workerModule ?? process.env.PEAKDAY_STACK_WORKER,
      clock: opts.clock,
      launchFor: scaling ? (service) => serviceScalingFor(scaling, service).launch : undefined,
      onServiceEvent: (e) => log(`task: ${e.message}`),
    });
  } catch (e) {
    // A stack that failed to start leaves nothing behind in its default data directory (a busy port,
    // a bad scaling file): the next `stack up` starts clean, and .peakday/ holds no stale data.
    if (opts.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }

  const notes: string[] = [];
  if (scaling) {
    const scheduler = stack.scheduler;
    const autoscaler = createLiveAutoscaler({
      scaling,
      services: services.filter((s) => s.scalable).map((s) => s.name),
      seed: opts.seed ?? 1,
      startEventTime: scheduler.eventNow(),
      maxTasks,
      setDesiredCount: (service, n) => stack.setDesiredCount(service, n),
      recordActivity: (a) => {
        stack.recordActivity(a);
        log(`scaling: ${a.ResourceId} ${a.StatusCode}: ${a.Description}`);
      },
      timestamp: (t) => {
        const c = scheduler.spec;
        return new Date(scheduler.setAtEpochMs + ((t - c.eventStart) / c.timeScale) * 1000).toISOString();
      },
    });
    notes.push(...autoscaler.notes, `autoscaling from ${scaling.file}`);
    stack.onPeriod((m, t) => void autoscaler.onPeriod(m, t));
  } else notes.push('autoscaling off: fixed task counts (set them with POST /_peakday/desired)');

  const started = new Date();
  const state: StackState = {
    version: 1,
    pid: process.pid,
    mode: opts.mode,
    arch: opts.arch,
    host: opts.host,
    port: stack.port,
    url: stack.url,
    dataDir,
    started: started.toISOString(),
    ...(dynamodb ? { dynamodb } : {}),
  };
  if (opts.ttlSeconds !== undefined) {
    state.ttlSeconds = opts.ttlSeconds;
    state.expiresAt = new Date(started.getTime() + opts.ttlSeconds * 1000).toISOString();
  }
  writeStackState(opts.cwd, state);
  log(`stack ${opts.arch} up at ${stack.url} (pid ${process.pid}, data ${dataDir}, seed ${opts.seed ?? 1})`);

  let resolveDone: (reason: string) => void = () => undefined;
  const done = new Promise<string>((r) => {
    resolveDone = r;
  });
  let stopping: Promise<void> | undefined;
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (sig: NodeJS.Signals) => void shutdown(`signal ${sig}`);
  let ttlTimer: ReturnType<typeof setTimeout> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    if (stopping) return stopping;
    stopping = (async () => {
      log(`stopping: ${reason}`);
      if (ttlTimer) clearTimeout(ttlTimer);
      for (const s of signals) process.off(s, onSignal);
      await stack.stop();
      removeStackState(opts.cwd, process.pid);
      resolveDone(reason);
    })();
    return stopping;
  };
  if (opts.handleSignals !== false) for (const s of signals) process.on(s, onSignal);
  if (opts.ttlSeconds !== undefined) {
    ttlTimer = setTimeout(
      () => void shutdown(`time-to-live of ${opts.ttlSeconds}s reached`),
      opts.ttlSeconds * 1000,
    );
  }
  return { stack, state, notes, done, shutdown };
}
