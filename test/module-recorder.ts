/**
 * Preloaded into a child process (`node --import tsx --import <this file>`) to record which
 * CommonJS modules it loaded: at exit it writes the paths in `require.cache` to the file named by
 * PEAKDAY_TEST_MODULES_OUT. The AWS SDK's packages load as CommonJS (their `main`), so a test can
 * tell whether a process ever loaded one.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const out = process.env.PEAKDAY_TEST_MODULES_OUT;
if (out) {
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    writeFileSync(out, JSON.stringify(Object.keys(require.cache)));
  });
}
