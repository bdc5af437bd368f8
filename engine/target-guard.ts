/**
 * The target guard: load goes to loopback only, unless the user names the host explicitly
 * (`--allow-host HOST` or `allowedHosts` in peakday.config.yaml). A load test pointed at the wrong
 * host by a typo is an incident; this makes that impossible by default.
 */
import { isIP } from 'node:net';
import { invalidInput, PeakdayError } from '../core/errors.ts';

const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost', 'ip6-loopback']);

/** True for 127.0.0.0/8, ::1 and localhost names. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (LOOPBACK_NAMES.has(h) || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Checks a target URL and returns its origin; throws (exit 2) for an unparsable URL, a scheme other
 * than http(s), or a non-loopback host that is not allowed.
 */
export function checkTarget(target: string, allowedHosts: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw invalidInput(
      'target-invalid',
      `--target ${target} is not a URL`,
      'give a URL like http://127.0.0.1:8080',
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidInput(
      'target-invalid',
      `--target must be http or https, got ${url.protocol}`,
      'e.g. http://127.0.0.1:8080',
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const allowed = allowedHosts.map((h) => h.toLowerCase());
  if (!isLoopbackHost(host) && !allowed.includes(host)) {
    throw new PeakdayError(
      'target-not-allowed',
      `refusing to send load to ${host}: only loopback targets are allowed by default, so that a typo never loads someone else's system`,
      {
        hint: `if ${host} is yours and you mean to load it, add --allow-host ${host} (or list it under allowedHosts in peakday.config.yaml)`,
      },
    );
  }
  return url;
}
