import { defineConfig } from 'vitest/config';

// PEAKDAY_TEST_JSON (set by .ci/run) adds a JSON report so CI can print a plain "N passed, N failed" line.
const json = process.env.PEAKDAY_TEST_JSON;

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'runs/**', 'infra/cdk.out/**', 'infra/node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: json ? ['default', 'json'] : ['default'],
    outputFile: json ? { json } : undefined,
  },
});
