import { describe, expect, it } from 'vitest';
import {
  computeProbeWallTimeoutMs,
  computeTargetHealth,
  defaultTargetHealthCheck,
  type HealthCheckResult,
  serviceEventMessages,
} from './target-health.ts';

const check = defaultTargetHealthCheck();
const fail: HealthCheckResult = { ok: false, reason: 'Target.Timeout' };

describe('target health checks', () => {
  it('uses the ALB defaults: a 5-s timeout and 2 failures', () => {
    expect(check).toMatchObject({ timeoutSeconds: 5, unhealthyThreshold: 2 });
  });

  it.each([
    ['compresses the timeout at a small time scale', 1, 5_000],
    ['compresses it at 2x', 2, 2_500],
    ['keeps the wall floor at 60x', 60, 1_000],
  ])('%s', (_name, scale, ms) => {
    expect(computeProbeWallTimeoutMs(check, scale)).toBe(ms);
  });

  it.each([
    ['one failure leaves a target in service', 0, fail, 1, false],
    ['a second consecutive failure makes it unhealthy', 1, fail, 2, true],
    ['a pass resets the count', 1, { ok: true } as HealthCheckResult, 0, false],
  ])('%s', (_name, failures, result, next, unhealthy) => {
    expect(computeTargetHealth(failures, result, check)).toEqual({ failures: next, unhealthy });
  });

  it('writes ECS-style messages', () => {
    expect(serviceEventMessages.unhealthy('cart', 3, 'Target.Timeout')).toBe(
      '(service cart) (task 3) is unhealthy in (target-group cart) due to (reason Request timed out).',
    );
    expect(serviceEventMessages.started('cart', 5, 3)).toBe(
      '(service cart) has started 1 tasks: (task 5). It replaces (task 3).',
    );
  });
});
