import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtmlText } from './renderers/html.ts';
import { renderMarkdownText } from './renderers/markdown.ts';
import { buildReport } from './report-model.ts';
import { readRunForReport } from './run/read-run-files.ts';
import { KNOWN, writeKnownScenario } from './testing/known-scenario.ts';

const root = mkdtempSync(join(tmpdir(), 'peakday-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const now = '2026-11-25T02:00:00.000Z';

async function report(name: string, over = {}, opts = {}) {
  const run = await readRunForReport(writeKnownScenario(join(root, name), over));
  return buildReport(run, { now, ...opts });
}

describe('buildReport on a run with planted answers', async () => {
  const r = await report('known');
  const find = (id: string) => r.findings.find((f) => f.id === id);

  it('derives the capacity per task the service was built with', () => {
    expect(find('capacity/cart')?.value).toBeCloseTo(KNOWN.capacityPerTask, 6);
  });

  it('measures the planted scale-out lag', () => {
    const f = find(`scale-out-lag/cart@${KNOWN.stepAt}`);
    expect(f?.value).toBe(KNOWN.lagSeconds);
    expect(f?.evidence.join(' ')).toContain('first scaling activity 2.0 min after the step');
  });

  it('finds the under-provisioned window of cart exactly', () => {
    expect(find(`under-provisioned/cart@${KNOWN.stepAt}`)?.window).toEqual({
      start: KNOWN.stepAt,
      end: KNOWN.stepAt + KNOWN.lagSeconds,
    });
  });

  it('names the hot partition', () => {
    const f = r.findings.find((x) => x.kind === 'hot-partition');
    expect(f?.title).toContain(KNOWN.hotKey);
    expect(f?.window).toEqual({ start: KNOWN.hotStart, end: KNOWN.hotEnd });
  });

  it('attributes each channel breach to its bottleneck and counts breach minutes', () => {
    expect(r.breachMinutes.web).toBe((KNOWN.lagSeconds + (KNOWN.hotEnd - KNOWN.hotStart)) / 60);
    expect(r.breachMinutes['mobile-app']).toBe(KNOWN.lagSeconds / 60);
    expect(find(`budget-breach/web@${KNOWN.stepAt}`)?.title).toContain('cart short of capacity');
    expect(find(`budget-breach/web@${KNOWN.hotStart}`)?.title).toContain(`hot partition ${KNOWN.hotKey}`);
  });

  it('reports the peak-to-baseline ratio and the headroom at peak', () => {
    expect(find('peak-ratio/cart')?.value).toBeCloseTo(KNOWN.rateHigh / KNOWN.rateLow, 6);
    expect(find('headroom/cart')?.severity).toBe('critical');
    expect(find('headroom/search')?.value).toBeCloseTo(0.7, 6);
  });

  it('labels revenue at risk as an estimate with its assumptions', () => {
    const f = find('revenue-at-risk');
    expect(f?.provenance).toBe('model-input');
    expect(f?.unit).toContain('estimate');
    expect(f?.assumptions?.join(' ')).toContain('Akamai');
    expect(f?.assumptions?.join(' ')).toContain('assumption');
    expect(f?.value).toBeGreaterThan(0);
  });

  it('recommends minimum capacity and a pre-warm time from the measured lag, not re-simulated', () => {
    const cart = r.recommendations.items.find((x) => x.service === 'cart');
    expect(cart?.minCapacity).toBe(Math.ceil(KNOWN.rateHigh / (KNOWN.capacityPerTask * 0.7)));
    expect(cart?.preWarmAt).toBe(KNOWN.stepAt - KNOWN.lagSeconds - 300);
    expect(r.recommendations.resimulation.status).toBe('not-re-simulated');
  });

  it('costs the event per service with provenance on every line', () => {
    expect(r.cost?.byService.cart).toBeGreaterThan(0);
    expect(r.cost?.lines.every((l) => l.provenance && l.priceSource)).toBe(true);
    expect(r.cost?.provisionedForPeak.total).toBeGreaterThan(r.cost?.total ?? 0);
    expect(r.cost?.costPer1000Orders).toBeGreaterThan(0);
  });

  it('marks an invalid run invalid, first', async () => {
    const bad = await report('invalid', { valid: false, invalidReasons: ['load generator saturated'] });
    expect(bad.banners[0]?.level).toBe('invalid');
    expect(bad.findings[0]?.kind).toBe('validity');
    expect(bad.findings[0]?.evidence).toContain('load generator saturated');
  });

  it('shows how the load generator kept its schedule, on the evidence its validity was decided on', async () => {
    const evidence = [
      'engine: 25 of 1142 iterations started more than 10 ms late (2.19%; invalid above 1.00% and at least 10)',
      "late starts, by second: the hypervisor took 0.55% of the host's CPU (steal) in the 10 seconds with late starts, 0.41% in the other 110",
    ];
    const schedulerLag = { count: 1142, mean: 1.2, p50: 0.81, p90: 2, p95: 3, p99: 23.65, max: 52.38 };
    const live = await report('generator', {
      mode: 'live',
      valid: false,
      invalidReasons: ['engine fell behind its schedule'],
      summaryExtra: { schedulerLag, validityEvidence: evidence },
    });
    expect(live.run.generator).toEqual({ schedulerLag, evidence });
    const md = renderMarkdownText(live, []);
    expect(md).toContain(
      '## Load generator\n\nINVALID: scheduler lag (actual start minus intended start) p50 0.81 ms, p99 23.65 ms, max 52.38 ms. The verdict rests on:\n\n- engine: 25 of 1142',
    );
    expect(md).toContain('- late starts, by second: the hypervisor took 0.55%');
    const html = renderHtmlText(live);
    expect(html).toContain('<h2>Load generator</h2><p>INVALID: scheduler lag');
    expect(html).toContain("<li>late starts, by second: the hypervisor took 0.55% of the host's CPU");
    // A simulation has no load generator to judge.
    const sim = await report('generator-sim', { mode: 'simulated' });
    expect(sim.run.generator).toBeNull();
    expect(renderMarkdownText(sim, [])).not.toContain('## Load generator');
  });

  it('marks a partial run partial', async () => {
    const p = await report('partial', { partial: true, eventEnd: 4000 });
    expect(p.run.partial).toBe(true);
    expect(p.banners.some((b) => b.level === 'partial')).toBe(true);
  });

  it('uses a re-simulation callback when given', async () => {
    const re = await report(
      'resim',
      {},
      {
        resimulate: async () => ({ before: { breachMinutes: 7 }, after: { breachMinutes: 0 } }),
      },
    );
    expect(re.recommendations.resimulation.status).toBe('re-simulated');
  });
});

describe('severity and wording of throttling and breaches that nothing explains', async () => {
  const { writeFixtureRun } = await import('./testing/fixture-run.ts');
  const build = async (name: string, latencyMs: (t: number) => number) =>
    buildReport(
      await readRunForReport(
        writeFixtureRun(join(root, name), {
          eventEnd: 1800,
          channels: [{ name: 'web', rps: () => 10, latencyMs }],
          services: [
            {
              name: 'inventory',
              requests: () => 600,
              running: () => 2,
              cpu: () => 0.2,
              store: (t) => ({
                table: 'stock',
                readUnits: 10,
                writeUnits: 10,
                throttles: t >= 600 && t < 720 ? 3 : 0,
              }),
            },
          ],
        }),
      ),
      { now },
    );

  it.each([
    ['a warning when every budget held while the table throttled', () => 50, 'warning'],
    [
      'critical when a budget breach overlaps it',
      (t: number) => (t >= 600 && t < 720 ? 5000 : 50),
      'critical',
    ],
  ])('makes throttling %s', async (_name, latency, severity) => {
    const r = await build(`throttle-${severity}`, latency);
    const f = r.findings.find((x) => x.kind === 'hot-partition');
    expect(f?.title).toBe('stock throttled 6 requests over 2.0 min');
    expect(f?.severity).toBe(severity);
  });

  it('says a breach is not explained by capacity when no bottleneck overlaps it', async () => {
    const r = await build('unexplained', (t) => (t >= 1200 && t < 1320 ? 5000 : 50));
    expect(r.findings.find((x) => x.kind === 'budget-breach')?.title).toBe(
      'web: budget breached for 2.0 min — not explained by capacity',
    );
  });
});

describe('where the local stack’s emulation did not hold', async () => {
  const run = await readRunForReport(writeKnownScenario(join(root, 'emulation'), { mode: 'live' }));
  // The host stretched a third of cart's holds during the step (as a loaded 2-core host does), and
  // let every other period's holds end on time.
  for (const r of run.timeline)
    r.emulation =
      r.service === 'cart' && r.t >= KNOWN.stepAt && r.t < KNOWN.stepAt + 600
        ? { holds: 300, stretched: 100, emulatedMs: 3000, addedMs: 1200 }
        : { holds: 300, stretched: 0, emulatedMs: 3000, addedMs: 0 };
  const r = await buildReport(run, { now });

  it('says so in a banner, naming the service, the window and what the host added', () => {
    const b = r.banners.find((x) => x.level === 'emulation');
    expect(b?.text).toMatch(/^not held in 10 of \d+ service-periods/);
    expect(b?.text).toContain(
      'cart, 01:00–01:10: the host added 40% to service time (33% of requests stretched)',
    );
  });

  it('marks the findings whose window overlaps it, and only those', () => {
    const lag = r.findings.find((f) => f.id === `scale-out-lag/cart@${KNOWN.stepAt}`);
    expect(lag?.evidence.join(' ')).toContain('the emulation did not hold here: cart, 01:00–01:10');
    expect(lag?.data?.emulationNotHeld).toBe(true);
    for (const f of r.findings.filter((x) => x.window && x.window.end <= KNOWN.stepAt))
      expect(f.data?.emulationNotHeld, f.id).toBeUndefined();
  });

  it('has no banner when the emulation held everywhere', async () => {
    const calm = await readRunForReport(writeKnownScenario(join(root, 'emulation-held'), { mode: 'live' }));
    for (const rec of calm.timeline)
      rec.emulation = { holds: 300, stretched: 3, emulatedMs: 3000, addedMs: 30 };
    const rc = await buildReport(calm, { now });
    expect(rc.banners.some((x) => x.level === 'emulation')).toBe(false);
  });
});
