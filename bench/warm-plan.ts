import type { StorageCounts } from './storage';

/** What the warm benchmark's parent and its handler process say to each other. */
export const SIDES = ['http', 'sameCalls', 'baseline'] as const;
export type Side = (typeof SIDES)[number];

export interface WarmPlan {
  /** Which sides run: both interleaved in blocks, or one alone (for its memory). */
  sides: Side[];
  warmup: number;
  blockSize: number;
  blocksPerSide: number;
  /** Sandbox persons for each side, one per request (warm-up included). */
  persons: Record<Side, string[]>;
}

export interface SideResult {
  latenciesMs: number[];
  cpuUserUs: number;
  cpuSystemUs: number;
  requests: number;
  failures: string[];
  storage: StorageCounts;
}

export interface WarmResult {
  sides: Partial<Record<Side, SideResult>>;
  rss: number;
  heapUsed: number;
  rssBefore: number;
}
