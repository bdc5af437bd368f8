import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processesMentioning, runCli } from './cli-helper.ts';

describe('peakday compare', () => {
  it('writes the 2×2 with a report per configuration', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pd-cmp-')), 'cmp');
    const r = await runCli(['compare', 'ci-smoke', '--seeds', '1', '--out', out, '--json'], {
      timeoutMs: 300_000,
    });
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as {
      configurations: { arch: string; provisioning: string; computeCostUsd: number; vcpuHours: number }[];
      reports: Record<string, string>;
    };
    expect(c.configurations.map((x) => `${x.arch}-${x.provisioning}`).sort()).toEqual([
      'headless-autoscaled',
      'headless-provisioned',
      'monolith-autoscaled',
      'monolith-provisioned',
    ]);
    for (const x of c.configurations) expect(x.computeCostUsd).toBeGreaterThan(0);
    for (const path of Object.values(c.reports)) expect(existsSync(path)).toBe(true);
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toMatch(/monolith provisioned/);
    // A verdict sentence and the figures it rests on, consistent with the configurations.
    const saved = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8')) as {
      verdict: string;
      evidence: {
        cheapest: { configuration: string; computeCostUsd: number };
        computeCostUsd: Record<string, number>;
      };
      configurations: {
        arch: string;
        provisioning: string;
        computeCostUsd: number;
        meetsBudgets: boolean;
        edge: { usd: number; requests: number };
        totalCostUsd: number;
      }[];
      answers: { configurations: { key: string }[]; blastRadius: { service: string } };
      capacity: Record<string, { scale: string; services: Record<string, { kind: string }> }>;
    };
    expect(saved.verdict).toMatch(/^At 15 req\/s on ci-smoke/);
    const { configuration, computeCostUsd } = saved.evidence.cheapest;
    const cheapest = saved.configurations.find((x) => `${x.arch}-${x.provisioning}` === configuration)!;
    expect(cheapest.computeCostUsd).toBe(computeCostUsd);
    const pool = saved.configurations.some((x) => x.meetsBudgets)
      ? saved.configurations.filter((x) => x.meetsBudgets)
      : saved.configurations;
    expect(computeCostUsd).toBe(Math.min(...pool.map((x) => x.computeCostUsd)));
    expect(saved.verdict).toContain(
      `${cheapest.arch} ${cheapest.provisioning === 'provisioned' ? 'provisioned for peak' : 'autoscaled'}`,
    );
    // CloudFront in front of the pages: the same bill in every configuration, in the total.
    const edges = saved.configurations.map((x) => x.edge.usd);
    expect(new Set(edges).size).toBe(1);
    for (const x of saved.configurations)
      expect(x.totalCostUsd).toBeCloseTo(x.computeCostUsd + x.edge.usd, 1);
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toMatch(/CloudFront \(every configuration\): /);
    expect(saved.answers.configurations).toHaveLength(4);
    expect(saved.answers.blastRadius.service).toBe('checkout');
    // The profile's own rates: the local emulation, and the comparison says so per topology.
    expect(saved.capacity.monolith?.scale).toBe('local');
    expect(saved.capacity.headless?.services.checkout?.kind).toBe('local-emulation');
  }, 320_000);

  it('checks the simulation with a short live run of each topology and leaves no process behind', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pd-cmp-')), 'cmp');
    const r = await runCli(
      [
        'compare',
        'ci-smoke',
        '--window',
        'opening',
        '--seeds',
        '1',
        '--no-break-even',
        '--live',
        '--live-duration',
        '8s',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 300_000 },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    const c = JSON.parse(r.stdout) as {
      live: {
        arch: string;
        liveDir: string;
        replayDir: string;
        worstTaskError: number | null;
        notes: string[];
      }[];
    };
    // One stack at a time, the monolith first; each live run replayed by the simulator.
    expect(c.live.map((l) => l.arch)).toEqual(['monolith', 'headless']);
    for (const l of c.live) {
      for (const f of ['summary.json', 'timeline.ndjson'])
        expect(existsSync(join(l.liveDir, f)), f).toBe(true);
      expect(existsSync(join(l.replayDir, 'validation.json'))).toBe(true);
      // Only periods where the stack's emulation held are compared: a loaded host may leave none.
      if (l.notes.some((n) => /emulation held in none of the \d+ periods/.test(n)))
        expect(l.worstTaskError, l.notes.join('\n')).toBeNull();
      else expect(l.worstTaskError, l.notes.join('\n')).not.toBeNull();
    }
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toMatch(/## Live check of the simulation/);
    expect(processesMentioning(out)).toEqual([]);
  }, 320_000);

  it('rejects an unknown break-even parameter with exit 2', async () => {
    const r = await runCli(['compare', 'ci-smoke', '--break-even', 'hop-cost,colour']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"colour" is not a parameter/);
  });

  it('takes the documented production defaults at --peak-rps, and the local emulation only when asked for', async () => {
    const base = ['compare', 'ci-smoke', '--peak-rps', '300', '--seeds', '1', '--no-break-even', '--json'];
    const dir = mkdtempSync(join(tmpdir(), 'pd-cmp-'));
    const kinds = async (extra: string[], out: string) => {
      const r = await runCli([...base, ...extra, '--out', join(dir, out)], { timeoutMs: 300_000 });
      expect(r.code).toBe(0);
      const c = JSON.parse(r.stdout) as {
        capacity: Record<string, { scale: string; services: Record<string, { kind: string }> }>;
      };
      expect(c.capacity.headless?.scale).toBe('event');
      return new Set(Object.values(c.capacity).flatMap((a) => Object.values(a.services).map((s) => s.kind)));
    };
    expect([...(await kinds([], 'auto'))]).toEqual(['published-default']);
    expect([...(await kinds(['--capacity', 'emulated'], 'emulated'))]).toEqual(['local-emulation']);
    const meta = JSON.parse(readFileSync(join(dir, 'auto', 'headless-provisioned', 'meta.json'), 'utf8')) as {
      options: { capacity: { services: Record<string, { kind: string }> } };
    };
    expect(meta.options.capacity.services.checkout?.kind).toBe('published-default');
  }, 320_000);

  it('rejects an unknown capacity source with exit 2', async () => {
    const r = await runCli(['compare', 'ci-smoke', '--capacity', 'guess']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"guess" is not one of auto, emulated, defaults/);
  });

  it('rejects a bad seed count with exit 2', async () => {
    const r = await runCli(['compare', 'ci-smoke', '--seeds', 'many']);
    expect(r.code).toBe(2);
  });

  it('rejects a bad worker count with exit 2', async () => {
    const r = await runCli(['compare', 'ci-smoke', '--workers', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--workers/);
  });
});
