/**
 * Kubernetes manifests that play a plan's k6 script on the k6-operator (grafana/k6-operator,
 * `TestRun` in k6.io/v1alpha1; the CRD is vendored in infra/k8s/k6-operator/ with its source). The
 * operator starts `parallelism` runner pods, gives pod i `--execution-segment (i-1)/N:i/N` with the
 * equal sequence and the tag `instance_id=i`, starts them together (they wait paused until all are
 * ready), so the split is the one `peakday run --generators N` plays locally. Each runner writes k6's
 * NDJSON output and summary to its own folder (`subPathExpr: $(POD_NAME)`) of a results volume; the
 * tags `peakday_plan` (the plan's identity) and `peakday_segments` (N) in every point let
 * `peakday fleet gather` check the outputs belong to the plan and know each one's segment.
 * Pure: the caller writes the documents.
 */
import { stringify } from 'yaml';

/** The k6 image the runners use: the official image at the version peakday is tested with. */
export const K6_IMAGE = 'grafana/k6:1.3.0';

/** The k6 image's user and group id (its Dockerfile: `adduser -u 12345`), so it may write the volume. */
export const K6_IMAGE_UID = 12345;

/** A small image with a shell and `tar` for `kubectl cp` out of the results volume. */
export const GATHER_IMAGE = 'busybox:1.36';

/** Where a runner writes its outputs inside the pod. */
export const RESULTS_MOUNT = '/results';

/** Bytes of k6 NDJSON output per HTTP request (about 10 points of ~250 bytes): an assumption for sizing the volume. */
export const K6_NDJSON_BYTES_PER_REQUEST = 2500;

/** What the manifests need. */
export interface K6OperatorOptions {
  /** DNS-1123 name of the TestRun (ConfigMap and volume names derive from it). */
  name: string;
  parallelism: number;
  /** The exported script (exported for `parallelism` segments: VUs multiplied, see k6-export.ts). */
  script: string;
  baseUrl: string;
  profile: string;
  /** The plan's identity (engine/merge.ts planIdentity), tagged on every point. */
  planId: string;
  /** HTTP requests the whole plan sends (sizes the results volume). */
  requests: number;
  namespace?: string;
  /** Storage class of the results volume (ReadWriteMany); default: the cluster's default class. */
  storageClass?: string;
  /** Per-runner resources, e.g. `{cpu: '1', memory: '2Gi'}` (requests = limits). */
  resources?: { cpu: string; memory: string };
}

/** The manifests, by file name. */
export interface K6OperatorManifests {
  'configmap.yaml': string;
  'results-pvc.yaml': string;
  'testrun.yaml': string;
  'gather-pod.yaml': string;
}

/** Whether `name` is a DNS-1123 label a Job name can carry with its `-<i>` suffix (≤ 52 characters). */
export function isK8sName(name: string): boolean {
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) && name.length <= 52;
}

/** A DNS-1123 name from a profile name: lowercase, `-` for anything else, cut to fit. */
export function k8sNameFor(profile: string): string {
  const base = `peakday-${profile}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-');
  return base.slice(0, 52).replace(/^-+|-+$/g, '') || 'peakday';
}

/** The TestRun's object (before YAML): what the CRD validates. */
export function buildTestRun(o: K6OperatorOptions): Record<string, unknown> {
  const labels = {
    'app.kubernetes.io/managed-by': 'peakday',
    'peakday.dev/profile': k8sNameFor(o.profile)
      .replace(/^peakday-/, '')
      .slice(0, 63),
    'peakday.dev/plan': o.planId,
  };
  const args = [
    `--out json=${RESULTS_MOUNT}/k6-out.ndjson`,
    `--summary-export=${RESULTS_MOUNT}/k6-summary.json`,
    `--tag peakday_plan=${o.planId}`,
    `--tag peakday_segments=${o.parallelism}`,
  ].join(' ');
  return {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}), labels },
    spec: {
      parallelism: o.parallelism,
      script: { configMap: { name: `${o.name}-script`, file: 'script.js' } },
      arguments: args,
      runner: {
        image: K6_IMAGE,
        metadata: { labels },
        env: [
          { name: 'PEAKDAY_BASE_URL', value: o.baseUrl },
          { name: 'K6_NO_USAGE_REPORT', value: 'true' },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        ],
        securityContext: { fsGroup: K6_IMAGE_UID },
        volumes: [{ name: 'results', persistentVolumeClaim: { claimName: `${o.name}-results` } }],
        volumeMounts: [{ name: 'results', mountPath: RESULTS_MOUNT, subPathExpr: '$(POD_NAME)' }],
        ...(o.resources
          ? {
              resources: {
                requests: { cpu: o.resources.cpu, memory: o.resources.memory },
                limits: { cpu: o.resources.cpu, memory: o.resources.memory },
              },
            }
          : {}),
      },
    },
  };
}

/** The ConfigMap, results volume claim, TestRun and a pod to copy the results out with `kubectl cp`. */
export function buildK6OperatorManifests(o: K6OperatorOptions): K6OperatorManifests {
  const ns = o.namespace ? { namespace: o.namespace } : {};
  const labels = { 'app.kubernetes.io/managed-by': 'peakday', 'peakday.dev/plan': o.planId };
  const gib = Math.max(1, Math.ceil((o.requests * K6_NDJSON_BYTES_PER_REQUEST * 1.5) / 2 ** 30));
  const doc = (x: unknown) => stringify(x, { lineWidth: 0 });
  return {
    'configmap.yaml': doc({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${o.name}-script`, ...ns, labels },
      data: { 'script.js': o.script },
    }),
    'results-pvc.yaml': doc({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `${o.name}-results`, ...ns, labels },
      spec: {
        accessModes: ['ReadWriteMany'],
        ...(o.storageClass ? { storageClassName: o.storageClass } : {}),
        resources: { requests: { storage: `${gib}Gi` } },
      },
    }),
    'testrun.yaml': doc(buildTestRun(o)),
    'gather-pod.yaml': doc({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `${o.name}-gather`, ...ns, labels },
      spec: {
        restartPolicy: 'Never',
        securityContext: { runAsUser: K6_IMAGE_UID, fsGroup: K6_IMAGE_UID },
        containers: [
          {
            name: 'gather',
            image: GATHER_IMAGE,
            command: ['sleep', '3600'],
            volumeMounts: [{ name: 'results', mountPath: RESULTS_MOUNT, readOnly: true }],
          },
        ],
        volumes: [{ name: 'results', persistentVolumeClaim: { claimName: `${o.name}-results` } }],
      },
    }),
  };
}
