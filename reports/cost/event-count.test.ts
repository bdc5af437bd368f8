import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildReport } from '../report-model.ts';
import { readRunForReport } from '../run/read-run-files.ts';
import { type FixtureService, writeFixtureRun } from '../testing/fixture-run.ts';

const root = mkdtempSync(join(tmpdir(), 'peakday-events-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Events each publisher puts out per 60-s period: orders publishes OrderPlaced, inventory
// InventoryReserved and InventoryReleased, pricing PriceChanged, cart CartAbandoned. The bus
// stand-in reports the same events as it accepted them (and so must not be counted again).
const perPeriod: Record<string, number> = { orders: 7, inventory: 11, pricing: 2, cart: 3 };
const service = (name: string, events?: number): FixtureService => ({
  name,
  requests: () => 600,
  running: () => 2,
  cpu: () => 0.3,
  ...(events !== undefined ? { eventsPublished: () => events } : {}),
});
const headless = [
  ...['catalog', 'search', 'checkout', 'gateway'].map((n) => service(n, 0)),
  ...Object.entries(perPeriod).map(([n, e]) => service(n, e)),
  service('bus', 23),
];
const monolith = [service('monolith', 23)];
const periods = 10;

async function eventLine(name: string, services: FixtureService[], arch: string, timeScale = 1) {
  const dir = writeFixtureRun(join(root, name), {
    eventEnd: periods * 60,
    timeScale,
    channels: [{ name: 'web', rps: () => 10, latencyMs: () => 50, ordersPerSecond: () => 1 }],
    services,
  });
  const run = await readRunForReport(dir);
  run.meta.options.arch = arch;
  const r = await buildReport(run, { now: '2026-11-25T00:00:00.000Z' });
  const line = r.cost?.lines.find((l) => l.item.startsWith('EventBridge events'));
  return { r, line };
}

describe('EventBridge events in the cost', () => {
  it.each([
    ['headless: the publishers, not the bus that accepted them', 'headless', headless, 1, 23 * periods],
    ['the monolith: its in-process events, by the same rule', 'monolith', monolith, 1, 23 * periods],
    ['a 30x rehearsal: × the time scale, like orders', 'headless', headless, 30, 23 * periods * 30],
  ])('charges as many events as the run published (%s)', async (name, arch, services, ts, expected) => {
    const { r, line } = await eventLine(name, services, arch, ts);
    expect(line?.quantity).toBe(expected);
    expect(line?.provenance).toBe('measured');
    expect(line?.usd).toBeCloseTo((expected / 1e6) * 1.0, 12);
    // The bus is priced per event only: no task cost line, no capacity finding of its own.
    expect(r.cost?.lines.some((l) => l.service === 'bus')).toBe(false);
    expect(r.services.some((s) => s.name === 'bus')).toBe(false);
  });

  it('falls back to the stated events-per-order assumption when the run does not report events', async () => {
    const { line } = await eventLine('no-events', [service('cart'), service('orders')], 'headless');
    expect(line?.provenance).toBe('model-input');
    expect(line?.item).toContain('3 per order');
    expect(line?.quantity).toBe(periods * 60 * 3); // one order a second, 3 events each
  });
});
