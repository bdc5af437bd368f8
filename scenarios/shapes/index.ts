/**
 * The registry of shape building blocks: a profile's `shape:` list names a block by its key
 * (`- burst: {...}`), and the parser and compiler find it here, never through an if/else chain.
 */
import { baselineBlock } from './baseline.ts';
import { burstBlock } from './burst.ts';
import { diurnalBlock } from './diurnal.ts';
import { noiseBlock } from './noise.ts';
import { pauseBlock } from './pause.ts';
import { scheduleBlock } from './schedule.ts';
import type { ShapeBlock } from './shape.ts';
import { trendBlock } from './trend.ts';

/** Every building block by its YAML key. */
export const shapeBlocks = {
  baseline: baselineBlock,
  diurnal: diurnalBlock,
  trend: trendBlock,
  burst: burstBlock,
  schedule: scheduleBlock,
  pause: pauseBlock,
  noise: noiseBlock,
  // biome-ignore lint/suspicious/noExplicitAny: each block has its own settings type
} satisfies Record<string, ShapeBlock<any>>;

/** A block's YAML key. */
export type ShapeType = keyof typeof shapeBlocks;

/** The block keys, for hints. */
export const SHAPE_TYPES = Object.keys(shapeBlocks) as ShapeType[];
