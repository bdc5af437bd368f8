import { describe, expect, it } from 'vitest';
import { k6RuntimeBundle } from './k6-export.ts';
import { createRuntime, type K6JourneyDef, type K6Modules, render } from './k6-runtime.ts';

/** k6's modules, recording what the runtime asks of them; `respond` answers each request. */
function fakeK6(respond: (url: string) => unknown) {
  const sent: { method: string; url: string; headers: Record<string, string> }[] = [];
  const checks: Record<string, boolean> = {};
  const sleeps: number[] = [];
  const k6: K6Modules = {
    http: {
      request: (method, url, _body, params) => {
        sent.push({ method, url, headers: params.headers });
        return { status: 200, json: () => respond(url) };
      },
      CookieJar: class {},
    },
    check: (_res, sets) => {
      for (const [name, fn] of Object.entries(sets)) checks[name] = fn();
      return true;
    },
    randomSeed: () => {},
    sleep: (s) => sleeps.push(s),
    exec: { vu: { idInTest: 1 }, scenario: { iterationInTest: 0 } },
  };
  return { k6, sent, checks, sleeps };
}

const journey: K6JourneyDef = {
  name: 'browse',
  data: { category: { pool: 'categories', pick: 'sequential' } },
  steps: [
    {
      name: 'list',
      method: 'GET',
      path: '/api/products?category={{category}}',
      extract: [['id', ['items', 0, 'id']]],
      exists: [['$.items', ['items']]],
      think: { dist: 'constant', seconds: 6 },
      needsBody: true,
    },
    { name: 'product', method: 'GET', path: '/api/products/{{id}}', needsBody: false },
  ],
};

const config = {
  baseUrl: 'http://127.0.0.1:9',
  timeScale: 60,
  seed: 1,
  pools: { categories: { kind: 'list' as const, values: ['shoes & socks'] } },
  journeys: { browse: journey },
  secrets: {},
};

describe('the k6 runtime (in Node, k6 modules passed in)', () => {
  it('picks data, encodes it into the path, extracts with the shared JSON-path reader, scales think time', () => {
    const { k6, sent, checks, sleeps } = fakeK6((url) =>
      url.includes('?') ? { items: [{ id: 'p-000042' }] } : {},
    );
    createRuntime(k6, config).runJourney('browse', 'web');
    expect(sent.map((s) => s.url)).toEqual([
      'http://127.0.0.1:9/api/products?category=shoes%20%26%20socks',
      'http://127.0.0.1:9/api/products/p-000042',
    ]);
    expect(checks).toMatchObject({ 'list status': true, 'list has $.items': true });
    expect(sleeps).toEqual([6 / 60]);
  });

  it('reads paths as core/json-path.ts does: a name on an array is missing, so the journey stops there', () => {
    // The script's old reader took items["0"] of an object keyed "0"; the engine never did.
    const { k6, sent, checks } = fakeK6(() => ({ items: { 0: { id: 'p-1' } } }));
    createRuntime(k6, config).runJourney('browse', 'web');
    expect(sent).toHaveLength(1);
    expect(checks['list extracts id']).toBe(false);
  });

  it('keeps a whole-template value’s type and renders missing values empty', () => {
    expect(render('{{n}}', { n: 3 }, false)).toBe(3);
    expect(render('a-{{missing}}-b', {}, false)).toBe('a--b');
  });
});

describe('the bundle exported scripts carry', () => {
  it('holds the runtime, the JSON-path reader and the CSV reader', () => {
    const modules = [...k6RuntimeBundle().matchAll(/^ {2}\/\/ (\S+\.ts)$/gm)].map((m) => m[1]);
    expect(new Set(modules)).toEqual(
      new Set(['scenarios/k6-runtime.ts', 'core/json-path-reader.ts', 'scenarios/csv.ts']),
    );
  });

  it('minified, is one line (a TypeScript script marks that one line @ts-ignore)', () => {
    expect(k6RuntimeBundle(true)).not.toContain('\n');
    const run = new Function(`${k6RuntimeBundle(true)}\nreturn PEAKDAY_RUNTIME;`)() as {
      parseCsv: (t: string) => unknown;
    };
    expect(run.parseCsv('id,name\n1,"a, b"\n')).toEqual([{ id: '1', name: 'a, b' }]);
  });
});
