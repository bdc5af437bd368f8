/**
 * Bundles the replica (parent-watch.ts + the worker module) into one plain ESM file once
 * per stack start, so each replica process starts as `node bundle.mjs` instead of compiling TypeScript
 * through tsx: measured here, `node --import tsx` costs ~0.75 s of CPU per process against ~0.15 s for
 * plain node, and a headless stack starts 17 replicas on a 2-core host.
 *
 * Pure-JS packages (undici, graphql) are bundled too: loading their many CommonJS files cost each
 * replica CPU at start. Native better-sqlite3 stays external (resolved from the repository's
 * node_modules: the bundle is written under node_modules/.cache/peakday/), there is no source map
 * (stack traces in replicas.log name bundle lines), and every `import.meta.url`/`dirname`/`filename` in a bundled file is
 * replaced by that source file's own, so modules that read files beside themselves keep working.
 * If bundling fails, replicas fall back to tsx (slower, same behaviour).
 */
import { readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isProcessAlive } from './state.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const WATCH = fileURLToPath(new URL('./parent-watch.ts', import.meta.url));

/** Where bundles go: inside the repository so that bare imports resolve to its node_modules. */
export const BUNDLE_DIR = join(REPO, 'node_modules', '.cache', 'peakday');

/** Builds the bundle for a worker module (path or file URL); resolves with the bundle's path. */
export async function buildReplicaBundle(workerModule: string, name: string): Promise<string> {
  removeStaleBundles();
  const esbuild = await import('esbuild');
  const worker = workerModule.startsWith('file:') ? fileURLToPath(workerModule) : workerModule;
  const outfile = join(BUNDLE_DIR, `${name}.mjs`);
  const stdin = [
    `import ${JSON.stringify(WATCH)};`, // installs the parent watch first
    `import ${JSON.stringify(worker)};`,
  ].join('\n');
  await esbuild.build({
    stdin: { contents: stdin, resolveDir: REPO, sourcefile: 'replica-bundle-entry.ts', loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Pure-JS packages are bundled: resolving and loading undici's and graphql's many CommonJS files
    // costs each replica CPU at start. Native ones (better-sqlite3) and esbuild stay external. No
    // source map: an inline one makes every replica read and scan megabytes more.
    external: ['better-sqlite3', 'esbuild'],
    banner: {
      js: "import { createRequire as __peakdayCreateRequire } from 'node:module'; const require = __peakdayCreateRequire(import.meta.url);",
    },
    outfile,
    logLevel: 'silent',
    sourcemap: false,
    plugins: [
      {
        name: 'keep-import-meta',
        setup(build) {
          build.onLoad({ filter: /\.(ts|mts|js|mjs)$/ }, async (args) => {
            if (args.path.includes(`${join('node_modules', '')}`)) return undefined;
            const src = await readFile(args.path, 'utf8');
            const url = pathToFileURL(args.path).href;
            const contents = src
              .replaceAll('import.meta.url', JSON.stringify(url))
              .replaceAll('import.meta.dirname', JSON.stringify(dirname(args.path)))
              .replaceAll('import.meta.filename', JSON.stringify(args.path));
            return {
              contents,
              loader: args.path.endsWith('.ts') || args.path.endsWith('.mts') ? 'ts' : 'js',
            };
          });
        },
      },
    ],
  });
  return outfile;
}

/** Removes bundles left by stacks whose process is gone (a SIGKILLed supervisor cannot clean up). */
export function removeStaleBundles(): void {
  let names: string[] = [];
  try {
    names = readdirSync(BUNDLE_DIR);
  } catch {
    return;
  }
  for (const n of names) {
    const pid = /^replica-(\d+)-/.exec(n)?.[1];
    if (pid !== undefined && !isProcessAlive(Number(pid))) rmSync(join(BUNDLE_DIR, n), { force: true });
  }
}
