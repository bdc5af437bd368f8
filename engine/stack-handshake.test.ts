import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode, PeakdayError } from '../core/errors.ts';
import { handshakeNotes } from './run.ts';
import { handshakeStack, requireStackClock } from './stack-handshake.ts';
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

  it('goes on when nothing listens, saying it could not ask', async () => {
    const h = await handshakeStack(new URL('http://127.0.0.1:1'), { timeScale: 1, eventStart: 0 }, 500);
    expect(h.stack).toBe(false);
    expect(h.problem).toMatch(/GET \/_peakday\/info gave no answer/);
    expect(handshakeNotes(h).join(' ')).toMatch(/could not tell whether the target is a peakday stack/);
  });
});

/** A stack whose control API answers `/_peakday/info` only after `lateMs` the first `late` times. */
async function slowStack(late: number, lateMs: number, clockStatus = 200): Promise<TestServer> {
  let asked = 0;
  const s = await startTestServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.url === '/_peakday/info') {
      const answer = () => res.end(JSON.stringify({ peakday: true }));
      if (asked++ < late) setTimeout(answer, lateMs);
      else answer();
    } else {
      res.statusCode = clockStatus;
      res.end(
        clockStatus === 200
          ? '{}'
          : '{"error":{"code":"clock-refused","message":"the event already started"}}',
      );
    }
  });
  servers.push(s);
  return s;
}

describe('the handshake with a rehearsal’s own stack', () => {
  const clock = { timeScale: 30, eventStart: 0 };

  it('asks again when the stack answers late, and sets its clock', async () => {
    const s = await slowStack(1, 3000);
    // undici's timeouts tick about once a second: 1 s is the finest that fires before the answer.
    const h = await requireStackClock(new URL(s.url), clock, { timeoutMs: 1000, tries: 3 });
    expect(h).toMatchObject({ stack: true, clockSet: true });
    expect(s.received.requests.filter((r) => r.url === '/_peakday/info')).toHaveLength(2);
  });

  it('stops before the load when the stack never answers in time', async () => {
    const s = await slowStack(5, 3000);
    const e = await requireStackClock(new URL(s.url), clock, { timeoutMs: 1000, tries: 2 }).catch((x) => x);
    expect(e).toBeInstanceOf(PeakdayError);
    expect(e.code).toBe('stack-clock-unset');
    expect(e.exitCode).toBe(ExitCode.environment);
    expect(e.message).toMatch(
      /did not take the run's event clock after 2 tries of 1 s: GET \/_peakday\/info gave no answer/,
    );
    expect(s.received.requests.some((r) => r.url === '/_peakday/clock')).toBe(false);
  });

  it('stops at once, with the stack’s own words, when it refuses the clock', async () => {
    const s = await slowStack(0, 0, 409);
    const e = await requireStackClock(new URL(s.url), clock, { timeoutMs: 500, tries: 3 }).catch((x) => x);
    expect(e.code).toBe('stack-clock-unset');
    expect(e.message).toMatch(/answered 409: clock-refused: the event already started/);
    expect(s.received.requests.filter((r) => r.url === '/_peakday/clock')).toHaveLength(1);
  });
});
