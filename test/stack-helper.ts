/**
 * Starts a whole topology of the reference stack inside the test process, without the orchestrator:
 * one replica per deployable, each a real HTTP server on 127.0.0.1 with an ephemeral port, each with
 * its own SQLite file in a temporary directory (headless) or one shared file (monolith). Tests then
 * talk HTTP to `url` (the gateway or the monolith) exactly as a load generator would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_PUBLISHERS, publishesEvents } from '../reference-stack/bus/routes.ts';
import { closeRpc } from '../reference-stack/services/rpc.ts';
import { type ServiceRuntime, startServiceRuntime } from '../reference-stack/services/runtime.ts';
import type { DynamoStoreConfig } from '../reference-stack/store/dynamodb.ts';
import {
  type Arch,
  DEFAULT_TASK_SIZES,
  type ServiceName,
  servicesOf,
  TOPOLOGIES,
  type Topology,
} from '../reference-stack/topology.ts';
import type {
  CapacityParams,
  DomainParams,
  StoreCapacityParams,
} from '../reference-stack/worker-protocol.ts';

/** A running in-process stack. */
export interface TestStack {
  arch: Arch;
  /** Base URL of the public API (gateway or monolith). */
  url: string;
  /** Base URL of the storefront's pages (the storefront service, or the monolith). */
  pagesUrl: string;
  dataDir: string;
  services: Partial<Record<ServiceName, ServiceRuntime>>;
  /** Flushes every outbox and waits until the bus has delivered everything (or `timeoutMs` passes). */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of a test stack; small catalog and no capacity emulation by default, for speed. */
export interface TestStackOptions {
  capacity?: CapacityParams;
  store?: StoreCapacityParams;
  domain?: DomainParams;
  /** Event clock (defaults: real time from event 0). */
  timeScale?: number;
  eventStart?: number;
  /** The edge cache told of price changes (reference-stack/edge/), if any. */
  edgeUrl?: string;
  /**
   * A CloudFront distribution in front, as the CDK stack configures it: the deployable that publishes
   * PriceChanged (pricing, the monolith) invalidates its pages at `endpoint` (the local AWS endpoint).
   */
  cloudFront?: { distributionId: string; endpoint: string };
  /** Run on the DynamoDB store adapter against these tables (e.g. dynalite's) instead of SQLite. */
  dynamodb?: DynamoStoreConfig;
  /**
   * Events as on AWS (headless): no local bus; every publishing service delivers its outbox with
   * PutEvents to `busName` at `endpoint`, every consuming service reads its SQS queue
   * (`queueUrls` by consumer module), as the CDK stack configures the tasks.
   */
  awsEvents?: {
    endpoint: string;
    region: string;
    busName: string;
    queueUrls: Partial<Record<string, string>>;
    waitSeconds?: number;
    retryBaseSeconds?: number;
  };
}

/** Starts every deployable of a topology. */
export async function startTestStack(arch: Arch, options: TestStackOptions = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), `peakday-stack-${arch}-`));
  const peers: Partial<Record<ServiceName, string>> = {};
  const services: Partial<Record<ServiceName, ServiceRuntime>> = {};
  const config = {
    arch,
    host: '127.0.0.1',
    port: 0,
    dataDir,
    peers,
    timeScale: options.timeScale ?? 1,
    eventStart: options.eventStart ?? 0,
    startedAtEpochMs: Date.now(),
    capacity: options.capacity ?? { disabled: true },
    store: options.store ?? { disabled: true },
    domain: { catalogProducts: 500, paymentMedianMs: 5, paymentSigma: 0.2, ...(options.domain ?? {}) },
    ...(options.edgeUrl ? { edgeUrl: options.edgeUrl } : {}),
    ...(options.dynamodb ? { dynamodb: options.dynamodb } : {}),
  };
  let busUrl: string | undefined;
  try {
    const aws = options.awsEvents;
    for (const service of servicesOf(arch)) {
      if (aws && service === 'bus') continue;
      const deployables: Topology['deployables'] = TOPOLOGIES[arch].deployables;
      const modules = deployables[service]?.modules ?? [];
      const queueUrl = aws && modules.map((m) => aws.queueUrls[m]).find((u) => u !== undefined);
      const rt = await startServiceRuntime({
        ...config,
        service,
        taskSize: DEFAULT_TASK_SIZES[service],
        busUrl,
        ...(options.cloudFront && modules.includes(EVENT_PUBLISHERS.PriceChanged)
          ? { cloudFront: options.cloudFront }
          : {}),
        ...(aws && publishesEvents(modules)
          ? { eventBus: { name: aws.busName, region: aws.region, endpoint: aws.endpoint } }
          : {}),
        ...(aws && queueUrl
          ? {
              eventQueue: {
                url: queueUrl,
                region: aws.region,
                endpoint: aws.endpoint,
                ...(aws.waitSeconds !== undefined ? { waitSeconds: aws.waitSeconds } : {}),
                ...(aws.retryBaseSeconds !== undefined ? { retryBaseSeconds: aws.retryBaseSeconds } : {}),
              },
            }
          : {}),
      });
      services[service] = rt;
      peers[service] = rt.url;
      if (service === 'bus') busUrl = rt.url;
    }
  } catch (e) {
    for (const rt of Object.values(services)) await rt.close().catch(() => {});
    throw e;
  }
  const entry = arch === 'monolith' ? services.monolith! : services.gateway!;
  const stack: TestStack = {
    arch,
    url: entry.url,
    pagesUrl: (arch === 'monolith' ? services.monolith! : services.storefront!).url,
    dataDir,
    services,
    async settle(timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        for (const rt of Object.values(services)) await rt.relay?.flush();
        const bus = services.bus?.bus;
        if (bus) await bus.deliverDue();
        const pending = bus?.pendingCount() ?? 0;
        if (pending === 0 || Date.now() > end) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      for (const service of [...servicesOf(arch)].reverse()) await services[service]?.close().catch(() => {});
      await closeRpc();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return stack;
}
