/**
 * One replica of one deployable, fully wired: database, domain modules, ports (in-process or HTTP),
 * public API (entry deployable), event relay or bus, periodic sweeps, the emulated Fargate CPU and the
 * HTTP server. `worker.ts` runs one in its own process for the orchestrator; `test/stack-helper.ts`
 * runs several in the test process. Both go through `startServiceRuntime`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng } from '../../core/rng.ts';
import { type Catalog, createCatalog } from '../../scenarios/catalog.ts';
import { type Bus, createBus } from '../bus/bus.ts';
import type { EventBridgePublisher } from '../bus/eventbridge.ts';
import { publishesEvents } from '../bus/routes.ts';
import type { SqsConsumer } from '../bus/sqs-consumer.ts';
import { DEMAND_TABLE } from '../capacity/demand-table.ts';
import { type CapacityEmulator, createCapacityEmulator } from '../capacity/emulator.ts';
import { resolveCapacityParams } from '../capacity/params.ts';
import type { CloudFrontPurger } from '../cloudfront-purge.ts';
import {
  createDomainContext,
  type DomainContext,
  type DomainEvent,
  type EventType,
  SUBSCRIPTIONS,
} from '../domain/context.ts';
import { DomainError, isDomainError } from '../domain/errors.ts';
import { type Api, createApi } from '../gateway/api.ts';
import { executeGraphql, graphqlEntryDemand, prepareGraphql } from '../gateway/graphql.ts';
import { matchRoute, type PublicRequest, type PublicResponse } from '../gateway/rest.ts';
import type { DynamoStore } from '../store/dynamodb.ts';
import { type Db, databaseFile, openDatabase } from '../store/sqlite.ts';
import { createBffClient } from '../storefront/bff-client.ts';
import { errorPage } from '../storefront/html.ts';
import { createStorefront, matchPage, type Storefront, type StorefrontData } from '../storefront/pages.ts';
import {
  METHODS,
  type MethodName,
  type ModuleName,
  methodServerDemand,
  scaledDemand,
  TOPOLOGIES,
} from '../topology.ts';
import type { WorkerConfig, WorkerStats } from '../worker-protocol.ts';
import {
  consumeEvent,
  createHostedModules,
  type HostedModules,
  migrateHostedDynamo,
  runSweeps,
} from './modules.ts';
import { createOutboxRelay, dynamoOutbox, type OutboxRelay, sqliteOutbox } from './outbox.ts';
import { createRemotePorts } from './rpc.ts';

/** Largest request body accepted, bytes (assumption: commerce API bodies are < 10 KB). */
export const MAX_BODY_BYTES = 64 * 1024;

/** How often a relay polls a DynamoDB outbox for events it was not kicked for, wall ms. */
export const DYNAMO_OUTBOX_POLL_MS = 2000;

/** How the contract names the architectures in /health. */
export const CONTRACT_ARCH = { monolith: 'monolith', headless: 'microservices' } as const;

/** A running replica. */
export interface ServiceRuntime {
  port: number;
  url: string;
  /** Ends the stats period. */
  takeStats(): Omit<WorkerStats, 'type' | 'seq' | 'pid'>;
  setClock(timeScale: number, eventStart: number, startedAtEpochMs?: number): void;
  setReplicas(n: number): void;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
  /** Test hook: the domain context and modules. */
  readonly ctx: DomainContext | undefined;
  readonly modules: HostedModules;
  readonly bus: Bus | undefined;
  readonly relay: OutboxRelay | undefined;
  /** The SQS consumer of this service's event queue (on AWS), if any. */
  readonly queueConsumer: SqsConsumer | undefined;
}

let catalogCache: { key: string; catalog: Catalog } | undefined;
function catalogFor(seed: number, products: number): Catalog {
  const key = `${seed}/${products}`;
  if (catalogCache?.key !== key) catalogCache = { key, catalog: createCatalog({ seed, products }) };
  return catalogCache.catalog;
}

interface Counters {
  requests: number;
  s2: number;
  s3: number;
  s4: number;
  s5: number;
  latencySum: number;
  latencyMax: number;
  inFlight: number;
  eventsConsumed: number;
  eventsDuplicate: number;
}

/** Starts one replica. */
export async function startServiceRuntime(config: WorkerConfig): Promise<ServiceRuntime> {
  const { arch, service } = config;
  const topology = TOPOLOGIES[arch];
  const spec = (topology.deployables as Partial<Record<string, { modules: readonly ModuleName[] }>>)[service];
  if (!spec) throw new Error(`service ${service} is not part of the ${arch} topology`);
  const isEntry = topology.entry === service;
  const cap = resolveCapacityParams(config.capacity, config.taskSize.vcpu);
  const demandScale = cap.demandMultiplier;
  const emulator: CapacityEmulator | undefined = cap.disabled
    ? undefined
    : createCapacityEmulator({
        vcpu: config.taskSize.vcpu,
        queueLimit: cap.queueLimit,
        overheadPct: cap.taskOverheadCpuPct,
        now: () => performance.now(),
        schedule: (ms, fn) => {
          setTimeout(fn, ms);
        },
      });
  let clock = {
    timeScale: config.timeScale,
    eventStart: config.eventStart,
    t0: config.startedAtEpochMs ?? Date.now(),
  };
  const domainClock = {
    eventNow: () => clock.eventStart + ((Date.now() - clock.t0) / 1000) * clock.timeScale,
    wallMs: () => Date.now(),
  };
  const label = `${service}#${config.replica ?? 0}@${process.pid}`;

  // Storage, modules and events.
  let db: Db | undefined;
  let dynamo: DynamoStore | undefined;
  let ctx: DomainContext | undefined;
  let modules: HostedModules = {};
  let api: Api | undefined;
  let relay: OutboxRelay | undefined;
  let bus: Bus | undefined;
  let publisher: EventBridgePublisher | undefined;
  let queueConsumer: SqsConsumer | undefined;
  let purger: CloudFrontPurger | undefined;
  const remote = createRemotePorts(config.peers);
  if (service === 'bus') {
    db = openDatabase(databaseFile(config.dataDir, 'bus'));
    bus = createBus(
      db,
      config.peers,
      config.domain?.busDuplicateRate ?? 0.01,
      createRng(config.domain?.paymentSeed ?? 1).fork('bus'),
    );
    bus.start();
  } else if (spec.modules.length > 0) {
    db = openDatabase(databaseFile(config.dataDir, service));
    if (config.dynamodb) {
      // Loaded only here: a stack on SQLite never loads the AWS SDK.
      const { openDynamoStore } = await import('../store/dynamodb.ts');
      dynamo = await openDynamoStore(config.dynamodb);
    }
    const ctxLocal = createDomainContext({
      db,
      ...(dynamo ? { dynamo } : {}),
      clock: domainClock,
      catalog: () => catalogFor(config.domain?.catalogSeed ?? 1, config.domain?.catalogProducts ?? 10_000),
      params: config.domain,
      store: config.store,
      replicas: config.replicas,
      onEventsWritten: () => relay?.kick(),
    });
    ctx = ctxLocal;
    await migrateHostedDynamo(ctxLocal, spec.modules);
    const built = createHostedModules(ctxLocal, spec.modules, remote, { replicaLabel: label });
    modules = built.modules;
    if (isEntry) api = createApi(built.ports);
    const rng = createRng(ctxLocal.params.paymentSeed).fork(label);
    if (config.eventBus) {
      // On AWS: the outbox goes to EventBridge; its rules put each event in its consumers' queues.
      const { createEventBridgePublisher } = await import('../bus/eventbridge.ts');
      publisher = await createEventBridgePublisher({
        busName: config.eventBus.name,
        region: config.eventBus.region,
        ...(config.eventBus.endpoint ? { endpoint: config.eventBus.endpoint } : {}),
      });
    }
    const eventBridge = publisher;
    const deliver = eventBridge
      ? (events: DomainEvent[]) => eventBridge.publish(events)
      : arch === 'headless'
        ? async (events: DomainEvent[]) => {
            if (!config.busUrl) throw new Error('no bus URL');
            const { request } = await import('undici');
            const res = await request(`${config.busUrl}/publish`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ events }),
            });
            await res.body.dump();
            if (res.statusCode >= 300) throw new Error(`bus answered ${res.statusCode}`);
          }
        : async (events: DomainEvent[]) => {
            for (const e of events) {
              const consumers = SUBSCRIPTIONS[e.type] ?? [];
              const times = rng.next() < ctxLocal.params.busDuplicateRate ? 2 : 1;
              for (let i = 0; i < times; i++) {
                const admitted =
                  (await emulator?.run(
                    scaledDemand(DEMAND_TABLE.eventConsumeCpuMs) * consumers.length * demandScale,
                  )) ?? true;
                // A full queue sheds event work too; the relay retries it later (at least once).
                if (!admitted) throw new Error('overloaded: event delivery deferred');
                countConsumed(await consumeEvent(modules, consumers, e));
              }
            }
          };
    // On AWS with a distribution in front: the deployable publishing PriceChanged invalidates the
    // pages of each price change it delivered (cloudfront-purge.ts; the SDK loaded only here).
    if (config.cloudFront) {
      const { createCloudFrontPurger } = await import('../cloudfront-purge.ts');
      purger = await createCloudFrontPurger({
        distributionId: config.cloudFront.distributionId,
        ...(config.cloudFront.endpoint ? { endpoint: config.cloudFront.endpoint } : {}),
        productOfSku: (sku) => ctxLocal.catalog().bySku.get(sku),
      });
    }
    const cloudFront = purger;
    // The monolith tells the edge of price changes itself (as it would call CloudFront's invalidation).
    // On DynamoDB only a deployable that publishes runs a relay: the others have no outbox, and on
    // AWS no grant on the events table. A failed purge fails the delivery: the relay retries it.
    if (!dynamo || publishesEvents(spec.modules))
      relay = createOutboxRelay(
        dynamo ? dynamoOutbox(dynamo) : sqliteOutbox(db),
        arch === 'monolith' || cloudFront
          ? async (events) => {
              await deliver(events);
              if (arch === 'monolith') await notifyEdge(config.edgeUrl, events);
              await cloudFront?.purge(events);
            }
          : deliver,
        // Writers kick their relay; the poll only catches what another task left undelivered. On
        // DynamoDB each poll is 8 queries (the outbox shards), billed on AWS: every 2 s, not 4 times a second.
        dynamo ? DYNAMO_OUTBOX_POLL_MS : undefined,
      );
    if (config.eventQueue) {
      // On AWS: the events for this service's consumers arrive in its SQS queue.
      const { startSqsConsumer } = await import('../bus/sqs-consumer.ts');
      const hosted = built.modules;
      const { url, ...queue } = config.eventQueue;
      queueConsumer = await startSqsConsumer({
        ...queue,
        queueUrl: url,
        handle: async (e) => {
          const consumers = (SUBSCRIPTIONS[e.type] ?? []).filter((c) => hosted[c] !== undefined);
          countConsumed(await consumeEvent(hosted, consumers, e));
        },
      });
    }
  } else if (isEntry) {
    api = createApi(remote as Parameters<typeof createApi>[0]);
  }
  // The storefront's pages: rendered from the in-process use cases in the monolith, from the
  // gateway/BFF over HTTP in the headless storefront service.
  const pageData: StorefrontData | undefined =
    topology.pages !== service ? undefined : (api ?? createBffClient(() => config.peers.gateway));
  const storefront = pageData ? createStorefront(pageData) : undefined;

  const counters: Counters = {
    requests: 0,
    s2: 0,
    s3: 0,
    s4: 0,
    s5: 0,
    latencySum: 0,
    latencyMax: 0,
    inFlight: 0,
    eventsConsumed: 0,
    eventsDuplicate: 0,
  };
  function countConsumed(r: { applied: number; duplicate: number }) {
    counters.eventsConsumed += r.applied;
    counters.eventsDuplicate += r.duplicate;
  }

  // One sweep at a time: a slow store must not pile sweeps up.
  let sweeping: Promise<void> | undefined;
  const sweepTimer = setInterval(() => {
    if (sweeping) return;
    sweeping = runSweeps(modules)
      .then(
        () => {},
        () => {
          // A sweep that loses a race or is throttled runs again next time.
        },
      )
      .finally(() => {
        sweeping = undefined;
      });
  }, 1000);
  sweepTimer.unref();

  /** Holds a vCPU for `demand`; throws a 503 `overloaded` when the queue is full. */
  const hold = async (demand: number) => {
    if (!emulator || demand <= 0) return;
    if (!(await emulator.run(demand * demandScale))) {
      throw new DomainError(
        503,
        'overloaded',
        `${service} is at capacity: every vCPU busy and the queue full`,
        undefined,
        cap.retryAfterSeconds,
      );
    }
  };

  const handlePublic = async (req: PublicRequest): Promise<PublicResponse> => {
    if (!api) throw new DomainError(404, 'not-found', `no route ${req.method} ${req.path}`);
    if (req.path === '/graphql') {
      if (req.method !== 'POST')
        throw new DomainError(405, 'method-not-allowed', `${req.method} is not allowed on /graphql`);
      const prepared = prepareGraphql(req.body);
      if ('status' in prepared) {
        await hold(scaledDemand(DEMAND_TABLE.gatewayCpuMs.graphql));
        return prepared;
      }
      await hold(graphqlEntryDemand(arch, prepared.rootFields));
      return executeGraphql(api, prepared);
    }
    const m = matchRoute(req.method, req.path);
    if (!m) throw new DomainError(404, 'not-found', `no route ${req.method} ${req.path}`);
    await hold(topology.operations[m.route.operation].demandCpuMs[topology.entry] ?? 0);
    return m.route.handle(api, req, m.params);
  };

  const handleRpc = async (method: string, args: unknown): Promise<PublicResponse> => {
    const spec_ = (METHODS as Record<string, { module: ModuleName }>)[method];
    const module = spec_?.module;
    const impl = module ? (modules[module] as Record<string, unknown> | undefined) : undefined;
    const name = method.split('.')[1] ?? '';
    const fn = impl?.[name];
    if (typeof fn !== 'function') throw new DomainError(404, 'not-found', `no method ${method} here`);
    await hold(methodServerDemand(method as MethodName));
    const result = await (fn as (a: unknown) => unknown)(args ?? {});
    return { status: 200, body: { result: result ?? null } };
  };

  const handleEvents = async (body: unknown): Promise<PublicResponse> => {
    const events = (body as { events?: DomainEvent[] } | undefined)?.events;
    if (!Array.isArray(events)) throw new DomainError(400, 'bad-request', 'expected {events: [...]}');
    let applied = 0;
    let duplicate = 0;
    for (const e of events) {
      const consumers = (SUBSCRIPTIONS[e.type as EventType] ?? []).filter((c) => modules[c] !== undefined);
      await hold(
        scaledDemand(DEMAND_TABLE.eventConsumeCpuMs + DEMAND_TABLE.hopServerCpuMs) * consumers.length,
      );
      const r = await consumeEvent(modules, consumers, e);
      applied += r.applied;
      duplicate += r.duplicate;
    }
    countConsumed({ applied, duplicate });
    return { status: 200, body: { applied, duplicate } };
  };

  /** A page: its route's demand on this deployable (render, and in the monolith the use cases), then the render. */
  const handlePage = async (
    req: PublicRequest,
    match: NonNullable<ReturnType<typeof matchPage>>,
  ): Promise<PublicResponse> => {
    try {
      await hold(topology.operations[match.page].demandCpuMs[service] ?? 0);
    } catch (e) {
      if (!isDomainError(e)) throw e;
      return {
        status: e.status,
        body: undefined,
        text: errorPage(e.status, 'We are busy, try again in a moment.'),
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          ...(e.retryAfter !== undefined ? { 'retry-after': String(e.retryAfter) } : {}),
        },
      };
    }
    const page = await (storefront as Storefront).render(match, req);
    return { status: page.status, body: undefined, text: page.text, headers: page.headers };
  };

  const route = async (req: PublicRequest): Promise<PublicResponse> => {
    const page = pageData ? matchPage(req.method, req.path) : null;
    if (page) return handlePage(req, page);
    if (req.path === '/health' && req.method === 'GET') {
      return { status: 200, body: { status: 'ok', service, arch: CONTRACT_ARCH[arch] } };
    }
    if (req.path.startsWith('/rpc/') && req.method === 'POST') return handleRpc(req.path.slice(5), req.body);
    if (req.path === '/internal/events' && req.method === 'POST') return handleEvents(req.body);
    if (bus && req.path === '/publish' && req.method === 'POST') {
      const events = (req.body as { events?: DomainEvent[] } | undefined)?.events;
      if (!Array.isArray(events)) throw new DomainError(400, 'bad-request', 'expected {events: [...]}');
      await hold(scaledDemand(DEMAND_TABLE.hopServerCpuMs));
      const accepted = bus.publish(events);
      // The edge subscribes to price changes: told before the publisher's answer, so a failure makes the
      // publisher retry (the bus keeps each event once, by id).
      await notifyEdge(config.edgeUrl, events).catch((e: unknown) => {
        throw new DomainError(503, 'edge-unavailable', (e as Error).message, undefined, 1);
      });
      return { status: 202, body: { accepted } };
    }
    if (bus && req.path === '/internal/bus' && req.method === 'GET')
      return { status: 200, body: { pending: bus.pendingCount() } };
    return handlePublic(req);
  };

  let draining = false;
  const server: Server = createServer((req, res) => void serve(req, res));
  server.keepAliveTimeout = 65_000;

  async function serve(req: IncomingMessage, res: ServerResponse) {
    const t0 = performance.now();
    counters.inFlight++;
    let status = 500;
    let payload: unknown;
    let text: string | undefined;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    try {
      if (draining) throw new DomainError(503, 'draining', `${service} is shutting down`, undefined, 1);
      const url = new URL(req.url ?? '/', 'http://localhost');
      const body = await readBody(req);
      const r = await route({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      status = r.status;
      payload = r.body;
      if (r.text !== undefined) text = r.text;
      if (r.headers) Object.assign(headers, r.headers);
    } catch (e) {
      if (isDomainError(e)) {
        status = e.status;
        payload = e.toBody();
        if (e.retryAfter !== undefined) headers['retry-after'] = String(e.retryAfter);
      } else {
        status = 500;
        payload = { error: { code: 'internal', message: 'internal error' } };
        process.stderr.write(`[${label}] ${(e as Error).stack ?? String(e)}\n`);
      }
    }
    text ??= JSON.stringify(payload);
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(status, headers);
    res.end(text);
    counters.inFlight--;
    counters.requests++;
    if (status < 300) counters.s2++;
    else if (status < 400) counters.s3++;
    else if (status < 500) counters.s4++;
    else counters.s5++;
    const ms = performance.now() - t0;
    counters.latencySum += ms;
    if (ms > counters.latencyMax) counters.latencyMax = ms;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let periodStart = Date.now();

  return {
    port,
    url: `http://${config.host ?? '127.0.0.1'}:${port}`,
    ctx,
    modules,
    bus,
    relay,
    get queueConsumer() {
      return queueConsumer;
    },
    takeStats() {
      const e = emulator?.takePeriod();
      const now = Date.now();
      const memMb = resolveCapacityParams(config.capacity, config.taskSize.vcpu);
      const memoryUtilization = Math.min(
        100,
        ((memMb.taskBaseMemoryMb + counters.inFlight * memMb.requestMemoryMb) /
          (config.taskSize.memoryGb * 1024)) *
          100,
      );
      const busStats = bus?.takeStats();
      const out = {
        service,
        replica: config.replica ?? 0,
        periodStartMs: periodStart,
        periodEndMs: now,
        requests: counters.requests,
        status2xx: counters.s2,
        status3xx: counters.s3,
        status4xx: counters.s4,
        status5xx: counters.s5,
        rejected: e?.rejected ?? 0,
        busyCpuMs: e?.busyCpuMs ?? 0,
        vcpu: config.taskSize.vcpu,
        cpuUtilization: e?.cpuUtilization ?? 0,
        memoryUtilization,
        queueLength: e?.queueLength ?? 0,
        queuePeak: e?.queuePeak ?? 0,
        inFlight: counters.inFlight,
        latencySumMs: counters.latencySum,
        latencyMaxMs: counters.latencyMax,
        store: ctx?.capacity.takeStats() ?? {},
        eventsPublished: (relay?.takePublished() ?? 0) + (busStats?.published ?? 0),
        eventsConsumed: counters.eventsConsumed + (busStats?.delivered ?? 0),
        eventsDuplicate: counters.eventsDuplicate + (busStats?.duplicates ?? 0),
        ...(e ? { emulation: e.fidelity } : {}),
      };
      periodStart = now;
      Object.assign(counters, {
        requests: 0,
        s2: 0,
        s3: 0,
        s4: 0,
        s5: 0,
        latencySum: 0,
        latencyMax: 0,
        eventsConsumed: 0,
        eventsDuplicate: 0,
      });
      return out;
    },
    setClock(timeScale, eventStart, startedAtEpochMs) {
      clock = { timeScale, eventStart, t0: startedAtEpochMs ?? Date.now() };
    },
    setReplicas(n) {
      ctx?.capacity.setReplicas(n);
    },
    async close() {
      draining = true;
      clearInterval(sweepTimer);
      bus?.stop();
      const grace = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
      // Deliver what is in the outbox, but never hang shutdown on an unreachable bus.
      await Promise.race([relay?.flush(), grace(2000)]);
      relay?.stop();
      await queueConsumer?.stop();
      publisher?.close();
      purger?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running after the grace period lose their connection.
        grace(3000).then(() => server.closeAllConnections());
      });
      await sweeping;
      db?.close();
      dynamo?.close();
    },
  };
}

/**
 * Tells the stack's edge cache of the price changes among `events` (POST /internal/events, the bus's
 * delivery format), so it purges the pages that show those prices. Throws when the edge does not
 * confirm, so the caller's delivery is retried (at least once). No edge, no price change: nothing.
 */
async function notifyEdge(edgeUrl: string | undefined, events: readonly DomainEvent[]): Promise<void> {
  const changes = events.filter((e) => e.type === 'PriceChanged');
  if (!edgeUrl || changes.length === 0) return;
  const { request } = await import('undici');
  const res = await request(`${edgeUrl}/internal/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ events: changes }),
  });
  await res.body.dump();
  if (res.statusCode >= 300) throw new Error(`the edge answered ${res.statusCode} to a price change`);
}

/** Reads a JSON body with a size limit: 413 when too large, 415 for multipart, 400 when malformed. */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw new DomainError(413, 'payload-too-large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new DomainError(413, 'payload-too-large', `the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return undefined;
  const type = String(req.headers['content-type'] ?? 'application/json');
  // Lenient like most JSON APIs: any type is parsed as JSON except multipart uploads.
  if (/^multipart\//i.test(type)) {
    throw new DomainError(
      415,
      'unsupported-media-type',
      `send JSON with content-type application/json, not ${type}`,
    );
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (e) {
    throw new DomainError(400, 'malformed-json', `the body is not valid JSON: ${(e as Error).message}`);
  }
}
