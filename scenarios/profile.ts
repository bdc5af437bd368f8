/**
 * Loading profiles: the I/O edge in front of the pure parser and compiler. `loadProfile` takes a
 * built-in name (scenarios/profiles/<name>.yaml) or a path, reads it with positions, resolves
 * journeys against the built-in library (scenarios/journeys/builtin.yaml) and returns the validated
 * model. Every bad input is one PeakdayError (exit 2) listing each problem located.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidInput } from '../core/errors.ts';
import { createChecker, readYamlSource } from '../core/yaml-source.ts';
import { BUILTIN_POOL_NAMES } from './data-pools.ts';
import type { Journey } from './journey.ts';
import type { LoadedProfile } from './profile-model.ts';
import { parseJourneys, parseProfile } from './profile-parser.ts';

export type { LoadedProfile } from './profile-model.ts';

/** Directory of the built-in profiles. */
export const PROFILES_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));
/** The built-in journey library every profile can use by name. */
export const BUILTIN_JOURNEYS_FILE = fileURLToPath(new URL('./journeys/builtin.yaml', import.meta.url));

let builtinCache: Record<string, Journey> | undefined;

/** The built-in journeys (browse, search, product-page, ..., and the mobile app's GraphQL ones). */
export function builtinJourneys(): Record<string, Journey> {
  if (builtinCache) return builtinCache;
  const src = readYamlSource(BUILTIN_JOURNEYS_FILE, 'journeys-invalid');
  const c = createChecker(src, 'journeys-invalid', 'journey library');
  const root = c.object([], src.data, ['journeys']);
  const journeys = root
    ? parseJourneys(c, ['journeys'], root.journeys, BUILTIN_POOL_NAMES, PROFILES_DIR, {})
    : {};
  c.throwIfAny();
  builtinCache = journeys;
  return journeys;
}

/** Built-in profiles: name, one-line description and file. */
export function listProfiles(): { name: string; description: string; file: string }[] {
  return readdirSync(PROFILES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(PROFILES_DIR, f);
      const src = readYamlSource(file, 'profile-invalid');
      const d = (src.data ?? {}) as { description?: unknown };
      return {
        name: basename(f, '.yaml'),
        description: typeof d.description === 'string' ? d.description : '',
        file,
      };
    });
}

/** Resolves a built-in name or a path to a file, or explains what exists. */
export function resolveProfileFile(nameOrFile: string): { file: string; builtin: boolean } {
  const builtin = join(PROFILES_DIR, `${nameOrFile}.yaml`);
  if (/^[a-z0-9-]+$/.test(nameOrFile) && existsSync(builtin)) return { file: builtin, builtin: true };
  if (existsSync(nameOrFile)) return { file: nameOrFile, builtin: false };
  const names = listProfiles().map((p) => p.name);
  throw invalidInput(
    'profile-not-found',
    `no built-in profile or file named "${nameOrFile}"`,
    `built-in profiles: ${names.join(', ')}; or give a path to a YAML file`,
  );
}

/** Loads and validates a profile by built-in name or path (throws PeakdayError exit 2 on bad input). */
export function loadProfile(
  nameOrFile: string,
  opts: { env?: Record<string, string | undefined> } = {},
): LoadedProfile {
  const { file, builtin } = resolveProfileFile(nameOrFile);
  const src = readYamlSource(file, 'profile-invalid');
  const model = parseProfile(src, {
    builtinJourneys: builtinJourneys(),
    ...(opts.env ? { env: opts.env } : {}),
  });
  const hash = createHash('sha256').update(src.text).digest('hex').slice(0, 16);
  return { model, file, builtin, hash };
}
