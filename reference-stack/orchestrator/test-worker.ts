/**
 * A minimal replica implementing the worker protocol (reference-stack/worker-protocol.ts), used by the
 * orchestrator's own tests so that they exercise processes, load balancing, scaling and telemetry
 * without the commerce domain. GET /health answers like a real worker; any other path echoes which
 * replica served it; `?status=503` makes it answer that status and `?delayMs=N` makes it wait N ms.
 * It reports fixed per-request emulated CPU (10 ms per request) so CPU metrics are predictable.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseWorkerConfig, WORKER_ENV, type WorkerStats, type WorkerToParent } from '../worker-protocol.ts';

const config = parseWorkerConfig(process.env[WORKER_ENV]);
const replica = config.replica ?? 0;
let seq = 0;
let periodStart = Date.now();
let requests = 0;
let s5xx = 0;
let s2xx = 0;
let inFlight = 0;
let draining = false;

const send = (m: WorkerToParent) => process.send?.(m);

function stats(): WorkerStats {
  const end = Date.now();
  const span = Math.max(1, end - periodStart);
  const busy = requests * 10;
  const m: WorkerStats = {
    type: 'stats',
    service: config.service,
    replica,
    pid: process.pid,
    seq: ++seq,
    periodStartMs: periodStart,
    periodEndMs: end,
    requests,
    status2xx: s2xx,
    status3xx: 0,
    status4xx: 0,
    status5xx: s5xx,
    rejected: 0,
    busyCpuMs: busy,
    vcpu: config.taskSize.vcpu,
    cpuUtilization: (busy / (config.taskSize.vcpu * span)) * 100,
    memoryUtilization: 10,
    queueLength: 0,
    queuePeak: 0,
    inFlight,
    latencySumMs: 0,
    latencyMaxMs: 0,
    store: {
      [`${config.service}-items`]: {
        consumedReadUnits: requests,
        consumedWriteUnits: 0,
        throttledReads: 0,
        throttledWrites: 0,
        hotPartitionThrottles: 0,
      },
    },
    eventsPublished: 0,
    eventsConsumed: 0,
    eventsDuplicate: 0,
  };
  periodStart = end;
  requests = 0;
  s2xx = 0;
  s5xx = 0;
  return m;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', service: config.service, arch: config.arch }));
    return;
  }
  requests++;
  inFlight++;
  const status = Number(url.searchParams.get('status') ?? 200);
  const delay = Number(url.searchParams.get('delayMs') ?? 0);
  setTimeout(() => {
    inFlight--;
    if (status >= 500) s5xx++;
    else s2xx++;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ service: config.service, replica, pid: process.pid, path: url.pathname }));
  }, delay);
});

server.listen(config.port, config.host, () => {
  send({
    type: 'ready',
    service: config.service,
    replica,
    pid: process.pid,
    port: (server.address() as AddressInfo).port,
  });
});

process.on('message', (m: { type?: string }) => {
  if (m?.type === 'flush') send(stats());
  if (m?.type === 'drain' && !draining) {
    draining = true;
    server.close(() => {
      send(stats());
      process.exit(0);
    });
    server.closeIdleConnections();
  }
});
