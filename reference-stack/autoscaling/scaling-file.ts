/**
 * The scaling file: per service, the Application Auto Scaling resources that scale it, one to one
 * (docs/autoscaling.md has the full format and an example). Grammar (YAML):
 *
 *   version: 1
 *   cluster: <name>                      # ResourceId = service/<cluster>/<service>
 *   defaults:                            # optional; merged under every service
 *     <service keys below>
 *   services:
 *     <service>:
 *       minCapacity: <int ≥ 0>           # ScalableTarget MinCapacity
 *       maxCapacity: <int ≥ minCapacity> # ScalableTarget MaxCapacity
 *       initialDesired: <int>            # desired count at start (default minCapacity)
 *       launch:
 *         startLatency: {distribution: uniform, min: 30s, max: 60s} | {distribution: fixed, seconds: 45s}
 *                     | {distribution: normal, mean: 40s, sd: 8s, min: 20s}
 *         healthCheck: {interval: 30s, checksToHealthy: 1}
 *       policies:                        # PutScalingPolicy, one entry each
 *         - name: <string>
 *           type: TargetTrackingScaling
 *           metric: ECSServiceAverageCPUUtilization | ECSServiceAverageMemoryUtilization | ALBRequestCountPerTarget
 *           resourceLabel: <string>      # ALBRequestCountPerTarget on AWS
 *           targetValue: <number > 0>
 *           scaleOutCooldown: <duration> # default 300s (documented)
 *           scaleInCooldown: <duration>  # default 300s (documented)
 *           disableScaleIn: <bool>
 *           alarms: {period: 60s, scaleOutDatapoints: 3, scaleInDatapoints: 15, scaleInRatio: 0.9, metricLag: 60s}  # observed
 *           scaleInMaxStepPercent: <1..100>  # assumption, default 50
 *         - name: <string>
 *           type: StepScaling
 *           adjustmentType: ChangeInCapacity | PercentChangeInCapacity | ExactCapacity
 *           minAdjustmentMagnitude: <int>
 *           cooldown: <duration>
 *           metricAggregationType: Average | Minimum | Maximum
 *           stepAdjustments: [{lowerBound?, upperBound?, scalingAdjustment}]
 *           alarm: {metric: CPUUtilization | MemoryUtilization | RequestCountPerTarget,
 *                   comparison: GreaterThanOrEqualToThreshold | ..., threshold, period: 60s,
 *                   evaluationPeriods: 1, datapointsToAlarm: 1, metricLag: 60s}
 *       scheduledActions:                # PutScheduledAction; `at` is event time
 *         - {name: <string>, at: <duration>, minCapacity?: <int>, maxCapacity?: <int>}
 *
 * Every problem is reported at once with file:line:column (exit 2).
 */
import { fileURLToPath } from 'node:url';
import {
  type Checker,
  createChecker,
  type DocPath,
  didYouMean,
  readYamlSource,
  type YamlSource,
} from '../../core/yaml-source.ts';
import { servicesOf } from '../topology.ts';
import {
  defaultAlarmBehaviour,
  defaultHealthCheck,
  defaultStartLatency,
  SCALING_DEFAULTS,
} from './defaults.ts';
import {
  ALARM_METRICS,
  type AlarmBehaviour,
  type HealthCheck,
  PREDEFINED_METRICS,
  type ScalingPolicy,
  type ScheduledAction,
  type ServiceScaling,
  type StartLatency,
  type StepAdjustment,
  type StepScalingPolicy,
  type TargetTrackingPolicy,
  type TaskLaunch,
} from './types.ts';

/** The default scaling file shipped with the stack. */
export const DEFAULT_SCALING_FILE = fileURLToPath(new URL('./default-scaling.yaml', import.meta.url));

/** A loaded scaling file: the cluster name and each service's resolved scaling. */
export interface ScalingConfig {
  file: string;
  cluster: string;
  services: Record<string, ServiceScaling>;
}

const SERVICE_KEYS = [
  'minCapacity',
  'maxCapacity',
  'initialDesired',
  'launch',
  'policies',
  'scheduledActions',
] as const;
const POLICY_TYPES = ['TargetTrackingScaling', 'StepScaling'] as const;
const COMPARISONS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
] as const;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** Every deployable of both topologies (reference-stack/topology.ts). */
const KNOWN_SERVICES: readonly string[] = [
  ...new Set([...servicesOf('headless'), ...servicesOf('monolith')]),
];

type Raw = Record<string, unknown>;

function int(c: Checker, path: DocPath, v: unknown, min = 0): number | undefined {
  return c.number(path, v, { integer: true, min });
}

function opt<T>(obj: Raw, key: string, read: (v: unknown) => T | undefined): T | undefined {
  return obj[key] === undefined ? undefined : read(obj[key]);
}

function readStartLatency(c: Checker, path: DocPath, v: unknown): StartLatency | undefined {
  const o = c.object(path, v, ['distribution', 'seconds', 'min', 'max', 'mean', 'sd']);
  if (!o) return undefined;
  const kind = c.oneOf([...path, 'distribution'], o.distribution, ['fixed', 'uniform', 'normal'] as const);
  const dur = (key: string) => {
    const r = c.required(path, o, key, `a duration (${key}) for the ${String(kind)} distribution`);
    return r === undefined ? undefined : c.duration([...path, key], r);
  };
  const readers = {
    fixed: () => {
      const seconds = dur('seconds');
      return seconds === undefined ? undefined : { distribution: 'fixed' as const, seconds };
    },
    uniform: () => {
      const [min, max] = [dur('min'), dur('max')];
      if (min === undefined || max === undefined) return undefined;
      if (max < min) c.add([...path, 'max'], `is below min (${min}s)`, { expected: 'max ≥ min' });
      return { distribution: 'uniform' as const, minSeconds: min, maxSeconds: max };
    },
    normal: () => {
      const [mean, sd, min] = [dur('mean'), dur('sd'), dur('min')];
      if (mean === undefined || sd === undefined || min === undefined) return undefined;
      return { distribution: 'normal' as const, meanSeconds: mean, sdSeconds: sd, minSeconds: min };
    },
  } satisfies Record<StartLatency['distribution'], () => StartLatency | undefined>;
  return kind ? readers[kind]() : undefined;
}

function readLaunch(c: Checker, path: DocPath, v: unknown, base: TaskLaunch): TaskLaunch {
  const o = c.object(path, v, ['startLatency', 'healthCheck']);
  if (!o) return base;
  const startLatency = opt(o, 'startLatency', (x) => readStartLatency(c, [...path, 'startLatency'], x));
  let healthCheck: HealthCheck = base.healthCheck;
  const hc = opt(o, 'healthCheck', (x) =>
    c.object([...path, 'healthCheck'], x, ['interval', 'checksToHealthy']),
  );
  if (hc) {
    healthCheck = {
      intervalSeconds:
        opt(hc, 'interval', (x) => c.duration([...path, 'healthCheck', 'interval'], x, { min: 1 })) ??
        base.healthCheck.intervalSeconds,
      checksToHealthy:
        opt(hc, 'checksToHealthy', (x) => int(c, [...path, 'healthCheck', 'checksToHealthy'], x, 1)) ??
        base.healthCheck.checksToHealthy,
    };
  }
  return { startLatency: startLatency ?? base.startLatency, healthCheck };
}

function readAlarms(c: Checker, path: DocPath, v: unknown): AlarmBehaviour {
  const d = defaultAlarmBehaviour();
  const o = c.object(path, v, [
    'period',
    'scaleOutDatapoints',
    'scaleInDatapoints',
    'scaleInRatio',
    'metricLag',
  ]);
  if (!o) return d;
  return {
    periodSeconds: opt(o, 'period', (x) => c.duration([...path, 'period'], x, { min: 1 })) ?? d.periodSeconds,
    scaleOutDatapoints:
      opt(o, 'scaleOutDatapoints', (x) => int(c, [...path, 'scaleOutDatapoints'], x, 1)) ??
      d.scaleOutDatapoints,
    scaleInDatapoints:
      opt(o, 'scaleInDatapoints', (x) => int(c, [...path, 'scaleInDatapoints'], x, 1)) ?? d.scaleInDatapoints,
    scaleInRatio:
      opt(o, 'scaleInRatio', (x) => c.number([...path, 'scaleInRatio'], x, { exclusiveMin: 0, max: 1 })) ??
      d.scaleInRatio,
    metricLagSeconds: opt(o, 'metricLag', (x) => c.duration([...path, 'metricLag'], x)) ?? d.metricLagSeconds,
  };
}

function readTargetTracking(
  c: Checker,
  path: DocPath,
  o: Raw,
  name: string,
): TargetTrackingPolicy | undefined {
  c.object(path, o, [
    'name',
    'type',
    'metric',
    'resourceLabel',
    'targetValue',
    'scaleOutCooldown',
    'scaleInCooldown',
    'disableScaleIn',
    'alarms',
    'scaleInMaxStepPercent',
  ]);
  const metricRaw = c.required(path, o, 'metric', 'a predefined metric type');
  const metric =
    metricRaw === undefined
      ? undefined
      : c.oneOf(
          [...path, 'metric'],
          metricRaw,
          Object.keys(PREDEFINED_METRICS) as (keyof typeof PREDEFINED_METRICS)[],
        );
  const targetRaw = c.required(path, o, 'targetValue', 'the metric value to hold, e.g. 60');
  const targetValue =
    targetRaw === undefined ? undefined : c.number([...path, 'targetValue'], targetRaw, { exclusiveMin: 0 });
  if (metric === 'ECSServiceAverageCPUUtilization' || metric === 'ECSServiceAverageMemoryUtilization') {
    if (targetValue !== undefined && targetValue > 100)
      c.add([...path, 'targetValue'], `is ${targetValue}`, {
        expected: 'a percentage ≤ 100 for a utilisation metric',
      });
  }
  const policy: TargetTrackingPolicy = {
    type: 'TargetTrackingScaling',
    name,
    metric: metric ?? 'ECSServiceAverageCPUUtilization',
    targetValue: targetValue ?? 1,
    scaleOutCooldown:
      opt(o, 'scaleOutCooldown', (x) => c.duration([...path, 'scaleOutCooldown'], x)) ??
      SCALING_DEFAULTS.scaleOutCooldown.value,
    scaleInCooldown:
      opt(o, 'scaleInCooldown', (x) => c.duration([...path, 'scaleInCooldown'], x)) ??
      SCALING_DEFAULTS.scaleInCooldown.value,
    disableScaleIn: opt(o, 'disableScaleIn', (x) => c.boolean([...path, 'disableScaleIn'], x)) ?? false,
    alarms: o.alarms === undefined ? defaultAlarmBehaviour() : readAlarms(c, [...path, 'alarms'], o.alarms),
    scaleInMaxStepPercent:
      opt(o, 'scaleInMaxStepPercent', (x) =>
        c.number([...path, 'scaleInMaxStepPercent'], x, { exclusiveMin: 0, max: 100 }),
      ) ?? SCALING_DEFAULTS.scaleInMaxStepPercent.value,
  };
  const label = opt(o, 'resourceLabel', (x) => c.string([...path, 'resourceLabel'], x));
  if (label !== undefined) policy.resourceLabel = label;
  return metric && targetValue !== undefined ? policy : undefined;
}

function readSteps(c: Checker, path: DocPath, v: unknown): StepAdjustment[] {
  const arr = c.array(path, v);
  if (!arr) return [];
  if (arr.length === 0) c.add(path, 'is empty', { expected: 'at least one step adjustment' });
  const steps: StepAdjustment[] = [];
  arr.forEach((raw, i) => {
    const p = [...path, i];
    const o = c.object(p, raw, ['lowerBound', 'upperBound', 'scalingAdjustment']);
    if (!o) return;
    const adj = c.required(p, o, 'scalingAdjustment', 'a whole number of tasks (or percent)');
    const scalingAdjustment =
      adj === undefined ? undefined : c.number([...p, 'scalingAdjustment'], adj, { integer: true });
    const lowerBound = opt(o, 'lowerBound', (x) => c.number([...p, 'lowerBound'], x));
    const upperBound = opt(o, 'upperBound', (x) => c.number([...p, 'upperBound'], x));
    if (lowerBound === undefined && upperBound === undefined)
      c.add(p, 'has neither lowerBound nor upperBound', {
        expected: 'at least one bound',
        hint: 'bounds are relative to the alarm threshold',
      });
    if (lowerBound !== undefined && upperBound !== undefined && upperBound <= lowerBound)
      c.add([...p, 'upperBound'], `is not above lowerBound (${lowerBound})`, {
        expected: 'upperBound > lowerBound',
      });
    if (scalingAdjustment !== undefined) {
      const s: StepAdjustment = { scalingAdjustment };
      if (lowerBound !== undefined) s.lowerBound = lowerBound;
      if (upperBound !== undefined) s.upperBound = upperBound;
      steps.push(s);
    }
  });
  const sorted = [...steps].sort((a, b) => (a.lowerBound ?? -Infinity) - (b.lowerBound ?? -Infinity));
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1] as StepAdjustment;
    const cur = sorted[i] as StepAdjustment;
    if ((prev.upperBound ?? Infinity) > (cur.lowerBound ?? -Infinity))
      c.add(path, 'step adjustments overlap', {
        expected: 'non-overlapping ranges',
        hint: 'AWS rejects overlapping steps',
      });
  }
  return steps;
}

function readStepScaling(c: Checker, path: DocPath, o: Raw, name: string): StepScalingPolicy | undefined {
  c.object(path, o, [
    'name',
    'type',
    'adjustmentType',
    'minAdjustmentMagnitude',
    'cooldown',
    'metricAggregationType',
    'stepAdjustments',
    'alarm',
  ]);
  const at = c.required(
    path,
    o,
    'adjustmentType',
    'ChangeInCapacity, PercentChangeInCapacity or ExactCapacity',
  );
  const adjustmentType =
    at === undefined
      ? undefined
      : c.oneOf([...path, 'adjustmentType'], at, [
          'ChangeInCapacity',
          'PercentChangeInCapacity',
          'ExactCapacity',
        ] as const);
  const steps = c.required(
    path,
    o,
    'stepAdjustments',
    'a list of {lowerBound, upperBound, scalingAdjustment}',
  );
  const stepAdjustments = steps === undefined ? [] : readSteps(c, [...path, 'stepAdjustments'], steps);
  const alarmRaw = c.required(
    path,
    o,
    'alarm',
    'the CloudWatch alarm that triggers the policy (you own it with step scaling)',
  );
  const ap = [...path, 'alarm'];
  const a =
    alarmRaw === undefined
      ? undefined
      : c.object(ap, alarmRaw, [
          'metric',
          'comparison',
          'threshold',
          'period',
          'evaluationPeriods',
          'datapointsToAlarm',
          'metricLag',
        ]);
  let alarm: StepScalingPolicy['alarm'] | undefined;
  if (a) {
    const m = c.required(ap, a, 'metric', 'CPUUtilization, MemoryUtilization or RequestCountPerTarget');
    const metric =
      m === undefined
        ? undefined
        : c.oneOf([...ap, 'metric'], m, Object.keys(ALARM_METRICS) as (keyof typeof ALARM_METRICS)[]);
    const cmp = c.required(ap, a, 'comparison', COMPARISONS.join(', '));
    const comparison = cmp === undefined ? undefined : c.oneOf([...ap, 'comparison'], cmp, COMPARISONS);
    const th = c.required(ap, a, 'threshold', 'a number');
    const threshold = th === undefined ? undefined : c.number([...ap, 'threshold'], th);
    const evaluationPeriods =
      opt(a, 'evaluationPeriods', (x) => int(c, [...ap, 'evaluationPeriods'], x, 1)) ?? 1;
    const datapointsToAlarm =
      opt(a, 'datapointsToAlarm', (x) => int(c, [...ap, 'datapointsToAlarm'], x, 1)) ?? evaluationPeriods;
    if (datapointsToAlarm > evaluationPeriods)
      c.add([...ap, 'datapointsToAlarm'], `is ${datapointsToAlarm}`, {
        expected: `at most evaluationPeriods (${evaluationPeriods})`,
      });
    if (metric && comparison && threshold !== undefined) {
      alarm = {
        metric,
        comparison,
        threshold,
        periodSeconds: opt(a, 'period', (x) => c.duration([...ap, 'period'], x, { min: 10 })) ?? 60,
        evaluationPeriods,
        datapointsToAlarm,
        metricLagSeconds:
          opt(a, 'metricLag', (x) => c.duration([...ap, 'metricLag'], x)) ??
          SCALING_DEFAULTS.metricLagSeconds.value,
      };
    }
  }
  if (!adjustmentType || !alarm) return undefined;
  const policy: StepScalingPolicy = {
    type: 'StepScaling',
    name,
    adjustmentType,
    cooldown:
      opt(o, 'cooldown', (x) => c.duration([...path, 'cooldown'], x)) ?? SCALING_DEFAULTS.stepCooldown.value,
    metricAggregationType:
      opt(o, 'metricAggregationType', (x) =>
        c.oneOf([...path, 'metricAggregationType'], x, ['Average', 'Minimum', 'Maximum'] as const),
      ) ?? 'Average',
    stepAdjustments,
    alarm,
  };
  const mam = opt(o, 'minAdjustmentMagnitude', (x) => int(c, [...path, 'minAdjustmentMagnitude'], x, 1));
  if (mam !== undefined) {
    if (adjustmentType !== 'PercentChangeInCapacity')
      c.add([...path, 'minAdjustmentMagnitude'], 'only applies to PercentChangeInCapacity', {
        hint: 'remove it',
      });
    policy.minAdjustmentMagnitude = mam;
  }
  return policy;
}

const policyReaders = {
  TargetTrackingScaling: readTargetTracking,
  StepScaling: readStepScaling,
} satisfies Record<
  (typeof POLICY_TYPES)[number],
  (c: Checker, p: DocPath, o: Raw, name: string) => ScalingPolicy | undefined
>;

function readPolicies(c: Checker, path: DocPath, v: unknown): ScalingPolicy[] {
  const arr = c.array(path, v);
  if (!arr) return [];
  const out: ScalingPolicy[] = [];
  const seen = new Set<string>();
  arr.forEach((raw, i) => {
    const p = [...path, i];
    const o = c.object(p, raw);
    if (!o) return;
    const n = c.required(p, o, 'name', 'a policy name');
    const name = n === undefined ? undefined : c.string([...p, 'name'], n);
    if (name !== undefined) {
      if (!NAME.test(name))
        c.add([...p, 'name'], `"${name}" is not a valid name`, { expected: 'letters, digits, _ . -' });
      if (seen.has(name))
        c.add([...p, 'name'], `policy "${name}" is defined twice`, {
          hint: 'policy names are unique per service',
        });
      seen.add(name);
    }
    const t = c.required(p, o, 'type', POLICY_TYPES.join(' or '));
    const type = t === undefined ? undefined : c.oneOf([...p, 'type'], t, POLICY_TYPES);
    if (!type) return;
    const policy = policyReaders[type](c, p, o, name ?? `policy-${i}`);
    if (policy) out.push(policy);
  });
  return out;
}

function readScheduled(c: Checker, path: DocPath, v: unknown): ScheduledAction[] {
  const arr = c.array(path, v);
  if (!arr) return [];
  const out: ScheduledAction[] = [];
  const seen = new Set<string>();
  arr.forEach((raw, i) => {
    const p = [...path, i];
    const o = c.object(p, raw, ['name', 'at', 'minCapacity', 'maxCapacity']);
    if (!o) return;
    const n = c.required(p, o, 'name', 'an action name');
    const name = n === undefined ? undefined : c.string([...p, 'name'], n);
    if (name !== undefined && seen.has(name))
      c.add([...p, 'name'], `scheduled action "${name}" is defined twice`);
    if (name !== undefined) seen.add(name);
    const atRaw = c.required(p, o, 'at', 'the event time at which it applies, e.g. 55m');
    const at = atRaw === undefined ? undefined : c.duration([...p, 'at'], atRaw);
    const minCapacity = opt(o, 'minCapacity', (x) => int(c, [...p, 'minCapacity'], x));
    const maxCapacity = opt(o, 'maxCapacity', (x) => int(c, [...p, 'maxCapacity'], x));
    if (
      minCapacity === undefined &&
      maxCapacity === undefined &&
      o.minCapacity === undefined &&
      o.maxCapacity === undefined
    )
      c.add(p, 'sets neither minCapacity nor maxCapacity', { expected: 'at least one of them' });
    if (minCapacity !== undefined && maxCapacity !== undefined && minCapacity > maxCapacity)
      c.add([...p, 'minCapacity'], `is above maxCapacity (${maxCapacity})`, {
        expected: 'minCapacity ≤ maxCapacity',
      });
    if (name === undefined || at === undefined) return;
    const action: ScheduledAction = { name, at };
    if (minCapacity !== undefined) action.minCapacity = minCapacity;
    if (maxCapacity !== undefined) action.maxCapacity = maxCapacity;
    out.push(action);
  });
  return out;
}

function readService(
  c: Checker,
  path: DocPath,
  service: string,
  raw: Raw,
  cluster: string,
  defaults: Raw,
): ServiceScaling {
  const pick = (key: string): { value: unknown; path: DocPath } | undefined =>
    raw[key] !== undefined
      ? { value: raw[key], path: [...path, key] }
      : defaults[key] !== undefined
        ? { value: defaults[key], path: ['defaults', key] }
        : undefined;
  const num = (key: string) => {
    const x = pick(key);
    return x ? int(c, x.path, x.value) : undefined;
  };
  const minCapacity = num('minCapacity');
  const maxCapacity = num('maxCapacity');
  if (minCapacity === undefined && !pick('minCapacity'))
    c.add(path, 'missing required key "minCapacity"', { expected: 'a whole number of tasks' });
  if (maxCapacity === undefined && !pick('maxCapacity'))
    c.add(path, 'missing required key "maxCapacity"', { expected: 'a whole number of tasks' });
  const min = minCapacity ?? 1;
  const max = maxCapacity ?? Math.max(1, min);
  if (max < min)
    c.add([...path, 'maxCapacity'], `is below minCapacity (${min})`, {
      expected: 'maxCapacity ≥ minCapacity',
    });
  const initialDesired = num('initialDesired') ?? min;
  if (initialDesired < min || initialDesired > max)
    c.add([...path, 'initialDesired'], `is ${initialDesired}`, {
      expected: `between minCapacity (${min}) and maxCapacity (${max})`,
    });
  const baseLaunch: TaskLaunch = { startLatency: defaultStartLatency(), healthCheck: defaultHealthCheck() };
  const dl =
    defaults.launch === undefined
      ? baseLaunch
      : readLaunch(c, ['defaults', 'launch'], defaults.launch, baseLaunch);
  const launch = raw.launch === undefined ? dl : readLaunch(c, [...path, 'launch'], raw.launch, dl);
  const pol = pick('policies');
  const sch = pick('scheduledActions');
  return {
    service,
    resourceId: `service/${cluster}/${service}`,
    minCapacity: min,
    maxCapacity: max,
    initialDesired,
    policies: pol ? readPolicies(c, pol.path, pol.value) : [],
    scheduledActions: sch ? readScheduled(c, sch.path, sch.value) : [],
    launch,
  };
}

/** Validates a parsed scaling file. Pure apart from the source it is given. */
export function parseScaling(source: YamlSource): ScalingConfig {
  const c = createChecker(source, 'scaling-invalid', 'scaling file');
  const root = c.object([], source.data, ['version', 'cluster', 'defaults', 'services']);
  const services: Record<string, ServiceScaling> = {};
  let cluster = 'peakday';
  if (root) {
    if (root.version !== undefined) c.number(['version'], root.version, { min: 1, max: 1, integer: true });
    if (root.cluster !== undefined) cluster = c.string(['cluster'], root.cluster) ?? cluster;
    const defaults =
      root.defaults === undefined ? {} : (c.object(['defaults'], root.defaults, SERVICE_KEYS) ?? {});
    const s = c.required([], root, 'services', 'a mapping of service name to its scaling');
    const svc = s === undefined ? undefined : c.object(['services'], s);
    if (svc) {
      for (const [name, value] of Object.entries(svc)) {
        const p = ['services', name];
        if (!KNOWN_SERVICES.includes(name)) {
          const guess = didYouMean(name, KNOWN_SERVICES);
          c.add(p, `"${name}" is not a service of the reference stack`, {
            expected: `one of ${KNOWN_SERVICES.join(', ')}`,
            hint: guess
              ? `did you mean "${guess}"? (a misspelt service would silently run at a fixed count)`
              : 'remove it, or check reference-stack/topology.ts for the service names',
          });
        }
        const o = value === null ? {} : c.object(p, value, SERVICE_KEYS);
        if (o) services[name] = readService(c, p, name, o, cluster, defaults);
      }
    }
  }
  c.throwIfAny();
  return { file: source.file, cluster, services };
}

/** Loads a scaling file, or the default one shipped with the stack when none is given. */
export function loadScaling(file?: string): ScalingConfig {
  return parseScaling(readYamlSource(file ?? DEFAULT_SCALING_FILE, 'scaling-invalid'));
}

/**
 * The scaling of one service: its entry in the file, or, for a service the file does not list, a
 * fixed capacity of `fallbackTasks` with no policies (the service runs, it just does not scale).
 */
export function serviceScalingFor(config: ScalingConfig, service: string, fallbackTasks = 1): ServiceScaling {
  return (
    config.services[service] ?? {
      service,
      resourceId: `service/${config.cluster}/${service}`,
      minCapacity: fallbackTasks,
      maxCapacity: fallbackTasks,
      initialDesired: fallbackTasks,
      policies: [],
      scheduledActions: [],
      launch: { startLatency: defaultStartLatency(), healthCheck: defaultHealthCheck() },
    }
  );
}
