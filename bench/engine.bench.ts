/**
 * `npm run bench:engine`: the embedded engine against its peers on one machine (issue 3, Performance).
 *
 * Target: nginx from Debian on 127.0.0.1 with ONE worker, serving a small JSON body, counting
 * arrivals itself (stub_status), started here with its own config. The benchmark finds nginx, wrk
 * and autocannon (devDependency) and, when nginx or wrk is missing, runs `scripts/setup.sh --bench`
 * to install them (and says so).
 *
 * Measurements, printed as figures and ratios:
 *  0. The engine's own CPU per request without a network: the same engine and request path with an
 *     in-process client (the `createClient` seam) answering every request in the next check phase,
 *     closed loop (50 VUs) and open model (5,000 and 20,000/s). What the engine adds to undici's cost.
 *  1. HTTP client: undici Pool.request vs Client.request vs Pool.dispatch vs Client.dispatch with one
 *     Client per connection vs the engine's client (engine/http-client.ts), 50 in flight, closed loop,
 *     req/s and CPU per request, after an uncounted warm-up second each.
 *  1b. The whole engine, closed loop and open model at 20,000/s, on the previous Pool.dispatch client
 *     and on today's client.
 *     PEAKDAY_BENCH_ONLY=client runs 1 and 1b alone, PEAKDAY_BENCH_ROUNDS=N interleaves N rounds (order
 *     rotated), PEAKDAY_BENCH_CLIENT_SECONDS sets the length, PEAKDAY_BENCH_VARIANTS=a,b filters section 1.
 *  2. Closed-loop maximum, 50 connections, 8 s: wrk, autocannon, peakday (closed-loop mode of the
 *     engine: the same journey/request path as every run). Bars: ≥ 1.0x autocannon, aim ≥ 0.5x wrk.
 *  3. Open model, 20,000 single-GET iterations/s for 20 s, concurrency cap 400 (k6's maxVUs in the
 *     issue's comparison): server-counted arrivals vs plan (bar: within 0.5%), dropped (< 0.5%),
 *     scheduler lag p99 (< 5 ms). PEAKDAY_BENCH_RATE overrides the rate (stretch: 30000).
 *  5. Every built-in profile at 20,000 peak requests/s for 10 s (PEAKDAY_BENCH_ONLY=profiles alone):
 *     dropped, nginx's count against the engine's, scheduler lag, validity.
 *  6. Through the CLI (first, and alone with PEAKDAY_BENCH_ONLY=cli): `peakday run` on 1 worker and
 *     N, k6 (K6_BIN), autocannon -R and wrk, counted at nginx, CPU and RSS per tool (bench/cli-section.ts).
 *  4. Memory through the CLI (PEAKDAY_BENCH_ONLY=memory alone): RSS through `peakday run` at 5,000/s
 *     on 1 worker and on N (bench/cli-section.ts memorySection). Default 60 s
 *     (PEAKDAY_BENCH_MEMORY_SECONDS); PEAKDAY_BENCH_MEMORY=1 runs the issue's 5 minutes (bar: < 250 MB
 *     per worker, flat after the first minute).
 *
 * Absolute figures depend on the host: on a shared or loaded machine they drop for every tool alike;
 * the ratios are what compares. Each figure says which tool and how it was counted. Beside req/s,
 * every tool's CPU time per request is printed (peakday: process.cpuUsage around the run; wrk and
 * autocannon: the children's user+system time from /proc/self/stat, 10 ms ticks), which tells the
 * truth better than req/s on a shared host.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Client, Pool } from 'undici';
import { readRun } from '../core/run-directory.ts';
import type { EngineHealthRecord } from '../core/run-format.ts';
import { type SchedulerMode, startEngine } from '../engine/engine.ts';
import {
  classifyError,
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type HttpOutcome,
} from '../engine/http-client.ts';
import { runBuiltin } from '../engine/run.ts';
import { createTestPlan, getJourney } from '../engine/test-support.ts';
import { cliSection, memorySection } from './cli-section.ts';

// As bin/peakday.js does for every CLI run: no idle-time compaction of the loader thread mid-run.
setFlagsFromString('--no-memory-reducer');

const PORT = Number(process.env.PEAKDAY_BENCH_PORT ?? 18199);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const BODY = '{"id":"p-000001","name":"bench","price":{"amount":19.99,"currency":"USD"}}';

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return null;
}

function ensureTools(): { nginx: string; wrk: string | null } {
  let nginx = which('nginx');
  let wrk = which('wrk');
  if (!nginx || !wrk) {
    console.log('bench: nginx or wrk missing; installing with scripts/setup.sh --bench (Debian packages)');
    spawnSync('bash', ['scripts/setup.sh', '--bench'], { stdio: 'inherit' });
    nginx = which('nginx');
    wrk = which('wrk');
  }
  if (!nginx) throw new Error('nginx is required (apt-get install nginx, or scripts/setup.sh --bench)');
  console.log(`bench: nginx ${nginx}${wrk ? `, wrk ${wrk}` : ', wrk not available (skipped)'}`);
  return { nginx, wrk };
}

/**
 * CPU seconds nginx's processes (the master and its worker) have used so far, from /proc (clock
 * ticks of 10 ms); NaN where /proc cannot tell. The CLI section prints nginx's share of the cores
 * beside each tool's, since on a 2-core host nginx and the load generator share them.
 */
function processTreeCpuSeconds(pid: number): number {
  const ticks = (p: number | string): number => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  };
  try {
    let total = ticks(pid);
    for (const c of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/))
      if (c) total += ticks(c);
    return total / 100;
  } catch {
    return Number.NaN;
  }
}

async function startNginx(nginx: string): Promise<{ stop: () => void; cpuSeconds: () => number }> {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-bench-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 120s;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${PORT} backlog=4096;
    location = /nginx_status { stub_status; }
    location / { default_type application/json; return 200 '${BODY}'; }
  }
}
`,
  );
  const child = spawn(nginx, ['-c', conf, '-p', dir], { stdio: 'inherit' });
  for (let i = 0; i < 50; i++) {
    try {
      await serverRequests();
      return {
        stop: () => child.kill('SIGTERM'),
        cpuSeconds: () => (child.pid === undefined ? Number.NaN : processTreeCpuSeconds(child.pid)),
      };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('nginx did not start');
}

/** Requests nginx has handled so far (stub_status), not counting the stub_status request itself. */
async function serverRequests(): Promise<number> {
  const c = new Client(ORIGIN);
  try {
    const r = await c.request({ method: 'GET', path: '/nginx_status' });
    const text = await r.body.text();
    const m = /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(text);
    if (!m) throw new Error(`unexpected stub_status: ${text}`);
    return Number(m[3]) - 1;
  } finally {
    await c.close();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** A closed-loop driver for one variant: `start(user)` sends one request and calls `user` when it ends. */
interface CallbackVariant {
  send: (onEnd: () => void) => void;
  close: () => Promise<void>;
}

/**
 * The lead for the engine: one undici `Client` per connection (pipelining 1), the caller keeping its
 * own idle list and FIFO wait queue and calling `Client.dispatch` directly. A request sent from inside
 * the completion callback rides the connection that just finished (undici then skips its idle-socket
 * check), and there is no Pool: no scan over clients, no 'drain' events.
 */
function createClientPerConnection(inFlight: number): CallbackVariant {
  const clients = Array.from({ length: inFlight }, () => new Client(ORIGIN, { pipelining: 1 }));
  const idle = clients.slice();
  const waiting: (() => void)[] = [];
  const dispatchOn = (c: Client, onEnd: () => void) => {
    c.dispatch(
      { method: 'GET', path: '/' },
      {
        onConnect() {},
        onHeaders: () => true,
        onData: () => true,
        onComplete: () => {
          const next = waiting.shift();
          if (next) dispatchOn(c, next);
          else idle.push(c);
          onEnd();
        },
        onError: (err: Error) => {
          throw err;
        },
      },
    );
  };
  return {
    send(onEnd) {
      const c = idle.pop();
      if (c) dispatchOn(c, onEnd);
      else waiting.push(onEnd);
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

async function clientComparison(): Promise<void> {
  let seconds = Number(process.env.PEAKDAY_BENCH_CLIENT_SECONDS ?? 4);
  const rounds = Number(process.env.PEAKDAY_BENCH_ROUNDS ?? 1);
  const inFlight = 50;
  /** Each variant returns the requests it completed in `seconds`. */
  const variants: Record<string, () => Promise<number>> = {
    'Pool.request': async () => {
      const pool = new Pool(ORIGIN, { connections: inFlight });
      const n = await loop(async () => {
        const r = await pool.request({ method: 'GET', path: '/' });
        await r.body.dump();
      });
      await pool.close();
      return n;
    },
    'Client.request (pipelining 1)': async () => {
      // One Client per connection, requests spread round-robin.
      const clients = Array.from({ length: inFlight }, () => new Client(ORIGIN));
      let i = 0;
      const n = await loop(async () => {
        const c = clients[i++ % inFlight] as Client;
        const r = await c.request({ method: 'GET', path: '/' });
        await r.body.dump();
      });
      await Promise.all(clients.map((c) => c.close()));
      return n;
    },
    // The two below re-send from the completion callback, as the engine's closed loop and multi-step
    // journeys do (a Promise loop would re-send a microtask later, after undici has marked the socket idle).
    'Pool.dispatch': () => {
      const pool = new Pool(ORIGIN, { connections: inFlight });
      return callbackLoop({
        send(onEnd) {
          pool.dispatch(
            { method: 'GET', path: '/' },
            {
              onConnect() {},
              onHeaders: () => true,
              onData: () => true,
              onComplete: onEnd,
              onError: (err: Error) => {
                throw err;
              },
            },
          );
        },
        close: () => pool.close(),
      });
    },
    'Client.dispatch per connection': () => callbackLoop(createClientPerConnection(inFlight)),
    // What the engine runs: engine/http-client.ts with its handler, outcome and connection set.
    'engine client (http-client.ts)': () => {
      const c = createHttpClient({ origin: ORIGIN, connections: inFlight, timeoutMs: 10_000, now: () => 0 });
      const req = { method: 'GET', path: '/', headers: {}, body: null };
      const onOutcome = (o: HttpOutcome, onEnd: () => void) => {
        if (o.error) throw new Error(o.errorMessage ?? o.error);
        onEnd();
      };
      return callbackLoop({
        send: (onEnd) => c.send({ ...req }, false, onOutcome, onEnd),
        close: () => c.close(),
      });
    },
  };
  async function loop(one: () => Promise<void>): Promise<number> {
    let n = 0;
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (performance.now() < end) {
          await one();
          n++;
        }
      }),
    );
    return n;
  }
  async function callbackLoop(v: CallbackVariant): Promise<number> {
    let n = 0;
    let running = inFlight;
    const end = performance.now() + seconds * 1000;
    await new Promise<void>((resolve) => {
      const user = () => {
        n++;
        if (performance.now() < end) v.send(user);
        else if (--running === 0) resolve();
      };
      for (let i = 0; i < inFlight; i++) v.send(user);
    });
    await v.close();
    return n - inFlight;
  }
  const only = process.env.PEAKDAY_BENCH_VARIANTS?.split(',');
  const names = Object.keys(variants).filter((k) => !only || only.some((o) => k.includes(o)));
  console.log(
    `\n1. HTTP client (undici 7), ${inFlight} in flight, closed loop, ${seconds} s each, ${rounds} round(s) interleaved`,
  );
  const totals = new Map<string, { n: number; cpuUs: number; s: number }>();
  const perRound = new Map<string, number[]>();
  // One uncounted second per variant first: the first round otherwise pays for JIT compilation.
  const warm = seconds;
  seconds = 1;
  for (const name of names) await (variants[name] as () => Promise<number>)();
  seconds = warm;
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round so no variant always runs first or last.
    const order = names.map((_, i) => names[(i + round) % names.length] as string);
    for (const name of order) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const n = await (variants[name] as () => Promise<number>)();
      const c = process.cpuUsage(c0);
      const s = (performance.now() - t0) / 1000;
      const cpuUs = c.user + c.system;
      const t = totals.get(name) ?? { n: 0, cpuUs: 0, s: 0 };
      totals.set(name, { n: t.n + n, cpuUs: t.cpuUs + cpuUs, s: t.s + seconds });
      perRound.set(name, [...(perRound.get(name) ?? []), cpuUs / n]);
      if (rounds > 1)
        console.log(
          `   round ${round + 1} ${name.padEnd(30)} ${fmt(n / seconds).padStart(8)} req/s  ${(cpuUs / n).toFixed(1).padStart(6)} µs CPU/request  (load ${loadavg()[0]?.toFixed(1)}, ${s.toFixed(1)} s incl. close)`,
        );
    }
  }
  const rows = names.map((name) => {
    const t = totals.get(name) as { n: number; cpuUs: number; s: number };
    return { name, rps: t.n / t.s, cpu: t.cpuUs / t.n, median: median(perRound.get(name) ?? []) };
  });
  const best = Math.max(...rows.map((r) => r.rps));
  const cheapest = Math.min(...rows.map((r) => r.cpu));
  for (const r of rows)
    console.log(
      `   ${r.name.padEnd(30)} ${fmt(r.rps).padStart(8)} req/s  (${(r.rps / best).toFixed(2)}x best)  ${r.cpu.toFixed(1).padStart(6)} µs CPU/request  (${(r.cpu / cheapest).toFixed(2)}x cheapest${rounds > 1 ? `; median of rounds ${r.median.toFixed(1)} µs` : ''})`,
    );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/**
 * The engine's previous client, kept here for the comparison below: the same handler contract over
 * undici's `Pool.dispatch` (status, send time and classified errors; no body or cookies, which the
 * bench journey does not use).
 */
function createPoolClient(o: HttpClientOptions): HttpClient {
  const pool = new Pool(o.origin, {
    connections: o.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: o.timeoutMs,
    bodyTimeout: o.timeoutMs,
    connectTimeout: o.timeoutMs,
  });
  class Handler implements HttpOutcome {
    status = 0;
    setCookie = null;
    body = null;
    error: HttpOutcome['error'] = null;
    errorMessage: string | null = null;
    sentAt = Number.NaN;
    constructor(
      private readonly done: (o: HttpOutcome, ctx: unknown) => void,
      private readonly ctx: unknown,
    ) {}
    onConnect() {
      this.sentAt = o.now();
    }
    onHeaders(statusCode: number) {
      this.status = statusCode;
      return true;
    }
    onData() {
      return true;
    }
    onComplete() {
      this.done(this, this.ctx);
    }
    onError(err: Error) {
      this.error = classifyError(err);
      this.errorMessage = err.message;
      this.done(this, this.ctx);
    }
  }
  return {
    send(req, _wantBody, done, ctx) {
      pool.dispatch(
        { method: req.method as 'GET', path: req.path, headers: req.headers, body: req.body },
        new Handler(done as (o: HttpOutcome, ctx: unknown) => void, ctx),
      );
    },
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  };
}

/**
 * 1b. The whole engine on the Pool client it had before and on the per-connection client it has now,
 * interleaved: closed loop (50 VUs, 50 connections: requests re-sent from the completion callback) and
 * open model at 20,000/s (cap 400: requests sent from timers onto idle connections).
 */
async function engineClientComparison(): Promise<void> {
  const seconds = Number(process.env.PEAKDAY_BENCH_CLIENT_SECONDS ?? 4);
  const rounds = Number(process.env.PEAKDAY_BENCH_ROUNDS ?? 1);
  const clients: Record<string, ((o: HttpClientOptions) => HttpClient) | undefined> = {
    'Pool.dispatch (before)': createPoolClient,
    'per-connection (now)': undefined,
  };
  const modes = { 'closed loop, 50 VUs': 0, 'open model, 20,000/s': 20_000 };
  console.log(
    `\n1b. The engine on the previous and the current client, ${seconds} s each, ${rounds} round(s) interleaved`,
  );
  const names = Object.keys(clients);
  const one = async (name: string, rate: number, s: number) => {
    const plan = createTestPlan(
      [{ journey: getJourney('bench', ['/']), rate: rate || 1, maxConcurrency: 400 }],
      s,
    );
    const create = clients[name];
    const c0 = process.cpuUsage();
    const e = await startEngine({
      plan,
      target: new URL(ORIGIN),
      ...(rate ? {} : { connections: 50, closedLoop: { vus: 50 } }),
      ...(create ? { createClient: create } : {}),
    });
    const r = await e.done;
    const c = process.cpuUsage(c0);
    const n = r.totals.reduce((a, t) => a + t.requests, 0);
    const dropped = r.totals.reduce((a, t) => a + t.dropped, 0);
    return { rps: n / r.durationSeconds, cpuUs: (c.user + c.system) / n, dropped };
  };
  for (const [mode, rate] of Object.entries(modes)) {
    const cpu = new Map<string, number[]>();
    const rps = new Map<string, number[]>();
    const dropped = new Map<string, number[]>();
    for (const name of names) await one(name, rate, 1); // warm-up, not counted
    for (let round = 0; round < rounds; round++) {
      const order = names.map((_, i) => names[(i + round) % names.length] as string);
      for (const name of order) {
        const r = await one(name, rate, seconds);
        cpu.set(name, [...(cpu.get(name) ?? []), r.cpuUs]);
        rps.set(name, [...(rps.get(name) ?? []), r.rps]);
        dropped.set(name, [...(dropped.get(name) ?? []), r.dropped]);
        if (rounds > 1)
          console.log(
            `   ${mode}, round ${round + 1} ${name.padEnd(24)} ${fmt(r.rps).padStart(8)} req/s  ${r.cpuUs.toFixed(1).padStart(6)} µs CPU/request${rate ? `  dropped ${fmt(r.dropped)}` : ''}  (load ${loadavg()[0]?.toFixed(1)})`,
          );
      }
    }
    for (const name of names)
      console.log(
        `   ${mode.padEnd(21)} ${name.padEnd(24)} median ${fmt(median(rps.get(name) ?? [])).padStart(8)} req/s  ${median(
          cpu.get(name) ?? [],
        )
          .toFixed(1)
          .padStart(6)} µs CPU/request${rate ? `  dropped ${fmt(median(dropped.get(name) ?? []))}` : ''}`,
      );
  }
}

/** CPU seconds (user + system) of the children this process has waited for (/proc/self/stat). */
function childrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime), in clock ticks (100 per second on Linux).
  return (Number(f[13]) + Number(f[14])) / 100;
}

/** A tool's closed-loop figure: requests per second and CPU microseconds per request. */
interface ToolFigure {
  rps: number;
  cpuUsPerRequest: number;
}

function runWrk(wrk: string, seconds: number): ToolFigure {
  const c0 = childrenCpuSeconds();
  const r = spawnSync(wrk, ['-t1', '-c50', `-d${seconds}s`, `${ORIGIN}/`], { encoding: 'utf8' });
  const cpu = childrenCpuSeconds() - c0;
  const m = /Requests\/sec:\s+([\d.]+)/.exec(r.stdout);
  const total = /(\d+) requests in/.exec(r.stdout);
  const rps = m ? Number(m[1]) : Number.NaN;
  return { rps, cpuUsPerRequest: total ? (cpu * 1e6) / Number(total[1]) : Number.NaN };
}

function runAutocannon(seconds: number): ToolFigure {
  const bin = join(import.meta.dirname, '..', 'node_modules', '.bin', 'autocannon');
  const c0 = childrenCpuSeconds();
  const r = spawnSync(bin, ['-c', '50', '-d', String(seconds), '-j', `${ORIGIN}/`], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const cpu = childrenCpuSeconds() - c0;
  try {
    const j = JSON.parse(r.stdout) as { requests: { average: number; total: number } };
    return { rps: j.requests.average, cpuUsPerRequest: (cpu * 1e6) / j.requests.total };
  } catch {
    return { rps: Number.NaN, cpuUsPerRequest: Number.NaN };
  }
}

/**
 * A client answering every request 200 in the next check phase, a batch per wake-up as a socket
 * read would: with it the engine's CPU is the engine's own (scheduling, iteration state, templating,
 * histograms, per-second aggregation), measured on the same code path as a real run.
 */
function createNoNetworkClient(now: () => number): HttpClient {
  type Pending = [(o: HttpOutcome, ctx: unknown) => void, unknown, number];
  let queue: Pending[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const q = queue;
    queue = [];
    for (const [done, ctx, sentAt] of q)
      done({ status: 200, setCookie: null, body: null, error: null, errorMessage: null, sentAt }, ctx);
  };
  return {
    send(_req, _wantBody, done, ctx) {
      queue.push([done as Pending[0], ctx, now()]);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close: async () => undefined,
    destroy: async () => undefined,
  };
}

async function engineOwnCost(): Promise<void> {
  const seconds = 4;
  console.log(`\n0. The engine's own CPU per request, no network (in-process client), ${seconds} s each`);
  const cases: [string, number, boolean][] = [
    ['closed loop, 50 VUs', 1, true],
    ['open model, 5,000/s', 5000, false],
    ['open model, 20,000/s', 20_000, false],
  ];
  for (const [name, rate, closed] of cases) {
    const plan = createTestPlan(
      [{ journey: getJourney('bench', ['/']), rate, maxConcurrency: 400 }],
      seconds,
    );
    const c0 = process.cpuUsage();
    const e = await startEngine({
      plan,
      target: new URL(ORIGIN),
      createClient: (o) => createNoNetworkClient(o.now),
      ...(closed ? { closedLoop: { vus: 50 } } : {}),
    });
    const r = await e.done;
    const c = process.cpuUsage(c0);
    const n = r.totals.reduce((a, t) => a + t.requests, 0);
    const cpuS = (c.user + c.system) / 1e6;
    const lag = r.schedulerLag.totalCount
      ? `, lag p99 ${(r.schedulerLag.getValueAtPercentile(99) / 1000).toFixed(2)} ms`
      : '';
    console.log(
      `   ${name.padEnd(22)} ${fmt(n / r.durationSeconds).padStart(9)} req/s  ${((cpuS * 1e6) / n).toFixed(2).padStart(7)} µs CPU/request  (${(cpuS / r.durationSeconds).toFixed(2)} cores${lag})`,
    );
  }
}

async function runPeakdayClosed(
  seconds: number,
): Promise<{ rps: number; serverRps: number; cpuUsPerRequest: number }> {
  const plan = createTestPlan(
    [{ journey: getJourney('bench', ['/']), rate: 1, maxConcurrency: 400 }],
    seconds,
  );
  const before = await serverRequests();
  const c0 = process.cpuUsage();
  const r = await runBuiltin({
    plan,
    target: new URL(ORIGIN),
    outDir: join(mkdtempSync(join(tmpdir(), 'peakday-bench-')), 'closed'),
    options: {},
    noHandshake: true,
    connections: 50,
    closedLoop: { vus: 50 },
  });
  const c = process.cpuUsage(c0);
  const served = (await serverRequests()) - before - 1;
  return {
    rps: r.summary.requests.total / r.summary.durationSeconds,
    serverRps: served / r.summary.durationSeconds,
    cpuUsPerRequest: (c.user + c.system) / r.summary.requests.total,
  };
}

async function runOpen(rate: number, seconds: number, scheduler?: SchedulerMode) {
  const plan = createTestPlan([{ journey: getJourney('bench', ['/']), rate, maxConcurrency: 400 }], seconds);
  const before = await serverRequests();
  const c0 = process.cpuUsage();
  const r = await runBuiltin({
    plan,
    target: new URL(ORIGIN),
    outDir: join(mkdtempSync(join(tmpdir(), 'peakday-bench-')), 'open'),
    options: {},
    noHandshake: true,
    scheduler,
  });
  const c = process.cpuUsage(c0);
  const served = (await serverRequests()) - before - 1;
  return { r, served, cpuUsPerRequest: (c.user + c.system) / Math.max(1, r.summary.requests.total) };
}

/**
 * Section 3. PEAKDAY_BENCH_SCHEDULERS=sleep,spin runs each scheduler (engine/engine.ts SchedulerMode)
 * in turn, PEAKDAY_BENCH_ROUNDS times, order rotated per round, so a slow moment of the host falls
 * on every variant alike.
 */
async function openModel(): Promise<void> {
  const rate = Number(process.env.PEAKDAY_BENCH_RATE ?? 20_000);
  const openSeconds = 20;
  const schedulers = (process.env.PEAKDAY_BENCH_SCHEDULERS?.split(',') ?? ['auto']) as SchedulerMode[];
  const rounds = Number(process.env.PEAKDAY_BENCH_ROUNDS ?? 1);
  console.log(
    `\n3. Open model, ${fmt(rate)} single-GET iterations/s for ${openSeconds} s, concurrency cap 400`,
  );
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < schedulers.length; k++) {
      const scheduler = schedulers[(k + round) % schedulers.length] as SchedulerMode;
      const o = await runOpen(rate, openSeconds, scheduler);
      const s = o.r.summary;
      const planned = s.iterations.planned;
      const label =
        schedulers.length > 1 || rounds > 1
          ? `   [${scheduler}, round ${round + 1}, load ${loadavg()[0]?.toFixed(1)}]\n`
          : '';
      console.log(
        `${label}   planned ${fmt(planned)}, started ${fmt(s.iterations.started)}, dropped ${fmt(s.iterations.dropped)} (${((100 * s.iterations.dropped) / planned).toFixed(2)}%, bar < 0.5%)`,
      );
      console.log(
        `   server-counted arrivals ${fmt(o.served)} = ${((100 * o.served) / planned).toFixed(2)}% of plan (bar within 0.5%)`,
      );
      console.log(
        `   scheduler lag p50 ${s.schedulerLag?.p50} ms, p99 ${s.schedulerLag?.p99} ms (bar < 5 ms); send latency p99 ${s.latency.send?.overall.p99} ms; run valid: ${s.valid}${s.valid ? '' : ` (${s.invalidReasons.join('; ')})`}`,
      );
      const seconds = { sleep: 0, spin: 0 };
      const healthRecords: EngineHealthRecord[] = [];
      for await (const h of readRun(o.r.dir).engine()) {
        healthRecords.push(h);
        if (h.scheduler) seconds[h.scheduler]++;
      }
      const worst = [...healthRecords].sort((a, b) => b.schedulerLag.p99 - a.schedulerLag.p99).slice(0, 3);
      console.log(
        `   peakday CPU ${o.cpuUsPerRequest.toFixed(1)} µs per request; scheduler spun in ${seconds.spin} s, only slept in ${seconds.sleep} s`,
      );
      console.log(
        `   worst seconds (lag p99 / event-loop delay max / host CPU): ${worst.map((h) => `s${h.wall} ${h.schedulerLag.p99}/${h.eventLoopDelay.max} ms/${Math.round(100 * h.hostCpu)}%`).join(', ')}`,
      );
    }
  }
}

/**
 * Section 5: every built-in profile, compiled at PEAKDAY_BENCH_PROFILE_RPS (default 20,000) peak
 * requests/s over 10 s of wall time, played by the engine against the same nginx. nginx answers every
 * path with one static body, so journeys whose steps check or extract fail their first step and end
 * there (counted as failed iterations): this measures the engine keeping a real profile's schedule
 * (its many scenarios and tag sets, bursts and ramps), not the journeys' logic, which
 * test/profiles-run.test.ts checks against the reference stack.
 */
async function profilesSection(): Promise<void> {
  const peak = Number(process.env.PEAKDAY_BENCH_PROFILE_RPS ?? 20_000);
  const seconds = 10;
  console.log(`\n5. Every built-in profile at ${fmt(peak)} peak requests/s, ${seconds} s, against nginx`);
  const [{ resolvePlan }, { listProfiles }, { compileOptionsFrom }, { readConfig }] = await Promise.all([
    import('../workflows/run.ts'),
    import('../scenarios/profile.ts'),
    import('../scenarios/compile-options.ts'),
    import('../core/config.ts'),
  ]);
  for (const { name } of listProfiles()) {
    const resolved = await resolvePlan({
      profile: name,
      compile: compileOptionsFrom({ peakRps: String(peak), duration: `${seconds}s` }, readConfig()),
    });
    const before = await serverRequests();
    const r = await runBuiltin({
      plan: resolved.plan,
      target: new URL(ORIGIN),
      outDir: join(mkdtempSync(join(tmpdir(), 'peakday-bench-')), name),
      options: {},
      noHandshake: true,
      ...(resolved.pools ? { pools: resolved.pools } : {}),
    });
    const served = (await serverRequests()) - before - 1;
    const s = r.summary;
    let peakStarted = 0;
    const perSecond = new Map<number, number>();
    for await (const x of readRun(r.dir).series())
      if (x.step === null) perSecond.set(x.wall, (perSecond.get(x.wall) ?? 0) + (x.started ?? 0));
    for (const v of perSecond.values()) peakStarted = Math.max(peakStarted, v);
    console.log(
      `   ${name.padEnd(13)} ${String(resolved.plan.scenarios.length).padStart(3)} scenarios  planned ${fmt(s.iterations.planned).padStart(7)} (peak second ${fmt(peakStarted)} started)  dropped ${((100 * s.iterations.dropped) / Math.max(1, s.iterations.planned)).toFixed(2)}%  nginx counted ${served === s.requests.total ? 'all' : `${fmt(served)} of ${fmt(s.requests.total)}`} requests  lag p99 ${s.schedulerLag?.p99} ms  ${s.valid ? 'valid' : `INVALID (${s.invalidReasons.join('; ')})`}`,
    );
  }
}

async function main(): Promise<void> {
  console.log(
    `bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const { nginx, wrk } = ensureTools();
  const server = await startNginx(nginx);
  try {
    // PEAKDAY_BENCH_ONLY=client runs sections 1 and 1b alone (while experimenting with the HTTP client).
    const only = process.env.PEAKDAY_BENCH_ONLY;
    if (only === 'open') {
      await openModel();
      return;
    }
    if (only === 'cli') {
      await cliSection(ORIGIN, serverRequests, wrk, server.cpuSeconds);
      return;
    }
    if (only === 'memory') {
      await memorySection(ORIGIN, serverRequests);
      return;
    }
    if (only === 'profiles') {
      await profilesSection();
      return;
    }
    if (only === 'client') {
      await clientComparison();
      await engineClientComparison();
      return;
    }
    await cliSection(ORIGIN, serverRequests, wrk, server.cpuSeconds);
    await engineOwnCost();
    await clientComparison();
    await engineClientComparison();

    const closedSeconds = 8;
    console.log(`\n2. Closed-loop maximum, 50 connections, ${closedSeconds} s, nginx 1 worker`);
    const w = wrk ? runWrk(wrk, closedSeconds) : { rps: Number.NaN, cpuUsPerRequest: Number.NaN };
    const a = runAutocannon(closedSeconds);
    const p = await runPeakdayClosed(closedSeconds);
    const cpu = (x: number) => `${x.toFixed(1).padStart(6)} µs CPU/request`;
    console.log(`   wrk          ${fmt(w.rps).padStart(8)} req/s  ${cpu(w.cpuUsPerRequest)}`);
    console.log(`   autocannon   ${fmt(a.rps).padStart(8)} req/s  ${cpu(a.cpuUsPerRequest)}`);
    console.log(
      `   peakday      ${fmt(p.rps).padStart(8)} req/s  ${cpu(p.cpuUsPerRequest)} (server counted ${fmt(p.serverRps)}/s)`,
    );
    console.log(
      `   peakday/autocannon ${(p.rps / a.rps).toFixed(2)}x (bar ≥ 1.0x)   peakday/wrk ${(p.rps / w.rps).toFixed(2)}x (aim ≥ 0.5x)`,
    );
    console.log(
      `   CPU per request, autocannon/peakday ${(a.cpuUsPerRequest / p.cpuUsPerRequest).toFixed(2)}x (above 1: peakday is cheaper)`,
    );

    await openModel();
    if (only === 'open') return;

    await memorySection(ORIGIN, serverRequests);
    await profilesSection();
  } finally {
    server.stop();
    console.log(
      `\nbench: load average at the end ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
  }
}

await main();
