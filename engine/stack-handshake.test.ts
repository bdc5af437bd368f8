import { afterEach, describe, expect, it } from 'vitest';
import { handshakeStack } from './stack-handshake.ts';
import { startTestServer, type TestServer } from './test-support.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()?.close();
});

describe('the stack handshake', () => {
  it('tells a peakday stack the run’s clock', async () => {
    const s = await startTestServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/_peakday/info') res.end(JSON.stringify({ peakday: true, kind: 'peakday-stack' }));
      else res.end('{}');
    });
    servers.push(s);
    const h = await handshakeStack(new URL(s.url), { timeScale: 30, eventStart: 3600 });
    expect(h).toMatchObject({ stack: true, clockSet: true });
    const post = s.received.requests.find((r) => r.url === '/_peakday/clock');
    expect(post?.method).toBe('POST');
    expect(JSON.parse(post?.body ?? '')).toEqual({ timeScale: 30, eventStart: 3600 });
  });

  it.each([
    [
      'answers 404',
      (_q: unknown, res: { statusCode: number; end: (s: string) => void }) => {
        res.statusCode = 404;
        res.end('not found');
      },
    ],
    [
      'answers JSON that is not a stack',
      (_q: unknown, res: { statusCode: number; end: (s: string) => void }) => res.end('{"ok":true}'),
    ],
  ])('goes on without the stack when the target %s', async (_name, handler) => {
    const s = await startTestServer(handler as never);
    servers.push(s);
    expect(await handshakeStack(new URL(s.url), { timeScale: 1, eventStart: 0 })).toEqual({ stack: false });
    expect(s.received.requests.some((r) => r.url === '/_peakday/clock')).toBe(false);
  });

  it('goes on when nothing listens', async () => {
    expect(await handshakeStack(new URL('http://127.0.0.1:1'), { timeScale: 1, eventStart: 0 }, 500)).toEqual(
      { stack: false },
    );
  });
});
