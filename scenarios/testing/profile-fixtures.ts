/**
 * Helpers for tests of profiles: build a LoadedProfile from inline YAML text, exactly as loadProfile
 * would from a file, so tests state their input next to their assertions.
 */
import { parseYamlSource } from '../../core/yaml-source.ts';
import { builtinJourneys } from '../profile.ts';
import type { LoadedProfile } from '../profile-model.ts';
import { parseProfile } from '../profile-parser.ts';

/** Parses inline profile YAML (file name `inline.yaml` in problems). */
export function profileFromText(text: string, env: Record<string, string | undefined> = {}): LoadedProfile {
  const src = parseYamlSource(text, 'inline.yaml', 'profile-invalid');
  return {
    model: parseProfile(src, { builtinJourneys: builtinJourneys(), env }),
    file: 'inline.yaml',
    builtin: false,
    hash: 'test',
  };
}

/** A minimal valid profile body, with `shape` and `channels` replaceable. */
export function minimalProfile(
  parts: { event?: string; local?: string; shape?: string; channels?: string; extra?: string } = {},
): string {
  return [
    'name: test-profile',
    `event: { duration: ${parts.event ?? '1h'} }`,
    `local: ${parts.local ?? '{ peakRps: 100, duration: 2m }'}`,
    'shape:',
    parts.shape ?? '  - baseline: { level: 1 }',
    'channels:',
    parts.channels ?? '  web: { share: 1, journeys: { browse: 1, checkout: 1 } }',
    parts.extra ?? '',
  ].join('\n');
}
