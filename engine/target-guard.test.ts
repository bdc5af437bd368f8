import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../core/errors.ts';
import { checkTarget, isLoopbackHost } from './target-guard.ts';

describe('the target guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['localhost', true],
    ['[::1]', true],
    ['::1', true],
    ['app.localhost', true],
    ['10.0.0.1', false],
    ['192.168.1.4', false],
    ['example.com', false],
    ['128.0.0.1', false],
  ])('treats %s as loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('accepts loopback targets without being told', () => {
    expect(checkTarget('http://127.0.0.1:8080/base', []).origin).toBe('http://127.0.0.1:8080');
  });

  it('refuses a non-loopback host that is not allowed, explaining why and how', () => {
    let err: unknown;
    try {
      checkTarget('https://shop.example.com', []);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PeakdayError);
    const p = err as PeakdayError;
    expect(p.code).toBe('target-not-allowed');
    expect(p.exitCode).toBe(2);
    expect(p.message).toMatch(/only loopback/);
    expect(p.hint).toMatch(/--allow-host shop.example.com/);
  });

  it('accepts a host named by --allow-host or the config, case-insensitively', () => {
    expect(checkTarget('https://Shop.Example.com/', ['shop.example.com']).hostname).toBe('shop.example.com');
  });

  it.each(['not a url', 'ftp://127.0.0.1/'])('rejects %s as a target', (t) => {
    expect(() => checkTarget(t, [])).toThrow(/target/);
  });
});
