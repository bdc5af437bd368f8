import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport } from '../report-model.ts';
import { readRunForReport } from '../run/read-run-files.ts';
import { writeKnownScenario } from '../testing/known-scenario.ts';
import { writeReport } from './registry.ts';

const root = mkdtempSync(join(tmpdir(), 'peakday-html-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Where the test leaves a screenshot of the rendered report for people to look at. */
const SCREENSHOT = join(tmpdir(), 'peakday-report-screenshot.png');

/** Runs in the page (a string: this project's TypeScript has no DOM types): non-white pixels per chart. */
const COUNT_DRAWN_PIXELS = `[...document.querySelectorAll('canvas[data-chart]')].map((canvas) => {
  const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let colored = 0;
  for (let i = 0; i < d.length; i += 4)
    if (d[i + 3] > 0 && !(d[i] > 245 && d[i + 1] > 245 && d[i + 2] > 245)) colored++;
  return { id: canvas.dataset.chart, colored, total: d.length / 4 };
})`;

async function renderKnown(name: string, over = {}) {
  const run = await readRunForReport(writeKnownScenario(join(root, name), over));
  const report = await buildReport(run, { now: '2026-11-25T02:00:00.000Z' });
  const files = await writeReport(report, join(root, name, 'report'), ['html']);
  return files.html[0]!;
}

describe('report.html in headless Chromium', () => {
  it('renders offline with no console error and draws every chart', async () => {
    const html = await renderKnown('ok');
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/<script[^>]+src=/);
    expect(text).not.toMatch(/<link[^>]+href=/);
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      await page.goto(pathToFileURL(html).href);
      await page.waitForSelector('html[data-charts-drawn]', { timeout: 20_000 });
      const drawn = (await page.evaluate(COUNT_DRAWN_PIXELS)) as {
        id: string;
        colored: number;
        total: number;
      }[];
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect(drawn.map((d) => d.id)).toEqual([
        'timeline',
        'latency',
        'service-cart',
        'service-search',
        'cost',
      ]);
      for (const d of drawn) expect(d.colored / d.total, `${d.id} has drawn pixels`).toBeGreaterThan(0.01);
      expect(await page.locator('text=Hot partition: key SKU-000042').count()).toBeGreaterThan(0);
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('carries an invalid-run banner first', async () => {
    const html = readFileSync(
      await renderKnown('invalid', { valid: false, invalidReasons: ['generator saturated'] }),
      'utf8',
    );
    const banner = html.indexOf('class="banner invalid"');
    expect(banner).toBeGreaterThan(0);
    expect(banner).toBeLessThan(html.indexOf('Load vs tasks vs latency'));
    expect(html).toContain('generator saturated');
  });
});
