/**
 * The validated profile model: what `scenarios/profile-parser.ts` produces from a profile YAML and
 * what the pure `compilePlan` (scenarios/compile.ts) consumes. Times are event seconds; shapes are
 * relative levels (the baseline block is the unit); channel shares are shares of HTTP requests.
 * docs/profiles.md documents the YAML form of every field.
 */
import type { Journey } from './journey.ts';
import type { PlanWindow } from './plan.ts';
import type { PiecewiseLinear } from './rate-function.ts';
import type { ShapeSpec } from './shapes/shape.ts';

/** A channel: its share of requests over the event and its weighted mix of journeys (iterations). */
export interface ChannelModel {
  name: string;
  /** Share of HTTP requests as a function of event time (constant when given as a number). */
  share: PiecewiseLinear;
  /** Journey name → relative weight of iterations within the channel. */
  journeys: Record<string, number>;
}

/** A user data pool read from a CSV or JSON file (resolved relative to the profile file). */
export interface UserPoolModel {
  name: string;
  file: string;
  format: 'csv' | 'json';
}

/** The rates a profile runs at locally when neither `--peak-rps` nor `--baseline-rps` is given. */
export interface LocalDefaults {
  /** Wall-clock HTTP requests per second at the profile's highest level. */
  peakRps?: number;
  /** Wall-clock HTTP requests per second at the baseline level. */
  baselineRps?: number;
  /** Default wall-clock length of a run, seconds. */
  durationSeconds: number;
}

/** A validated profile. */
export interface ProfileModel {
  name: string;
  description: string;
  /** The real event's length in event seconds. */
  eventSeconds: number;
  /** Building blocks in the order they compose (noise is applied last wherever it is written). */
  shape: ShapeSpec[];
  channels: ChannelModel[];
  /** Every journey a channel uses, resolved (built-in or defined in the profile). */
  journeys: Record<string, Journey>;
  /** Windows declared under `windows:` (bursts with `window: true` add theirs at compile time). */
  windows: PlanWindow[];
  /** Windows a rehearsal plays by default when the whole event is too long to play live. */
  rehearsal: string[];
  local: LocalDefaults;
  pools: UserPoolModel[];
  /** Base URL of the system under test, when the profile targets something other than the reference stack. */
  target?: { baseUrl: string };
  /** Where the profile's figures come from, and which are assumptions. */
  sources: string[];
  assumptions: string[];
}

/** A profile as loaded from a file: the model plus where it came from. */
export interface LoadedProfile {
  model: ProfileModel;
  /** The file it was read from. */
  file: string;
  /** True when it is one of scenarios/profiles/*.yaml. */
  builtin: boolean;
  /** sha256 (hex, first 16) of the file text, so a run records exactly which profile it played. */
  hash: string;
}
