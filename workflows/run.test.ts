import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import type { RunSummary } from '../core/run-format.ts';
import type { RunOutcome } from '../engine/run.ts';
import { createTestPlan, getJourney, startTestServer, type TestServer } from '../engine/test-support.ts';
import { DEFAULT_TIMEOUT_MS, describeFailures, type RunWorkflowRequest, runWorkflow } from './run.ts';
import type { WorkflowSink } from './sink.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()?.close();
});

/** A sink that keeps what the workflow emitted. */
function collectingSink(): WorkflowSink & { lines: string[]; finished: RunOutcome[] } {
  const lines: string[] = [];
  const finished: RunOutcome[] = [];
  return { lines, finished, log: (l) => lines.push(l), runFinished: (r) => finished.push(r) };
}

async function request(seconds: number, rate: number) {
  const s = await startTestServer();
  servers.push(s);
  const dir = mkdtempSync(join(tmpdir(), 'peakday-run-workflow-'));
  const planFile = join(dir, 'plan.json');
  writeFileSync(
    planFile,
    JSON.stringify(createTestPlan([{ journey: getJourney('x', ['/x']), rate }], seconds)),
  );
  const sink = collectingSink();
  const req: RunWorkflowRequest = {
    source: { planFile },
    target: s.url,
    allowHosts: [],
    driver: 'builtin',
    out: join(dir, 'run'),
    timeoutMs: DEFAULT_TIMEOUT_MS,
    scheduler: 'auto',
    circuitBreaker: { maxErrorRate: 0.5, seconds: 5 },
    stackHandshake: false,
    warmUpSeconds: 0,
    given: { duration: '30s' },
    sink,
  };
  return { req, sink, server: s, planFile };
}

describe('the run workflow', () => {
  it('plays a typed request into a run directory and reports through the sink', async () => {
    const { req, sink, server, planFile } = await request(2, 10);
    const outcome = await runWorkflow(req);
    expect(outcome.exitCode).toBe(0);
    expect(sink.lines[0]).toMatch(/^peakday run: test → http:\/\/127\.0\.0\.1:\d+ with builtin: 2 s wall/);
    expect(sink.finished.map((r) => r.dir)).toEqual([outcome.dir]);
    const run = readRun(outcome.dir);
    expect(run.meta.endReason).toBe('completed');
    // The options are recorded as given, beside the parsed values the run used.
    expect(run.meta.options).toMatchObject({ plan: planFile, duration: '30s', timeoutMs: 10_000 });
    expect(run.summary?.requests.total).toBe(server.received.count);
  });

  it('stops when its AbortSignal fires and keeps a complete partial run (exit code 130)', async () => {
    const { req, sink } = await request(30, 20);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1500);
    const outcome = await runWorkflow({ ...req, signal: controller.signal });
    expect(outcome.exitCode).toBe(130);
    const run = readRun(outcome.dir);
    expect(run.meta.endReason).toBe('interrupted');
    expect(run.summary?.partial).toBe(true);
    expect(run.summary?.iterations.planned).toBe(600);
    expect(run.summary?.iterations.started).toBeGreaterThan(10);
    expect(run.summary?.iterations.started).toBeLessThan(200);
    expect(sink.finished).toHaveLength(1);
  });

  it('stops at once on a signal aborted before the run', async () => {
    const { req } = await request(30, 20);
    const outcome = await runWorkflow({ ...req, signal: AbortSignal.abort() });
    expect(outcome.exitCode).toBe(130);
    expect(outcome.summary.iterations.started).toBeLessThan(30);
  });
});

describe('describeFailures', () => {
  const summary = (total: number, errors: Partial<RunSummary['requests']['errors']>, s4xx = 0) =>
    ({
      requests: {
        total,
        failed: total,
        byStatus: { '2xx': 0, '3xx': 0, '4xx': s4xx, '5xx': 0 },
        errors: { timeout: 0, refused: 0, reset: 0, check: 0, other: 0, ...errors },
      },
    }) as unknown as RunSummary;
  it('names the refusals, not the failed checks, when no request got an answer (k6 checks them anyway)', () => {
    expect(describeFailures(summary(37, { refused: 37, check: 88 }), '127.0.0.1:9')).toBe(
      '37 of 37 requests failed, mostly: connection refused on 127.0.0.1:9: is the target running? (88 failed checks, 37 refused)',
    );
  });
  it('names the failed checks when the answers were there and wrong', () => {
    expect(describeFailures(summary(40, { refused: 2, check: 30 }), 'h:1')).toMatch(
      /mostly: checks failed: the target answered, but not what the journeys expect \(30 failed checks, 2 refused\)$/,
    );
  });
});
